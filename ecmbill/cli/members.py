"""``ecmbill members``: a member's ECM lifecycle (enroll, discontinue, lead care manager,
status) and whether they may be reported unable to reach."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from ecmbill.cli.app import (
    ContractOption,
    DatabaseOption,
    app,
    console,
    contract_for,
    errors,
    fail,
    parse_day,
    store,
)
from ecmbill.domain import values
from ecmbill.members import lifecycle
from ecmbill.store.audit import cli_actor

members_app = typer.Typer(
    help="Members: ECM status, enrollment, lead care manager, unable to reach.",
    no_args_is_help=True,
)
app.add_typer(members_app, name="members")


def _member(member_id: str) -> str:
    try:
        return values.member_id(member_id)
    except values.FieldError as err:
        fail(f"member_id {err}")


@contextmanager
def _refusal_shown() -> Iterator[None]:
    """A change the lifecycle rules refuse ends the command with the reason (exit status 1)."""
    try:
        yield
    except lifecycle.LifecycleError as err:
        errors.print(f"[bold red]refused:[/] {err}", highlight=False)
        for missing in err.missing:
            errors.print(f"  - {missing}", highlight=False)
        raise typer.Exit(1) from None


@members_app.command("utr")
def unable_to_reach(
    member_id: Annotated[str, typer.Argument(help="The member's Medi-Cal CIN.")],
    report_it: Annotated[
        bool,
        typer.Option(
            "--report",
            help="Record the member as unable to reach, if the contract's rule allows it.",
        ),
    ] = False,
    on: Annotated[str | None, typer.Option("--on", help="Date to report (default today).")] = None,
    database: DatabaseOption = None,
    contract: ContractOption = None,
) -> None:
    """May this member be reported unable to reach? If not, which attempts are missing."""
    engine = store(database)
    terms = contract_for(engine, contract)
    member_id = _member(member_id)
    day = parse_day(on, "--on")
    check = lifecycle.check_unable_to_reach(engine, member_id, terms)
    if not check.member_known or check.decision is None:
        fail("no member with that member_id")
    if report_it and check.decision.allowed and not check.reported_on:
        try:
            check = lifecycle.unable_to_reach(engine, member_id, day, terms, cli_actor())
        except lifecycle.LifecycleError as err:
            fail(f"not recorded: {err}", code=1)
    decision = check.decision
    assert decision is not None
    console.print(f"Outreach attempts that count: {len(decision.counted)}")
    for attempt in decision.counted:
        console.print(f"  {attempt.on.isoformat()}  {attempt.method}  {attempt.outcome.value}")
    if decision.allowed:
        if check.reported_on:
            console.print(f"[green]Reported unable to reach on {check.reported_on}.[/]")
        else:
            console.print("[green]May be reported unable to reach[/] (use --report to record it).")
        return
    console.print("[yellow]May not be reported unable to reach yet:[/]")
    for missing in decision.missing:
        console.print(f"  - {missing}")
    raise typer.Exit(1)


@members_app.command("enroll")
def enroll_command(
    member_id: Annotated[str, typer.Argument(help="The member's Medi-Cal CIN.")],
    on: Annotated[
        str | None, typer.Option("--on", help="Enrollment start (default today).")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Enroll a member in ECM from a date: services bill from then on."""
    engine = store(database)
    with _refusal_shown():
        lifecycle.enroll(engine, _member(member_id), parse_day(on, "--on"), cli_actor())
    console.print("Enrolled.")


@members_app.command("discontinue")
def discontinue_command(
    member_id: Annotated[str, typer.Argument(help="The member's Medi-Cal CIN.")],
    reason: Annotated[str, typer.Option("--reason", help="Discontinuation reason code.")],
    on: Annotated[str | None, typer.Option("--on", help="Last day of ECM (default today).")] = None,
    database: DatabaseOption = None,
    contract: ContractOption = None,
) -> None:
    """End a member's ECM with a reason code from the contract; the enrollment span closes."""
    engine = store(database)
    terms = contract_for(engine, contract)
    with _refusal_shown():
        lifecycle.discontinue(
            engine, _member(member_id), parse_day(on, "--on"), reason.strip(), terms, cli_actor()
        )
    console.print(f"Discontinued: {terms.discontinuation_reasons[reason.strip()]}.")


@members_app.command("assign-lcm")
def assign_lcm_command(
    member_id: Annotated[str, typer.Argument(help="The member's Medi-Cal CIN.")],
    staff_id: Annotated[str, typer.Argument(help="The lead care manager's staff_id.")],
    start: Annotated[str | None, typer.Option("--from", help="From (default today).")] = None,
    phone: Annotated[str | None, typer.Option(help="Their phone, for the RTF.")] = None,
    email: Annotated[str | None, typer.Option(help="Their e-mail, for the RTF.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Make a staff member the member's lead care manager from a date."""
    engine = store(database)
    with _refusal_shown():
        lifecycle.assign_lead_care_manager(
            engine,
            _member(member_id),
            staff_id.strip(),
            parse_day(start, "--from"),
            cli_actor(),
            phone=phone,
            email=email,
        )
    console.print("Lead care manager assigned.")


@members_app.command("status")
def status_command(
    member_id: Annotated[str, typer.Argument(help="The member's Medi-Cal CIN.")],
    on: Annotated[str | None, typer.Option("--on", help="Date (default today).")] = None,
    database: DatabaseOption = None,
) -> None:
    """A member's ECM status on a date: assigned, outreach, enrolled, discontinued or unable
    to reach."""
    engine = store(database)
    standing = lifecycle.member_status(engine, _member(member_id), parse_day(on, "--on"))
    if standing is None:
        fail("no ECM status recorded for that member by that date")
    since = f" since {standing.since.isoformat()}" if standing.since else ""
    console.print(
        f"{standing.status.value}{since}" + (f" ({standing.reason})" if standing.reason else "")
    )
