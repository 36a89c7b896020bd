"""``ecmbill exchange``: files exchanged with the plan: the Member Information File and 834 in,
the Outreach Tracker and Return Transmission files out, and the provider identity they carry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
from ecmbill.cli.imports import rejections_table, show_import
from ecmbill.domain import values
from ecmbill.exchange.identity import KEYS, provider_identity, set_provider_identity
from ecmbill.exchange.otf import ExchangeFile, plan_file, plan_file_name, write_otf
from ecmbill.exchange.rtf import write_rtf
from ecmbill.imports.mif import import_mif
from ecmbill.imports.x834 import X834Result, import_834
from ecmbill.store.audit import cli_actor
from ecmbill.store.db import Engine
from ecmbill.store.files import OutputProblem

exchange_app = typer.Typer(
    help="Files exchanged with the health plan: MIF and 834 in, OTF and RTF out.",
    no_args_is_help=True,
)
app.add_typer(exchange_app, name="exchange")
OutOption = Annotated[Path, typer.Option("--out", help="File to write: .xlsx or .csv.")]
PlanOption = Annotated[
    str | None,
    typer.Option(
        "--plan",
        help="The plan the file is from or for (`ecmbill plans list`; default: the first plan).",
    ),
]


def _plan_key(plan: str | None) -> str | None:
    return None if plan is None else plan.strip().lower()


@exchange_app.command("import-mif")
def import_mif_command(
    file: Annotated[Path, typer.Argument(help="The plan's Member Information File (.csv/.xlsx).")],
    plan: PlanOption = None,
    database: DatabaseOption = None,
) -> None:
    """Import the plan's Member Information File: new members are created, known ones updated
    (changes kept in the audit log), rejected rows listed with line, column and reason. In an
    office of several plans, each member of the file has the plan (--plan) from their
    assignment date.

    Exit status: 0 every row accepted, 1 some rows rejected, 2 nothing imported."""
    engine = store(database)
    try:
        result = import_mif(engine, file, actor=cli_actor(), plan=_plan_key(plan))
    except LookupError as err:
        fail(str(err.args[0]))
    show_import(result)
    raise typer.Exit(result.exit_code)


@exchange_app.command("import-834")
def import_834_command(
    file: Annotated[Path, typer.Argument(help="An X12 834 (005010X220A1) from the plan.")],
    plan: PlanOption = None,
    database: DatabaseOption = None,
) -> None:
    """Monthly eligibility from the plan's 834 (the eligibility of --plan). Members not on the
    roster are listed, not added; months whose eligibility changed after the fact are marked
    for re-rating. In an office of several plans, the coverage spans give the members that
    plan on those days.

    Exit status: 0 all member loops imported, 1 some rejected or not on the roster, 2 the file
    has errors (nothing imported)."""
    engine = store(database)
    try:
        result = import_834(engine, file, actor=cli_actor(), plan=_plan_key(plan))
    except LookupError as err:
        fail(str(err.args[0]))
    show_834(result)
    raise typer.Exit(result.exit_code)


def show_834(result: X834Result) -> None:
    if result.file_problem or result.segment_errors:
        errors.print(
            f"[bold red]{result.file.name}: nothing imported[/]: "
            + (result.file_problem or f"{len(result.segment_errors)} error(s) in the 834"),
            highlight=False,
        )
        for error in result.segment_errors[:50]:
            errors.print(f"  {error}", highlight=False)
        return
    console.print(
        f"{result.file.name} (834): {result.members_read} member loops read, "
        f"[green]{result.accepted} imported[/] ({result.changed} months new or changed), "
        f"{len(result.rejections)} rejected, {len(result.not_on_roster)} not on the roster",
        highlight=False,
    )
    if result.rejections:
        console.print(
            rejections_table(result.rejections, ("segment", "element"), "Rejected member loops")
        )
    if result.not_on_roster:
        console.print(
            "Not on the roster (not added; import the plan's Member Information File first): "
            + ", ".join(result.not_on_roster)
        )
    if result.rerate:
        console.print(
            "[yellow]To re-rate[/] (eligibility changed after the fact): "
            + ", ".join(f"{member} {month}" for member, month in result.rerate)
        )
    for note in result.notes:
        console.print(f"Note: {note}", highlight=False)


def _show_written(kind: str, written: ExchangeFile) -> None:
    of_plan = f" (plan {written.plan})" if written.plan else ""
    console.print(f"{kind}{of_plan}: {written.rows} rows written to {written.path}")
    if written.identity_missing:
        errors.print(
            "[yellow]warning:[/] provider settings not set, left blank: "
            + ", ".join(written.identity_missing)
            + " (set them with `ecmbill exchange identity`)"
        )


def _out_of_plan(engine: Engine, out: Path, plan: str | None) -> tuple[Path, str | None]:
    """Where one plan's file goes: in an office of several plans its name carries the key."""
    try:
        members = plan_file(engine, plan)
    except LookupError as err:
        fail(str(err.args[0]))
    return plan_file_name(out, members.plan), members.plan


@exchange_app.command("otf")
def otf_command(
    period: PeriodOption, out: OutOption, plan: PlanOption = None, database: DatabaseOption = None
) -> None:
    """Write the Outreach Tracker File: one row per outreach attempt in the period (in an office
    of several plans, of the members of --plan on the attempt's date)."""
    month = parse_period(period)
    engine = store(database)
    target, key = _out_of_plan(engine, out, _plan_key(plan))
    try:
        written = write_otf(engine, month, target, actor=cli_actor(), plan=key)
    except OutputProblem as err:
        fail(str(err))
    _show_written("Outreach Tracker File", written)


@exchange_app.command("rtf")
def rtf_command(
    period: PeriodOption,
    out: OutOption,
    plan: PlanOption = None,
    database: DatabaseOption = None,
    contract: ContractOption = None,
) -> None:
    """Write the Return Transmission File: one row per assigned member, with their ECM status
    and the activity dates derived from recorded time (in an office of several plans, the
    members of --plan on any day of the period, under that plan's contract)."""
    month = parse_period(period)
    engine = store(database)
    target, key = _out_of_plan(engine, out, _plan_key(plan))
    contracts = plans_for(engine, contract)
    terms = contracts[key] if key is not None else contracts[contracts.first]
    try:
        written = write_rtf(engine, month, terms, target, actor=cli_actor(), plan=key)
    except (OutputProblem, ValueError) as err:
        fail(str(err))
    _show_written("Return Transmission File", written)


@exchange_app.command("identity")
def identity_command(
    provider_name: Annotated[str | None, typer.Option(help="ECM provider name.")] = None,
    provider_npi: Annotated[str | None, typer.Option(help="ECM provider NPI.")] = None,
    provider_tin: Annotated[str | None, typer.Option(help="ECM provider TIN (9 digits).")] = None,
    provider_phone: Annotated[str | None, typer.Option(help="ECM provider phone.")] = None,
    mcp_id: Annotated[str | None, typer.Option(help="The plan's (MCP) identifier.")] = None,
    mcp_name: Annotated[str | None, typer.Option(help="The plan's (MCP) name.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Show, or set, how the exchange files name the provider and the plan."""
    given = {
        "provider_name": provider_name,
        "provider_npi": provider_npi,
        "provider_tin": provider_tin,
        "provider_phone": provider_phone,
        "mcp_id": mcp_id,
        "mcp_name": mcp_name,
    }
    typed = {k: v.strip() for k, v in given.items() if v is not None}
    for key, parse in (("provider_npi", values.npi), ("provider_tin", values.tin)):
        if key in typed:
            try:
                typed[key] = parse(typed[key])
            except values.FieldError as err:
                fail(f"--{key.replace('_', '-')} {err}")
    engine = store(database)
    identity = (
        set_provider_identity(engine, typed, cli_actor()) if typed else provider_identity(engine)
    )
    for key in KEYS:
        console.print(f"{key}: {getattr(identity, key) or '(not set)'}", highlight=False)
