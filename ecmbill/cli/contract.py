"""``ecmbill contract``: the contract in force, checking a contract file, storing one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ecmbill.cli.app import ContractOption, DatabaseOption, app, console, contract_for, fail, store
from ecmbill.contract import ContractError, load_contract
from ecmbill.contract.model import default_toml
from ecmbill.contract.stored import store_contract
from ecmbill.store.audit import cli_actor

contract_app = typer.Typer(
    help="The contract: codes, rates, activities, outreach rules.", no_args_is_help=True
)
app.add_typer(contract_app, name="contract")


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
        terms = store_contract(engine, file, cli_actor())
    except ContractError as err:
        fail(str(err))
    console.print(f"Contract stored: {terms.name}")


@contract_app.command("default")
def contract_default() -> None:
    """Print the default contract (the plan's billing guide) as TOML, to copy and edit."""
    typer.echo(default_toml(), nl=False)
