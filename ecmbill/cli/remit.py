"""Commands for remittances: import an 835, report what was paid, denied or not answered."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ecmbill.claims.settings import SettingsError
from ecmbill.cli.app import (
    DatabaseOption,
    app,
    console,
    errors,
    fail,
    parse_period,
    plans_for,
    store,
)
from ecmbill.remit.codes import load_codes
from ecmbill.remit.denials import (
    AGES,
    STATUS_WORDS,
    DenialQuery,
    DenialWorkError,
    WorkStatus,
    denial_list,
    resubmit,
    set_status,
)
from ecmbill.remit.exports import export_denials
from ecmbill.remit.model import Status
from ecmbill.remit.post import ImportOutcome, import_835
from ecmbill.remit.reader import RemitFileError
from ecmbill.remit.reconcile import Reconciliation, reconcile
from ecmbill.store.audit import cli_actor
from ecmbill.store.files import OutputProblem

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
    plan: Annotated[str | None, typer.Option("--plan", help="Only this plan's claims.")] = None,
) -> None:
    """Per claim and line: billed, paid, adjusted, patient responsibility, balance, status;
    denials by reason code; ageing of claims with no answer yet."""
    month = parse_period(period) if period else None
    result = reconcile(store(database), month, date.today(), load_codes(codes), plan=plan)
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


# The denial work list: the same services as the web's Denials page --------------------


def _work_status(text: str | None) -> WorkStatus | None:
    if text in (None, "all"):
        return None
    try:
        return WorkStatus(text)
    except ValueError:
        fail(f"--status must be one of: all, {', '.join(s.value for s in WorkStatus)}")


@remit_app.command("denials")
def remit_denials(
    status: Annotated[
        str, typer.Option("--status", help="open, corrected, appealed, written_off or all.")
    ] = "open",
    reason: Annotated[str | None, typer.Option("--reason", help="Only this CARC.")] = None,
    age: Annotated[
        str | None, typer.Option("--age", help="Days since the 835: 0-30, 31-60, 61-90, 90+.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the whole list to this .csv or .xlsx.")
    ] = None,
    database: DatabaseOption = None,
    plan: Annotated[str | None, typer.Option("--plan", help="Only this plan's claims.")] = None,
) -> None:
    """Every denied or partly paid claim line, its reasons in words and its status (the
    oldest 835 first)."""
    if age is not None and age not in AGES:
        fail(f"--age must be one of: {', '.join(AGES)}")
    engine = store(database)
    query = DenialQuery(reason.upper() if reason else None, _work_status(status), age, plan=plan)
    if out is not None:
        try:
            export_denials(engine, query, out, date.today())
        except OutputProblem as err:
            fail(str(err))
        console.print(f"Wrote {out}.")
        return
    found = denial_list(engine, DenialQuery(query.reason, query.status, query.age, size=10**9,
                                            plan=plan), date.today())  # fmt: skip
    table = Table("denial", "claim", "member", "not paid", "days", "reasons", "status")
    for d in found.denials:
        i = d.item
        where = f"line {i.line_number}" if i.line_number else "claim"
        table.add_row(
            i.item_key, f"{i.patient_control_number} {where}", i.member_id, f"{i.amount:.2f}",
            str(d.age_days), "; ".join(r.label for r in d.reasons),
            d.status_words + (f" {i.replacement}" if i.replacement else ""),
        )  # fmt: skip
    console.print(table)
    console.print(f"{found.matching} denial(s), {found.amount:.2f} not paid.")


@remit_app.command("denial")
def remit_denial(
    item: Annotated[str, typer.Argument(help="The denial, as `remit denials` lists it (L12).")],
    status: Annotated[
        str, typer.Option("--status", help="open, corrected, appealed or written_off.")
    ],
    note: Annotated[
        str, typer.Option("--note", help="Why (required to appeal or write off).")
    ] = "",
    database: DatabaseOption = None,
) -> None:
    """Give a denial a status with a note (audited)."""
    wanted = _work_status(status)
    if wanted is None:
        fail("--status must be open, corrected, appealed or written_off")
    try:
        set_status(store(database), item, wanted, note, actor=cli_actor())
    except DenialWorkError as err:
        fail(str(err))
    console.print(f"{item}: {STATUS_WORDS[wanted]}.")


@remit_app.command("resubmit")
def remit_resubmit(
    item: Annotated[str, typer.Argument(help="The denial, as `remit denials` lists it (L12).")],
    note: Annotated[str, typer.Option("--note", help="What was corrected.")] = "",
    contract_file: Annotated[
        Path | None, typer.Option("--contract", help="A contract file instead of the stored one.")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Send the corrected claim of a denial: the period is closed again (as `ecmbill close`)
    and the denial marked corrected, linked to the new claim."""
    engine = store(database)
    try:
        sent = resubmit(engine, item, plans_for(engine, contract_file), note,
                        actor=cli_actor(), today=date.today())  # fmt: skip
    except (DenialWorkError, SettingsError) as err:
        fail(str(err))
    console.print(f"{sent.patient_control_number} made; {sent.marked} denial(s) marked corrected.")
