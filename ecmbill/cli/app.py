"""The Typer application and what every command shares: the database, the contract, output."""

from __future__ import annotations

from datetime import date
from importlib import import_module
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from typer import _click as click  # Typer's own copy of Click, which its classes are built on
from typer.core import TyperGroup

from ecmbill import installed_version
from ecmbill.contract import Contract, ContractError
from ecmbill.contract.plans import PlanContracts
from ecmbill.contract.stored import current_contract, current_plans
from ecmbill.domain import values
from ecmbill.domain.period import Period
from ecmbill.store.db import Engine, StoreUnavailable, open_store

# The modules of ``ecmbill/cli`` that register each command, in the order ``ecmbill --help``
# lists them. A command's module is imported only when that command is run (or help lists
# them all), so ``ecmbill import`` does not load the rating engines (Ibis, DuckDB, PyArrow),
# the web app or the X12 readers before reading a row.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "import": ("imports",),
    "rate": ("rating",),
    "report": ("rating",),
    "close": ("claims",),
    "demo": ("demo",),
    "serve": ("web",),
    "backup": ("backup",),
    "restore": ("backup",),
    # ``ecmbill.cli.corrections`` adds spans and corrections to the members group.
    "members": ("members", "corrections"),
    "staff": ("corrections",),
    "time": ("corrections",),
    "outreach": ("corrections",),
    "contract": ("contract",),
    "plans": ("plans",),
    "ack": ("payer",),
    "eligibility": ("payer",),
    "claims": ("claims",),
    "settings": ("claims",),
    "remit": ("remit",),
    "exchange": ("exchange",),
    "users": ("web",),
}


class _CommandsOnDemand(TyperGroup):
    """The commands of ``ecmbill``, each built from its module when first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            # A name that is no command loads them all: the error then suggests the nearest.
            everything = [name for names in COMMAND_MODULES.values() for name in names]
            for module in COMMAND_MODULES.get(cmd_name, everything):
                import_module(f"ecmbill.cli.{module}")
            for name, command in typer.main.get_group(app).commands.items():
                self.commands.setdefault(name, command)
        return super().get_command(ctx, cmd_name)


# Locals are never shown in tracebacks: they may hold member names and identifiers.
app = typer.Typer(
    cls=_CommandsOnDemand,
    help="Billing for Medi-Cal Enhanced Care Management (ECM): time to units, claims, remittances.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
console = Console()
errors = Console(stderr=True)


def _show_version(wanted: bool) -> None:
    if wanted:
        console.print(f"ecmbill {installed_version()}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Options for ecmbill itself, before the command."""


ContractOption = Annotated[
    Path | None,
    typer.Option(
        "--contract",
        help="Contract TOML to use instead of the one stored in the database (default: the "
        "plan's billing guide).",
        exists=True,
        dir_okay=False,
    ),
]
PeriodOption = Annotated[str, typer.Option("--period", help="Billing period, YYYY-MM.")]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        envvar="ECMBILL_DATABASE_URL",
        help="SQLAlchemy database URL (default: sqlite:///ecmbill.db in this folder).",
    ),
]


def store(database: str | None) -> Engine:
    try:
        return open_store(database)
    except StoreUnavailable as err:
        fail(str(err))


def contract_for(engine: Engine, override: Path | None) -> Contract:
    try:
        return current_contract(engine, override)
    except ContractError as err:
        fail(str(err))


def plans_for(engine: Engine, override: Path | None) -> PlanContracts:
    """The contract of every plan; ``--contract FILE`` replaces the first plan's."""
    try:
        return current_plans(engine, override)
    except ContractError as err:
        fail(str(err))


def fail(message: str, code: int = 2) -> NoReturn:
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def parse_period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as err:
        fail(str(err))


def parse_day(text: str | None, option: str = "--on") -> date:
    """A date typed after ``option``, read as an import file's date is; none given: today."""
    if text is None:
        return date.today()
    try:
        return values.day(text, today=date.max)
    except values.FieldError as err:
        # The import's own reason, so every door refuses a date in the same words.
        fail(f"{option} {err}")
