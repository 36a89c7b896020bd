"""``ecmbill rate`` and ``ecmbill report``: a period's claim lines, what does not bill and why,
and minutes per unit."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

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
from ecmbill.cli.progress import steps
from ecmbill.contract import Contract, ContractError, default_contract, load_contract
from ecmbill.contract.plans import PlanContracts
from ecmbill.domain.honesty import HonestyReport, honesty_report
from ecmbill.domain.lines import PeriodRating
from ecmbill.domain.period import Period
from ecmbill.rating import service
from ecmbill.rating.file_checks import SourceProblem
from ecmbill.rating.files import plans_from_folder, rate_folder
from ecmbill.rating.output import rate_folder_to_file


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
    plans: Annotated[
        Path | None,
        typer.Option(
            "--plans",
            help="With --source, several plans: a folder of KEY.toml, one contract per plan "
            "(the folder's files need plan_assignments then). Plans are read in name order; "
            "the first is the plan of eligibility rows that name none.",
            file_okay=False,
        ),
    ] = None,
    first_plan: Annotated[
        str | None,
        typer.Option("--first-plan", help="With --plans: the key of the first plan."),
    ] = None,
    database: DatabaseOption = None,
    contract: ContractOption = None,
) -> None:
    """Rate a billing period: billable claim lines, and every entry that does not bill, why."""
    month = parse_period(period)
    if source is None:
        if out or spark_master or engine is not RatingEngine.duckdb or plans or first_plan:
            fail(
                "--out, --engine, --spark-master, --plans and --first-plan rate files: "
                "give --source FOLDER too"
            )
        engine_ = store(database)
        with errors.status(f"rating {month}"):
            rating = service.rate(engine_, month, plans_for(engine_, contract))
    else:
        terms = source_terms(plans, first_plan, database, contract)
        rated = rate_source(source, month, terms, engine.value, spark_master, out)
        if rated is None:
            return
        rating = rated
    if as_json:
        typer.echo(json.dumps(rating.as_json(), indent=2))
        return
    show_rating(rating)


def source_terms(
    plans: Path | None, first_plan: str | None, database: str | None, contract: Path | None
) -> Contract | PlanContracts:
    """Files carry no contract: ``--plans FOLDER`` (one contract per plan; no database is
    read), else ``--contract``, else the database's plans if one is named, else the default.
    No database file is created for a file-only rating."""
    if plans is None:
        if first_plan is not None:
            fail("--first-plan names a plan of --plans FOLDER: give --plans too")
        return plans_for(store(database), contract) if database else contract_from_file(contract)
    if contract is not None:
        fail("give --plans or --contract, not both: --plans holds every plan's contract")
    try:
        return plans_from_folder(plans, first_plan)
    except SourceProblem as problem:
        fail(str(problem))


def contract_from_file(path: Path | None) -> Contract:
    try:
        return load_contract(path) if path else default_contract()
    except ContractError as err:
        fail(str(err))


def rate_source(
    source: Path,
    month: Period,
    terms: Contract | PlanContracts,
    engine: str,
    spark_master: str | None,
    out: Path | None,
) -> PeriodRating | None:
    """Rate from files; with ``out``, write them and print a summary (returns None)."""
    try:
        with steps() as bar:
            say = lambda text: bar(f"{text} ({engine})", 0, 0)  # noqa: E731
            say(f"rating {month} from {source}")
            if out is None:
                return rate_folder(
                    source, month, terms, engine=engine, spark_master=spark_master, status=say
                )
            written = rate_folder_to_file(
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
        reasons = Table("source", "id", "reason code", "reason", title="Not billed")
        for item in rating.not_billed:
            reasons.add_row(item.source.value, item.id, item.reason_code.value, item.reason)
        console.print(reasons)


@app.command()
def report(
    period: PeriodOption,
    database: DatabaseOption = None,
    contract: ContractOption = None,
    plan: Annotated[
        str | None,
        typer.Option("--plan", help="Only this plan's lines (a plan key; default: every plan)."),
    ] = None,
) -> None:
    """Minutes per unit: minutes worked, units billed and minutes per unit, by code."""
    month = parse_period(period)
    engine = store(database)
    plans = plans_for(engine, contract)
    if plan is not None and plan not in plans.contracts:
        fail(f"no plan {plan!r}: the plans are {', '.join(plans)} (`ecmbill plans list`)")
    with errors.status(f"rating {month}"):
        if plan is None:
            honest = service.honesty(engine, month, plans)
        else:
            rating = service.rate_recent(engine, month, plans)
            honest = honesty_report(rating.period, rating.lines, rating.not_billed, plan=plan)
    if plan is not None:
        console.print(f"Plan {plan} only.")
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
        title=f"Minutes per unit, {report.period}: one hour per unit",
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
