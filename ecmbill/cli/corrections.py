"""Correcting what was recorded wrong, from the command line: an enrollment span, a role
period, an eligibility month (``members correct-span``, ``staff correct-role``, ``members
correct-eligibility``), and a time entry or outreach attempt recorded in error (``time delete``,
``outreach delete``). Each says why it was made (``--reason``, audited) and is followed by the
months it changes for billing, rated before and after."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table

from ecmbill.cli.app import (
    ContractOption,
    DatabaseOption,
    app,
    console,
    errors,
    fail,
    parse_day,
    parse_period,
    plans_for,
    store,
)
from ecmbill.cli.members import _member, members_app
from ecmbill.domain import values
from ecmbill.domain.lines import ClaimLine
from ecmbill.domain.vocabulary import Role
from ecmbill.fieldwork import outreach as field_outreach
from ecmbill.fieldwork import time as field_time
from ecmbill.members import corrections
from ecmbill.members.corrections import KEEP, Correction, CorrectionError
from ecmbill.store import fieldwork as stored_work
from ecmbill.store import members as stored_members
from ecmbill.store.audit import cli_actor

staff_app = typer.Typer(help="Staff: role periods and their corrections.", no_args_is_help=True)
time_app = typer.Typer(help="Time entries: delete one recorded in error.", no_args_is_help=True)
outreach_app = typer.Typer(
    help="Outreach attempts: delete one recorded in error.", no_args_is_help=True
)
app.add_typer(staff_app, name="staff")
app.add_typer(time_app, name="time")
app.add_typer(outreach_app, name="outreach")

ReasonOption = Annotated[
    str, typer.Option("--reason", help="Why the record is corrected (kept in the audit log).")
]
OPEN = "open"


def _lines(lines: tuple[ClaimLine, ...]) -> str:
    return (
        ", ".join(
            f"{line.code} {' '.join(line.modifiers)} x{line.units}".replace("  ", " ")
            for line in lines
        )
        or "nothing billed"
    )


def show_correction(correction: Correction) -> None:
    """What was corrected, then each month it changes for billing: rated before and after,
    and what its next close does."""
    console.print(f"Corrected: {correction.what}.", highlight=False)
    if not correction.effects:
        console.print("No billed month changes (no recorded work in the months it touches).")
        return
    table = Table("member", "month", "before", "after", "next step", title="Months re-rated")
    for effect in correction.effects:
        if not effect.closed:
            step = "open: billed at its close"
        elif effect.changed:
            step = f"closed: `ecmbill close --period {effect.month}` sends a replacement or void"
        else:
            step = "closed: the claim stands"
        table.add_row(
            effect.member_id, str(effect.month), _lines(effect.before), _lines(effect.after), step
        )
    console.print(table)


@contextmanager
def _refusal_shown() -> Iterator[None]:
    try:
        yield
    except CorrectionError as err:
        errors.print(f"[bold red]refused:[/] {err}", highlight=False)
        raise typer.Exit(1) from None


def _day_or_open(text: str | None, option: str) -> Any:
    """A date typed after ``option``, ``open`` for an open end or start, or KEEP if none."""
    if text is None:
        return KEEP
    if text.strip().lower() == OPEN:
        return None
    return parse_day(text, option)


def _correct(
    run: Callable[..., Correction], database: str | None, contract: Any, **kw: Any
) -> None:
    engine = store(database)
    terms = plans_for(engine, contract)
    with _refusal_shown():
        correction = run(engine, terms, actor=cli_actor(), **kw)
    show_correction(correction)


@members_app.command("spans")
def spans_command(
    member_id: Annotated[str, typer.Argument(help="The member's Medi-Cal CIN.")],
    database: DatabaseOption = None,
) -> None:
    """A member's enrollment spans and eligibility months, as stored."""
    engine = store(database)
    member = _member(member_id)
    table = Table("start", "end", title="Enrollment spans")
    for span in stored_members.enrollments(engine, member):
        table.add_row(span.start_date.isoformat(), str(span.end_date or OPEN))
    console.print(table)
    months = stored_members.eligibility(engine, member)
    console.print(
        "Eligibility: "
        + (", ".join(f"{e.month} {'yes' if e.eligible else 'no'}" for e in months) or "none")
    )


@members_app.command("correct-span")
def correct_span_command(
    member_id: Annotated[str, typer.Argument(help="The member's Medi-Cal CIN.")],
    start: Annotated[str, typer.Argument(help="The stored span's start date (see `spans`).")],
    reason: ReasonOption,
    new_start: Annotated[str | None, typer.Option("--start", help="The right start.")] = None,
    new_end: Annotated[
        str | None, typer.Option("--end", help="The right end, or 'open' for none.")
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="The span was keyed in error.")] = False,
    database: DatabaseOption = None,
    contract: ContractOption = None,
) -> None:
    """Correct the start or end of an enrollment span, or remove it."""
    if new_start is not None and new_start.strip().lower() == OPEN:
        fail("--start: an enrollment span starts on a date")
    _correct(
        corrections.correct_span,
        database,
        contract,
        member_id=_member(member_id),
        start=parse_day(start, "START"),
        new_start=_day_or_open(new_start, "--start"),
        new_end=_day_or_open(new_end, "--end"),
        remove=remove,
        reason=reason,
    )


@members_app.command("correct-eligibility")
def correct_eligibility_command(
    member_id: Annotated[str, typer.Argument(help="The member's Medi-Cal CIN.")],
    month: Annotated[str, typer.Argument(help="The month, YYYY-MM.")],
    reason: ReasonOption,
    eligible: Annotated[
        str | None, typer.Option("--eligible", help="yes or no, as the plan now says.")
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="The month was keyed in error.")] = False,
    plan: Annotated[
        str | None,
        typer.Option("--plan", help="The plan whose eligibility it is (default: the first)."),
    ] = None,
    database: DatabaseOption = None,
    contract: ContractOption = None,
) -> None:
    """Correct a member's eligibility for one month (with one plan), or remove the month."""
    if (eligible is None) == (not remove):
        fail("give --eligible yes|no, or --remove")
    flag = None
    if eligible is not None:
        try:
            flag = values.flag(eligible)
        except values.FieldError as err:
            fail(f"--eligible {err}")
    _correct(
        corrections.correct_eligibility,
        database,
        contract,
        member_id=_member(member_id),
        month=parse_period(month),
        eligible=flag,
        reason=reason,
        plan=plan.lower() if plan else None,
    )


@staff_app.command("roles")
def roles_command(
    staff_id: Annotated[str, typer.Argument(help="The staff member's staff_id.")],
    database: DatabaseOption = None,
) -> None:
    """A staff member's role periods, as stored."""
    periods = stored_work.staff_roles(store(database)).get(staff_id.strip(), [])
    table = Table("from", "to", "role", title="Role periods")
    for start, end, role in sorted(periods, key=lambda p: p[0] or date.min):
        table.add_row(str(start or OPEN), str(end or OPEN), role)
    console.print(table)


@staff_app.command("correct-role")
def correct_role_command(
    staff_id: Annotated[str, typer.Argument(help="The staff member's staff_id.")],
    start: Annotated[
        str, typer.Argument(help="The stored period's effective_from, or 'open' (see `roles`).")
    ],
    reason: ReasonOption,
    new_from: Annotated[
        str | None, typer.Option("--from", help="The right start, or 'open' for none.")
    ] = None,
    new_to: Annotated[
        str | None, typer.Option("--to", help="The right end, or 'open' for none.")
    ] = None,
    role: Annotated[Role | None, typer.Option("--role", help="The right role.")] = None,
    remove: Annotated[
        bool, typer.Option("--remove", help="The period was keyed in error.")
    ] = False,
    database: DatabaseOption = None,
    contract: ContractOption = None,
) -> None:
    """Correct the start, end or role of a staff member's role period, or remove it."""
    stored_start = _day_or_open(start, "START")
    _correct(
        corrections.correct_role,
        database,
        contract,
        staff_id=staff_id.strip(),
        start=stored_start,
        new_from=_day_or_open(new_from, "--from"),
        new_to=_day_or_open(new_to, "--to"),
        role=KEEP if role is None else role.value,
        remove=remove,
        reason=reason,
    )


@time_app.command("delete")
def delete_time_command(
    entry_id: Annotated[str, typer.Argument(help="The time entry's id.")],
    reason: ReasonOption,
    database: DatabaseOption = None,
    contract: ContractOption = None,
) -> None:
    """Delete a time entry recorded in error, in any period. In a closed period, closing it
    again sends the replacement or void."""
    _correct(field_time.delete_entry, database, contract, entry_id=entry_id.strip(), reason=reason)


@outreach_app.command("delete")
def delete_outreach_command(
    attempt_id: Annotated[str, typer.Argument(help="The outreach attempt's id.")],
    reason: ReasonOption,
    database: DatabaseOption = None,
    contract: ContractOption = None,
) -> None:
    """Delete an outreach attempt recorded in error, in any period."""
    _correct(
        field_outreach.delete_attempt,
        database,
        contract,
        attempt_id=attempt_id.strip(),
        reason=reason,
    )
