"""Commands for remittances: import an 835, report what was paid, denied or not answered."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ecmbill.cli.app import DatabaseOption, app, console, errors, parse_period, store
from ecmbill.remit.codes import load_codes
from ecmbill.remit.model import Status
from ecmbill.remit.post import ImportOutcome, import_835
from ecmbill.remit.reader import RemitFileError
from ecmbill.remit.reconcile import Reconciliation, reconcile
from ecmbill.store.audit import cli_actor

remit_app = typer.Typer(help="Remittances (X12 835): import and reconcile.", no_args_is_help=True)
app.add_typer(remit_app, name="remit")


@remit_app.command("import")
def remit_import(
    file: Annotated[Path, typer.Argument(help="An X12 835 file.", exists=True, dir_okay=False)],
    accept_payee: Annotated[
        list[str] | None,
        typer.Option(
            "--accept-payee",
            help="Post a payment whose payee (N1*PE) is this NPI or TIN, not our billing "
            "NPI/TIN (e.g. a group NPI the plan pays us under). Repeat for several.",
        ),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Import an 835 and match it to claims (CLP01) and lines (code, modifiers, date).

    All of the file or nothing. Refused (exit 2, nothing posted), with the transaction and
    segment: amounts that do not balance, another payee, a TRN given twice, a truncated or
    unreadable file. Posted with warnings, listed and kept: a missing PER*BL or BPR16, an
    unknown qualifier, no ISA envelope. The same 835 again (same TRN) changes nothing."""
    try:
        outcome = import_835(
            store(database), file, actor=cli_actor(), accept_payee=accept_payee or ()
        )
    except RemitFileError as err:
        errors.print(f"[bold red]error:[/] {file.name} was not imported; nothing was posted:")
        for problem in err.problems:
            errors.print(f"  - {problem}", highlight=False)
        raise typer.Exit(2) from None
    show_import(outcome)


def show_import(outcome: ImportOutcome) -> None:
    for trace in outcome.already_imported:
        console.print(f"TRN {trace} was imported before: nothing changed.")
    for warning in outcome.warnings:
        console.print(f"  [yellow]warning[/] {warning}", highlight=False)
    for posted in outcome.posted:
        console.print(
            f"TRN {posted.trace_number}: payment {posted.payment_amount:.2f}; {posted.claims} "
            f"claim answer(s), {posted.reversals} reversal(s); lines matched {posted.exact_lines}"
            f", inferred {posted.inferred_lines} (payer dropped or changed modifiers), unmatched "
            f"{len(posted.unmatched_lines)}; provider adjustments {posted.provider_adjustments:.2f}"
        )
        for pcn in posted.unmatched_claims:
            console.print(f"  [yellow]unmatched claim[/] {pcn}: no claim of ours has this number")
        for line in posted.unmatched_lines:
            console.print(
                f"  [yellow]unmatched line[/] {line.patient_control_number} {line.code} "
                f"{' '.join(line.modifiers)} (segment {line.segment})"
            )
        if posted.warnings:
            console.print(
                f"  Posted with {len(posted.warnings)} warning(s), kept with the remittance "
                "(they break a rule of the 835 guide, not the money):"
            )
        for warning in posted.warnings:
            console.print(f"  [yellow]warning[/] {warning}", highlight=False)


@remit_app.command("report")
def remit_report(
    period: Annotated[str | None, typer.Option("--period", help="Only this period.")] = None,
    codes: Annotated[
        Path | None,
        typer.Option("--codes", help="Updated CARC/RARC descriptions (TOML).", exists=True),
    ] = None,
    all_claims: Annotated[bool, typer.Option("--all", help="List paid claims too.")] = False,
    database: DatabaseOption = None,
) -> None:
    """Per claim and line: billed, paid, adjusted, patient responsibility, balance, status;
    denials by reason code; ageing of claims with no answer yet."""
    month = parse_period(period) if period else None
    result = reconcile(store(database), month, date.today(), load_codes(codes))
    show_report(result, all_claims=all_claims)


def show_report(
    result: Reconciliation, *, all_claims: bool = False, most: int | None = None
) -> None:
    counts = ", ".join(f"{result.count(status)} {status.value}" for status in Status)
    console.print(f"{len(result.claims)} claim(s): {counts}.")
    table = Table("claim", "member", "status", "billed", "paid", "adjusted", "patient", "balance")
    shown = [c for c in result.claims if all_claims or c.balance.status is not Status.PAID]
    if most is not None and len(shown) > most:
        console.print(f"The first {most} of {len(shown)} claims not fully paid:")
        shown = shown[:most]
    for claim in shown:
        b = claim.balance
        table.add_row(
            claim.patient_control_number, claim.member_id, b.status.value, f"{b.billed:.2f}",
            f"{b.paid:.2f}", f"{b.adjusted:.2f}", f"{b.patient_responsibility:.2f}",
            f"{b.balance:.2f}",
        )  # fmt: skip
        for line in claim.lines:
            lb = line.balance
            if lb.status in (Status.PAID, Status.NO_ANSWER) and not all_claims:
                continue
            table.add_row(
                f"  line {line.number}", f"{line.code} {' '.join(line.modifiers)}",
                lb.status.value + (" (inferred match)" if line.inferred else ""),
                f"{lb.billed:.2f}", f"{lb.paid:.2f}", f"{lb.adjusted:.2f}",
                f"{lb.patient_responsibility:.2f}", f"{lb.balance:.2f}",
            )  # fmt: skip
    console.print(table)
    if result.denials:
        denials = Table("CARC", "description", "lines", "amount", title="Denials by reason")
        for group in result.denials:
            denials.add_row(group.carc, group.description, str(group.lines), f"{group.amount:.2f}")
        console.print(denials)
    ageing = ", ".join(f"{bucket} days: {count}" for bucket, count in result.ageing.items())
    console.print(f"Claims with no answer yet, by days since sent: {ageing}.")
    if result.provider_adjustments:
        console.print(f"Provider-level adjustments (PLB): {result.provider_adjustments:.2f}.")
    for item in result.unmatched:
        what = f"line {item.code}" if item.code else "claim"
        console.print(
            f"[yellow]unmatched {what}[/] {item.patient_control_number} in TRN "
            f"{item.trace_number} (segment {item.segment}), paid {item.paid:.2f}"
        )
