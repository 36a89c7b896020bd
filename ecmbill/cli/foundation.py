"""Commands for the foundation: import, rate, report, members, contract."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from ecmbill import services
from ecmbill.cli.app import (
    ContractOption,
    DatabaseOption,
    app,
    console,
    contract_for,
    errors,
    fail,
    store,
)
from ecmbill.contract import Contract, ContractError, default_contract, load_contract
from ecmbill.contract.model import default_toml
from ecmbill.domain.honesty import HonestyReport
from ecmbill.domain.lines import PeriodRating
from ecmbill.domain.period import Period
from ecmbill.imports.batch import ImportResult
from ecmbill.imports.kinds import KINDS
from ecmbill.imports.service import import_file
from ecmbill.members import lifecycle
from ecmbill.rating.file_checks import SourceProblem
from ecmbill.store.audit import cli_actor

ImportKind = StrEnum("ImportKind", {name: name for name in KINDS})  # type: ignore[misc]
PeriodOption = Annotated[str, typer.Option("--period", help="Billing period, YYYY-MM.")]

members_app = typer.Typer(
    help="Members: ECM status, enrollment, lead care manager, unable to reach.",
    no_args_is_help=True,
)
contract_app = typer.Typer(
    help="The contract: codes, rates, activities, outreach rules.", no_args_is_help=True
)
app.add_typer(members_app, name="members")
app.add_typer(contract_app, name="contract")


def parse_period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as err:
        fail(str(err))


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail(f"{text!r} is not a date: use YYYY-MM-DD (e.g. 2026-10-31)")


@app.command("import")
def import_command(
    kind: Annotated[ImportKind, typer.Argument(help="What the file holds.")],
    file: Annotated[Path, typer.Argument(help="A .csv or .xlsx file.")],
    database: DatabaseOption = None,
    contract: ContractOption = None,
) -> None:
    """Import staff, members, eligibility, enrollments, time or outreach from CSV or XLSX.

    Exit status: 0 every row accepted, 1 some rows rejected (the rest imported), 2 the file
    could not be read (nothing imported). Rejected rows go to NAME.rejects.csv beside the file.
    """
    engine = store(database)
    terms = contract_for(engine, contract)
    with Progress(
        TextColumn("importing {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=errors,
        transient=True,
    ) as bar:
        task = bar.add_task(file.name, total=None)
        result = import_file(
            engine,
            kind.value,
            file,
            terms,
            actor=cli_actor(),
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    show_import(result)
    raise typer.Exit(result.exit_code)


def show_import(result: ImportResult) -> None:
    if result.file_problem:
        errors.print(
            f"[bold red]{result.file.name}: nothing imported[/]: {result.file_problem}",
            highlight=False,
        )
        return
    console.print(
        f"{result.file.name} ({result.kind}): {result.rows_read} rows read, "
        f"[green]{result.accepted} accepted[/] ({result.changed} records added or changed), "
        f"[{'red' if result.rejected else 'green'}]{result.rejected} rejected[/]",
        highlight=False,
    )
    if result.rejections:
        table = Table("line", "column", "reason", title="Rejected rows (first 20)")
        for rejection in result.rejections[:20]:
            table.add_row(str(rejection.line), rejection.column or "", rejection.reason)
        console.print(table)
        console.print(f"All rejected rows, with their reasons: {result.rejects_file}")


class RatingEngine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


@app.command()
def rate(
    period: PeriodOption,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rating as JSON.")] = False,
    source: Annotated[
        Path | None,
        typer.Option(
            "--source",
            help="Rate from a folder of files instead of the database: time, outreach, staff, "
            "eligibility and enrollments, each .parquet or .csv, in the import layout.",
            file_okay=False,
        ),
    ] = None,
    engine: Annotated[
        RatingEngine,
        typer.Option("--engine", help="With --source: DuckDB (one machine) or Spark."),
    ] = RatingEngine.duckdb,
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master", help="With --engine spark: a cluster URL (default local[2])."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="With --source: write the claim lines to this .parquet or .csv file, and the "
            "entries that do not bill to NAME.not_billed.EXT beside it.",
            dir_okay=False,
        ),
    ] = None,
    database: DatabaseOption = None,
    contract: ContractOption = None,
) -> None:
    """Rate a billing period: billable claim lines, and every entry that does not bill, why."""
    month = parse_period(period)
    if source is None:
        if out or spark_master or engine is not RatingEngine.duckdb:
            fail("--out, --engine and --spark-master rate files: give --source FOLDER too")
        engine_ = store(database)
        terms = contract_for(engine_, contract)
        with errors.status(f"rating {month}"):
            rating = services.rate(engine_, month, terms)
    else:
        # Files carry no contract: --contract, else the database's if one is named, else the
        # default. No database file is created for a file-only rating.
        terms = (
            contract_for(store(database), contract) if database else contract_from_file(contract)
        )
        rated = rate_source(source, month, terms, engine.value, spark_master, out)
        if rated is None:
            return
        rating = rated
    if as_json:
        typer.echo(json.dumps(rating.as_json(), indent=2))
        return
    show_rating(rating)


def contract_from_file(path: Path | None) -> Contract:
    try:
        return load_contract(path) if path else default_contract()
    except ContractError as err:
        fail(str(err))


def rate_source(
    source: Path,
    month: Period,
    terms: Contract,
    engine: str,
    spark_master: str | None,
    out: Path | None,
) -> PeriodRating | None:
    """Rate from files; with ``out``, write them and print a summary (returns None)."""
    try:
        with errors.status(f"rating {month} from {source} on {engine}") as status:
            say = lambda text: status.update(f"{text} ({engine})")  # noqa: E731
            if out is None:
                return services.rate_files(
                    source, month, terms, engine=engine, spark_master=spark_master, status=say
                )
            written = services.rate_files_to(
                source, month, terms, out, engine=engine, spark_master=spark_master, status=say
            )
    except SourceProblem as problem:
        fail(str(problem))
    except ImportError:
        fail("--engine spark needs PySpark: pip install 'ecmbill[spark]' (and a Java runtime)")
    console.print(
        f"{written.line_count} claim lines, {written.units} units: {written.lines}\n"
        f"{written.not_billed_count} entries do not bill, with the reason: {written.not_billed}",
        highlight=False,
    )
    return None


def show_rating(rating: PeriodRating) -> None:
    table = Table(
        "member",
        "kind",
        "code",
        "modifiers",
        "minutes",
        "units",
        "dates",
        title=f"Claim lines, {rating.period}",
    )
    for line in rating.lines:
        dates = (
            line.first_date.isoformat()
            if line.first_date == line.last_date
            else f"{line.first_date:%m-%d}..{line.last_date:%m-%d}"
        )
        table.add_row(
            line.member_id,
            line.kind.value,
            line.code,
            " ".join(line.modifiers),
            str(line.minutes),
            str(line.units),
            dates,
        )
    console.print(table)
    units = sum(line.units for line in rating.lines)
    console.print(
        f"{len(rating.lines)} claim lines, {units} units; "
        f"{len(rating.not_billed)} entries do not bill."
    )
    if rating.not_billed:
        reasons = Table("source", "id", "reason", title="Not billed")
        for item in rating.not_billed:
            reasons.add_row(item.source.value, item.id, item.reason)
        console.print(reasons)


@app.command()
def report(
    period: PeriodOption,
    database: DatabaseOption = None,
    contract: ContractOption = None,
) -> None:
    """The honesty report: minutes worked, units billed and minutes per unit, by code."""
    month = parse_period(period)
    engine = store(database)
    terms = contract_for(engine, contract)
    with errors.status(f"rating {month}"):
        honest = services.honesty(engine, month, terms)
    show_honesty(honest)


def show_honesty(report: HonestyReport, *, most: int | None = None) -> None:
    table = Table(
        "code",
        "modifiers",
        "kind",
        "lines",
        "minutes",
        "units",
        "minutes/unit",
        title=f"Honesty report, {report.period}: one hour per unit",
    )
    for totals in report.by_code:
        table.add_row(
            totals.code,
            " ".join(totals.modifiers),
            totals.kind.value,
            str(totals.lines),
            str(totals.minutes),
            str(totals.units),
            f"{totals.minutes_per_unit:.1f}" if totals.minutes_per_unit else "-",
        )
    console.print(table)
    per_unit = report.service_minutes_per_unit
    console.print(
        f"Service time: {report.service_minutes} minutes worked, {report.service_units} units "
        f"billed, {per_unit if per_unit is not None else '-'} minutes per unit "
        f"(60 is exact). Outreach: {report.outreach_attempts} attempts, one unit each."
    )
    if report.heavy_rounding:
        heavy = Table(
            "member",
            "code",
            "modifiers",
            "minutes",
            "units",
            "added by rounding",
            title="Lines where rounding added 45 minutes or more",
        )
        for line in report.heavy_rounding[:most]:
            heavy.add_row(
                line.member_id,
                line.code,
                " ".join(line.modifiers),
                str(line.minutes),
                str(line.units),
                str(line.units * 60 - line.minutes),
            )
        console.print(heavy)
        hidden = len(report.heavy_rounding) - len(report.heavy_rounding[:most])
        if hidden:
            console.print(f"... and {hidden} more (`ecmbill report --period {report.period}`)")
    else:
        console.print("No line where rounding added 45 minutes or more.")
    if report.not_billed_by_reason:
        reasons = Table("reason", "entries", title="Not billed, by reason")
        for reason, count in report.not_billed_by_reason:
            reasons.add_row(reason, str(count))
        console.print(reasons)


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
    member_id = member_id.strip().upper()
    day = parse_day(on) if on else date.today()
    check = services.check_unable_to_reach(engine, member_id, terms)
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


@contract_app.command("show")
def contract_show(database: DatabaseOption = None, contract: ContractOption = None) -> None:
    """Show the contract in force: codes, rates and outreach rules."""
    engine = store(database)
    terms = contract_for(engine, contract)
    table = Table("role", "modality", "kind", "code", "modifiers", "rate/unit", title=terms.name)
    for entry in terms.codes:
        table.add_row(
            entry.role.value,
            entry.modality.value,
            entry.kind.value,
            entry.code,
            " ".join(entry.modifiers),
            f"${entry.rate}",
        )
    console.print(table)
    utr = terms.unable_to_reach
    console.print(
        f"Unable to reach after {utr.required_attempts} attempts"
        + (f", {utr.distinct_methods} methods" if utr.distinct_methods else "")
        + (f", within {utr.window_days} days" if utr.window_days else "")
    )
    console.print(
        "Activities: "
        + ", ".join(
            f"{name}{'' if a.reimbursable else ' (not reimbursable)'}"
            for name, a in terms.activities.items()
        )
    )


@contract_app.command("check")
def contract_check(file: Annotated[Path, typer.Argument(help="Contract TOML file.")]) -> None:
    """Validate a contract file; a bad one fails with the key and the reason."""
    try:
        terms = load_contract(file)
    except ContractError as err:
        fail(str(err))
    console.print(f"[green]{file}: valid[/] ({terms.name})")


@contract_app.command("set")
def contract_set(
    file: Annotated[Path, typer.Argument(help="Contract TOML file.")],
    database: DatabaseOption = None,
) -> None:
    """Store a contract in the database; every later command uses it."""
    engine = store(database)
    try:
        terms = services.store_contract(engine, file, cli_actor())
    except ContractError as err:
        fail(str(err))
    console.print(f"Contract stored: {terms.name}")


@contract_app.command("default")
def contract_default() -> None:
    """Print the default contract (the plan's billing guide) as TOML, to copy and edit."""
    typer.echo(default_toml(), nl=False)
