"""Commands for claims: settings, close, claims list/show/export."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ecmbill.claims.close import CloseResult, PeriodNotOver, close_period
from ecmbill.claims.export import FORMATS, NothingToExport, export_per_payer
from ecmbill.claims.history import KINDS as HISTORY_KINDS
from ecmbill.claims.history import file_history, take_again
from ecmbill.claims.reopen import CannotReopen, reopen_period
from ecmbill.claims.settings import (
    FIELDS,
    ProviderSettings,
    SettingsError,
    load_settings_file,
    set_settings,
    settings_problems,
    show_settings,
)
from ecmbill.claims.views import claim_timeline, list_claims
from ecmbill.cli.app import (
    ContractOption,
    DatabaseOption,
    PeriodOption,
    app,
    console,
    errors,
    fail,
    parse_period,
    plans_for,
    store,
)
from ecmbill.cli.payer import show_timeline
from ecmbill.cli.progress import steps
from ecmbill.domain.claims import Action
from ecmbill.store.audit import cli_actor
from ecmbill.store.files import write_atomically

ExportFormat = StrEnum("ExportFormat", {name: name for name in FORMATS})  # type: ignore[misc]

claims_app = typer.Typer(help="Claims: list, show, export (837P, CSV, XLSX).", no_args_is_help=True)
settings_app = typer.Typer(
    help="Billing provider, payer and interchange settings used on claims.", no_args_is_help=True
)
app.add_typer(claims_app, name="claims")
app.add_typer(settings_app, name="settings")

FREQUENCY_WORDS = {"1": "original", "7": "replacement", "8": "void"}


def settings_failure(err: SettingsError, what: str) -> None:
    errors.print(f"[bold red]error:[/] {what}; fix these settings:", highlight=False)
    for problem in err.problems:
        errors.print(f"  - {problem}", highlight=False)
    errors.print("(`ecmbill settings set KEY VALUE` or `ecmbill settings load FILE.toml`)")
    raise typer.Exit(2)


@settings_app.command("set")
def settings_set(
    key: Annotated[str, typer.Argument(help=f"One of: {', '.join(FIELDS)}.")],
    value: Annotated[str, typer.Argument(help="The value.")],
    database: DatabaseOption = None,
) -> None:
    """Set one setting (checked before it is stored)."""
    try:
        changed = set_settings(store(database), {key: value}, cli_actor())
    except SettingsError as err:
        settings_failure(err, "the setting was not stored")
    console.print(f"{key} {'set' if changed else 'unchanged'}.")


@settings_app.command("load")
def settings_load(
    file: Annotated[Path, typer.Argument(help='TOML file of key = "value" lines.')],
    database: DatabaseOption = None,
) -> None:
    """Set every setting in a TOML file: all of them, or none when any is wrong."""
    try:
        changed = load_settings_file(store(database), file, cli_actor())
    except SettingsError as err:
        settings_failure(err, "no setting was stored")
    console.print(f"{len(changed)} setting(s) changed: {', '.join(changed) or 'none'}.")


@settings_app.command("show")
def settings_show(database: DatabaseOption = None) -> None:
    """Show the settings and what is still missing or wrong."""
    engine = store(database)
    table = Table("setting", "value", "meaning")
    for key, value in show_settings(engine).items():
        meaning = ProviderSettings.model_fields[key].description or ""
        table.add_row(key, value if value is not None else "[red](not set)[/]", meaning)
    console.print(table)
    problems = settings_problems(engine)
    if problems:
        console.print("[yellow]Not ready to close a period:[/]")
        for problem in problems:
            console.print(f"  - {problem}", highlight=False)
    else:
        console.print("[green]Ready: every setting needed for claims is present and valid.[/]")


PlanOption = Annotated[
    str | None, typer.Option("--plan", help="Only this plan (default: every plan).")
]


@app.command()
def close(
    period: PeriodOption,
    database: DatabaseOption = None,
    contract: ContractOption = None,
    plan: PlanOption = None,
) -> None:
    """Close a period into claims: originals the first time; later, a replacement (frequency 7)
    for each member whose lines changed and a void (8) for each member with nothing billable
    left. Closing an unchanged period again creates nothing. Claims are per member and plan,
    each plan's with its contract; a replacement or void goes to the plan of the claim it
    corrects."""
    month = parse_period(period)
    engine = store(database)
    terms = plans_for(engine, contract)
    try:
        with steps() as progress:
            result = close_period(
                engine, month, terms, actor=cli_actor(), today=date.today(), plan=plan,
                progress=progress,
            )  # fmt: skip
    except SettingsError as err:
        settings_failure(err, f"{month} was not closed")
    except (PeriodNotOver, ValueError) as err:
        fail(str(err))
    show_close(result)


def show_close(result: CloseResult) -> None:
    if result.first_closed_at is not None:
        console.print(
            f"{result.period} was first closed on {result.first_closed_at:%Y-%m-%d %H:%M} UTC."
        )
    if result.changed_after_close:
        console.print(
            f"[yellow]{len(result.changed_after_close)} time or outreach record(s) of "
            f"{result.period} changed after it was closed[/] (recorded in the audit log)."
        )
    if not result.created:
        console.print(f"Nothing new to claim for {result.period}: every claim is up to date.")
    else:
        console.print(
            f"{result.period}: {result.count(Action.ORIGINAL)} original, "
            f"{result.count(Action.REPLACEMENT)} replacement and {result.count(Action.VOID)} void "
            f"claim(s) created; {result.unchanged} member(s) unchanged."
        )
        several = len({claim.plan for claim in result.created}) > 1
        table = Table("claim", "member", *(["plan"] if several else []), "kind", "lines", "charge")
        for claim in result.created[:20]:
            table.add_row(
                claim.patient_control_number,
                claim.member_id,
                *([claim.plan] if several else []),
                claim.action.value,
                str(claim.lines),
                f"{claim.total_charge:.2f}",
            )
        console.print(table)
        if len(result.created) > 20:
            console.print(f"... and {len(result.created) - 20} more (`ecmbill claims list`).")
    if result.held_back:
        console.print(
            f"[yellow]{len(result.held_back)} claim(s) held back, not made:[/] each is made at "
            "the next close once its reason is fixed."
        )
        for held in result.held_back:
            console.print(f"  {held.member_id} ({held.action.value}): {held.reason}",
                          highlight=False)  # fmt: skip
    past = [w for w in result.warnings if w.past]
    near = [w for w in result.warnings if not w.past]
    if past:
        console.print(f"[bold red]Timely filing: {len(past)} line(s) are past the filing limit.[/]")
    if near:
        console.print(
            f"[yellow]Timely filing: {len(near)} line(s) reach the filing limit within 30 days "
            f"(earliest {min(w.deadline for w in near)}).[/]"
        )


@claims_app.command("list")
def claims_list(
    period: Annotated[str | None, typer.Option("--period", help="Only this period.")] = None,
    database: DatabaseOption = None,
) -> None:
    """List claims with their frequency, status and charge."""
    month = parse_period(period) if period else None
    claims = list_claims(store(database), month)
    table = Table("claim", "period", "member", "frequency", "status", "lines", "charge", "sent")
    for claim in claims:
        table.add_row(
            claim.patient_control_number,
            claim.period,
            claim.member_id,
            f"{claim.frequency} {FREQUENCY_WORDS[claim.frequency]}",
            claim.status,
            str(len(claim.lines)),
            f"{claim.total_charge:.2f}",
            ", ".join(claim.exported) or "-",
        )
    console.print(table)
    console.print(f"{len(claims)} claim(s).")


@claims_app.command("show")
def claims_show(
    claim_id: Annotated[str, typer.Argument(help="Patient control number (e.g. ECM000000001).")],
    database: DatabaseOption = None,
) -> None:
    """Show a claim, its lines, its history (original → replacement → void) and the timeline
    of each: created, sent, the payer's 999 and 277CA, the 835."""
    timelines = claim_timeline(store(database), claim_id)
    if timelines is None:
        fail(f"no claim {claim_id}")
    for timeline in timelines:
        claim = timeline.claim
        marker = "→" if claim.patient_control_number.upper() == claim_id.upper() else " "
        console.rule(
            f"{marker} {claim.patient_control_number}  {FREQUENCY_WORDS[claim.frequency]} "
            f"(frequency {claim.frequency}), {claim.status}"
        )
        console.print(
            f"member {claim.member_id}, period {claim.period}, created "
            f"{claim.created_at:%Y-%m-%d %H:%M}, charge {claim.total_charge:.2f}, sent as: "
            f"{', '.join(claim.exported) or 'not yet'}"
        )
        if claim.original_reference:
            console.print(f"corrects the claim referenced {claim.original_reference} (REF*F8)")
        if claim.payer_claim_control_number:
            console.print(f"payer claim control number: {claim.payer_claim_control_number}")
        table = Table("line", "code", "modifiers", "units", "charge", "dates", "rendering NPI")
        for number, line in enumerate(claim.lines, start=1):
            dates = (
                f"{line.first_date}"
                if line.first_date == line.last_date
                else f"{line.first_date} to {line.last_date}"
            )
            table.add_row(
                str(number),
                line.code,
                " ".join(line.modifiers),
                str(line.units),
                f"{line.charge:.2f}",
                dates,
                line.rendering_npi or "",
            )
        console.print(table)
        show_timeline(timeline)


@claims_app.command("export")
def claims_export(
    period: PeriodOption,
    format: Annotated[ExportFormat, typer.Option("--format", help="837p, csv or xlsx.")],
    out: Annotated[Path, typer.Option("--out", help="File to write.", dir_okay=False)],
    database: DatabaseOption = None,
    plan: PlanOption = None,
) -> None:
    """Write the period's claims not yet sent in this format: an X12 837P (005010X222A1) or
    the plan's invoice file. The file is complete or absent, never half-written. With several
    plans, one file per payer, named after --out with its plans and payer id."""
    month = parse_period(period)
    if not out.parent.exists():
        fail(f"folder {out.parent} does not exist")
    try:
        with steps() as progress:
            results = export_per_payer(
                store(database), month, format.value, out, actor=cli_actor(), plan=plan,
                progress=progress,
            )  # fmt: skip
    except SettingsError as err:
        settings_failure(err, "nothing was written")
    except (NothingToExport, ValueError) as err:
        fail(str(err))
    for result in results:
        control = (
            f", interchange control number {result.control.interchange:09d}"
            if result.control
            else ""
        )
        payer = f" (payer {result.payer_id})" if len(results) > 1 else ""
        console.print(
            f"Wrote {result.claims} claim(s), {result.lines} line(s), charge "
            f"{result.total_charge:.2f} to {result.path}{payer}{control}."
        )


@claims_app.command("files")
def claims_files(
    period: Annotated[str | None, typer.Option("--period", help="Only this period.")] = None,
    page: Annotated[int, typer.Option("--page", min=1, help="Page of 20, newest first.")] = 1,
    database: DatabaseOption = None,
) -> None:
    """The file history: every 837P, invoice, Outreach Tracker and Return Transmission File
    produced (here or in the web), with who made it, how many claims or rows it holds and its
    SHA-256. `ecmbill claims file-again ID --out PATH` writes one again, byte for byte."""
    month = parse_period(period) if period else None
    kept, total = file_history(store(database), month, page=page)
    for item in kept:
        # One block per file: the checksum whole, on a line of its own, on any terminal width.
        console.print(
            f"[bold]{item.id}[/] {item.period} {HISTORY_KINDS[item.kind]}: {item.file_name}\n"
            f"  produced {item.produced_at:%Y-%m-%d %H:%M} UTC by {item.actor}; "
            f"{item.records} claim(s) or row(s), {item.size} bytes\n"
            f"  SHA-256 {item.sha256}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"{total} file(s) in all; page {page}.")


@claims_app.command("file-again")
def claims_file_again(
    file_id: Annotated[int, typer.Argument(help="The file's id in `ecmbill claims files`.")],
    out: Annotated[Path, typer.Option("--out", help="File to write.", dir_okay=False)],
    database: DatabaseOption = None,
) -> None:
    """Write a file from the history again, exactly as it was first produced. Nothing is
    recorded as sent; the taking is in the audit trail."""
    if not out.parent.exists():
        fail(f"folder {out.parent} does not exist")
    found = take_again(store(database), file_id, actor=cli_actor())
    if found is None:
        fail(f"no file {file_id} in the history (`ecmbill claims files` lists them)")
    kept, content = found
    write_atomically(out, lambda path: path.write_bytes(content))
    console.print(f"Wrote {kept.file_name} ({kept.size} bytes, SHA-256 {kept.sha256}) to {out}.")


@claims_app.command("reopen")
def claims_reopen(
    period: PeriodOption,
    reason: Annotated[str, typer.Option("--reason", help="Why, for the audit trail.")],
    database: DatabaseOption = None,
) -> None:
    """Reopen a period closed by mistake, while none of its claims was sent: its claims and
    closes are deleted and its time and outreach can be changed again (audited)."""
    month = parse_period(period)
    try:
        found = reopen_period(store(database), month, actor=cli_actor(), reason=reason)
    except CannotReopen as err:
        fail(str(err))
    console.print(
        f"{month} reopened: {found.claims} claim(s) and {found.closes} close(s) undone.",
        highlight=False,
    )
