"""Commands for the payer's answers: ``ecmbill ack`` (999 and 277CA acknowledgments, the work
list of rejected claims) and ``ecmbill eligibility`` (270 request, 271 import)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ecmbill.claims.settings import SettingsError
from ecmbill.claims.views import ClaimTimeline, rejected_claims
from ecmbill.cli.app import (
    DatabaseOption,
    PeriodOption,
    app,
    console,
    errors,
    fail,
    parse_period,
    store,
)
from ecmbill.domain.payer import Outcome
from ecmbill.payer.acks import AckFileError, AckOutcome, import_ack
from ecmbill.payer.codes import load_codes
from ecmbill.payer.eligibility import (
    EligibilityFileError,
    EligibilityOutcome,
    NothingToAsk,
    WhosePlan,
    import_271,
    read_member_list,
    request_270,
)
from ecmbill.store.audit import cli_actor

ack_app = typer.Typer(
    help="The payer's acknowledgments of our claims: 999 (file) and 277CA (claim).",
    no_args_is_help=True,
)
eligibility_app = typer.Typer(
    help="Eligibility checks: a 270 request, the payer's 271 answer.", no_args_is_help=True
)
app.add_typer(ack_app, name="ack")
app.add_typer(eligibility_app, name="eligibility")

PlanOption = Annotated[
    str | None,
    typer.Option(
        "--plan",
        help="With several plans: the plan whose payer is asked or answers (`ecmbill plans "
        "list`; a 270 defaults to the first plan, a 271 to the plan whose payer sent it).",
    ),
]
CodesOption = Annotated[
    Path | None,
    typer.Option("--codes", help="Updated status and error code descriptions (TOML).", exists=True),
]


def refused(file: Path, problems: list[str]) -> None:
    errors.print(f"[bold red]error:[/] {file.name} was not imported; nothing changed:")
    for problem in problems:
        errors.print(f"  - {problem}", highlight=False)
    raise typer.Exit(2)


@ack_app.command("import")
def ack_import(
    file: Annotated[Path, typer.Argument(help="A 999 or a 277CA.", exists=True, dir_okay=False)],
    codes: CodesOption = None,
    database: DatabaseOption = None,
) -> None:
    """Import a 999 or a 277CA (told apart by GS08) and post it to our files and claims.

    A bad file is refused whole (exit 2) with the segment and the reason; the same file
    again changes nothing. Rejected claims go to the work list (`ecmbill ack rejected`)."""
    try:
        outcome = import_ack(store(database), file, actor=cli_actor(), codes=load_codes(codes))
    except AckFileError as err:
        refused(file, err.problems)
    show_ack(outcome)


def show_ack(outcome: AckOutcome) -> None:
    if outcome.already_imported:
        console.print(
            f"{outcome.file.name}: this {outcome.kind} was imported before: nothing changed."
        )
        return
    for answer in outcome.sets:
        what = f"group {answer.group}" + (
            f", transaction set {answer.transaction:04d}" if answer.transaction is not None else ""
        )
        whose = f"{len(answer.claims)} claim(s)" if answer.claims else "[yellow]no file of ours[/]"
        console.print(f"999 for {what} ({whose}): [bold]{answer.outcome.value}[/]")
        for reason in answer.reasons[1:]:
            console.print(f"  - {reason}", highlight=False)
    if outcome.kind == "277CA":
        console.print(
            f"277CA: {outcome.count(Outcome.ACCEPTED)} claim(s) accepted, "
            f"{outcome.count(Outcome.REJECTED)} rejected, {outcome.count(Outcome.OTHER)} other."
        )
        for claim in outcome.claims:
            if claim.outcome is Outcome.ACCEPTED and claim.matched:
                continue
            mark = "" if claim.matched else " [yellow](no claim of ours has this number)[/]"
            console.print(f"  {claim.patient_control_number} {claim.outcome.value}{mark}")
            for reason in claim.reasons:
                console.print(f"    - {reason}", highlight=False)
    if outcome.rejected:
        console.print(
            f"[bold]{len(outcome.rejected)} claim(s) rejected[/]: correct what the reason names "
            "and close the period again to send them anew (`ecmbill ack rejected`)."
        )


@ack_app.command("rejected")
def ack_rejected(
    period: Annotated[str | None, typer.Option("--period", help="Only this period.")] = None,
    codes: CodesOption = None,
    database: DatabaseOption = None,
) -> None:
    """The work list: claims the payer rejected (999 or 277CA), not yet sent again, with the
    reasons. Fix what a reason names, then `ecmbill close --period` sends the claim anew."""
    month = parse_period(period) if period else None
    items = rejected_claims(store(database), month, load_codes(codes))
    table = Table("claim", "period", "member", "rejected", "by", "reasons")
    for item in items:
        table.add_row(item.patient_control_number, item.period, item.member_id, str(item.on),
                      item.source, "\n".join(item.reasons))  # fmt: skip
    console.print(table)
    console.print(f"{len(items)} rejected claim(s) to correct and send again.")


def show_timeline(timeline: ClaimTimeline) -> None:
    for step in timeline.steps:
        console.print(f"  {step.on}  {step.event:<22} {step.detail}", highlight=False)
        for reason in step.reasons:
            console.print(f"              - {reason}", highlight=False)


@eligibility_app.command("request")
def eligibility_request(
    period: PeriodOption,
    out: Annotated[Path, typer.Option("--out", help="The 270 file to write.", dir_okay=False)],
    members: Annotated[
        Path | None,
        typer.Option("--members", help="Only these member ids (one a line).", exists=True),
    ] = None,
    plan: PlanOption = None,
    database: DatabaseOption = None,
) -> None:
    """Write a 270 (005010X279A1) asking about every member enrolled or assigned in the
    period (or those in --members), batched as the settings' eligibility_batch_size says.
    With several plans, one plan's 270 (--plan) to its payer, about its own members."""
    month = parse_period(period)
    if not out.parent.exists():
        fail(f"folder {out.parent} does not exist")
    wanted = read_member_list(members) if members else None
    try:
        request = request_270(
            store(database), month, out, actor=cli_actor(), members=wanted,
            plan=plan.strip().lower() if plan else None,
        )  # fmt: skip
    except SettingsError as err:
        fail("the 270 needs the provider settings: " + "; ".join(err.problems))
    except (NothingToAsk, LookupError) as err:
        fail(str(err))
    console.print(
        f"Wrote {request.members} member(s) in {request.transactions} transaction set(s) to "
        f"{request.path}, interchange control number {request.interchange:09d}."
    )


@eligibility_app.command("import")
def eligibility_import(
    file: Annotated[Path, typer.Argument(help="A 271 answer.", exists=True, dir_okay=False)],
    codes: CodesOption = None,
    plan: PlanOption = None,
    database: DatabaseOption = None,
) -> None:
    """Read a 271: active coverage with our plan → eligible for the month; inactive or
    another plan → not eligible (audited; closed months marked for re-rating). AAA
    rejections are listed with their reason. The same 271 again changes nothing. With
    several plans the eligibility is the plan's whose payer answers (or --plan)."""
    try:
        outcome = import_271(
            store(database), file, actor=cli_actor(), codes=load_codes(codes),
            plan=plan.strip().lower() if plan else None,
        )  # fmt: skip
    except SettingsError as err:
        fail("reading a 271 needs the provider settings: " + "; ".join(err.problems))
    except (WhosePlan, LookupError) as err:
        fail(f"{file.name} was not imported; nothing changed: {err} (--plan KEY)")
    except EligibilityFileError as err:
        refused(file, err.problems)
    show_eligibility(outcome)


def show_eligibility(outcome: EligibilityOutcome) -> None:
    if outcome.already_imported:
        console.print(f"{outcome.file.name}: this 271 was imported before: nothing changed.")
        return
    whose = f" (plan {outcome.plan})" if outcome.plan else ""
    console.print(
        f"271{whose}: {outcome.count(True)} eligible, {outcome.count(False)} not eligible, "
        f"{outcome.count(None)} without an answer; {outcome.changed} change(s) stored."
    )
    for answer in outcome.answers:
        if answer.eligible is not True:
            console.print(f"  {answer.member_id} {answer.month}: {answer.reason}")
    for rejection in outcome.rejections:
        console.print(f"  [yellow]rejected[/] {rejection}", highlight=False)
    for member_id in outcome.not_on_roster:
        console.print(f"  [yellow]not on the roster[/] {member_id}: nothing changed")
    if outcome.rerate:
        console.print(
            "[bold]Marked for re-rating[/] (a closed month: close it again to replace or void "
            "the claim): " + ", ".join(f"{member} {month}" for member, month in outcome.rerate)
        )
