"""``ecmbill plans``: the health plans the office bills, each with its contract and payer."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ecmbill.claims.settings import SettingsError, check_one
from ecmbill.cli.app import DatabaseOption, app, console, fail, store
from ecmbill.contract import ContractError, load_contract
from ecmbill.contract.stored import store_contract
from ecmbill.domain import values
from ecmbill.domain.plans import PLAN_KEY_PATTERN
from ecmbill.store import plans as stored_plans
from ecmbill.store.audit import cli_actor
from ecmbill.store.db import Engine, unit_of_work

plans_app = typer.Typer(
    help="The health plans the office bills: each plan's contract and payer.",
    no_args_is_help=True,
)
app.add_typer(plans_app, name="plans")

# The payer fields a plan may set, named as the claim settings name them (ProviderSettings).
PAYER_FIELDS = ("payer_id", "payer_name", "receiver_id", "receiver_name")

NameOption = Annotated[
    str | None, typer.Option("--name", help="The plan's name, as billers say it.")
]
PlanContractOption = Annotated[
    Path | None,
    typer.Option(
        "--contract",
        help="The plan's contract TOML (default: the plan's billing guide; for the first plan, "
        "stored as `ecmbill contract set` stores it).",
        exists=True,
        dir_okay=False,
    ),
]
PayerId = Annotated[str | None, typer.Option("--payer-id", help="Payer id (2010BB NM109).")]
PayerName = Annotated[str | None, typer.Option("--payer-name", help="Payer name (2010BB NM103).")]
ReceiverId = Annotated[
    str | None, typer.Option("--receiver-id", help="Receiver id (ISA08/GS03) of its claims.")
]
ReceiverName = Annotated[
    str | None, typer.Option("--receiver-name", help="Receiver name (1000B) of its claims.")
]


def plan_key(text: str) -> str:
    key = text.strip().lower()
    if not re.match(PLAN_KEY_PATTERN, key):
        fail(
            f"plan key {text.strip()!r} is not valid: lower-case letters, digits, - and _, "
            "starting with a letter or digit, up to 20 characters (it is typed on the command "
            "line and written in file names)"
        )
    return key


def _name(text: str) -> str:
    try:
        return values.text(text, max_length=100)
    except values.FieldError as err:
        fail(f"--name {err}")


def _contract_text(path: Path) -> str:
    """The contract file's text once it reads as a contract (else the key and the reason)."""
    try:
        load_contract(path)
    except ContractError as err:
        fail(str(err))
    return path.read_text(encoding="utf-8")


def _payer(given: dict[str, str | None]) -> dict[str, str]:
    """The payer fields given, each checked as the claim settings check it."""
    checked = {}
    for key, value in given.items():
        if value is None:
            continue
        try:
            checked[key] = check_one(key, value)
        except SettingsError as err:
            fail(f"--{key.replace('_', '-')}: " + "; ".join(err.problems))
    return checked


@plans_app.command("add")
def plans_add(
    key: Annotated[str, typer.Argument(help="Short key: letters, digits, - and _ (e.g. plan-b).")],
    name: Annotated[str, typer.Option("--name", help="The plan's name, as billers say it.")],
    contract: PlanContractOption = None,
    payer_id: PayerId = None,
    payer_name: PayerName = None,
    receiver_id: ReceiverId = None,
    receiver_name: ReceiverName = None,
    database: DatabaseOption = None,
) -> None:
    """Add a plan the office bills. Adding the second plan gives every member the first plan
    from the start (nothing billed changes until a member's plan says otherwise)."""
    plan = plan_key(key)
    title = _name(name)
    text = _contract_text(contract) if contract is not None else None
    payer = _payer(
        {"payer_id": payer_id, "payer_name": payer_name, "receiver_id": receiver_id,
         "receiver_name": receiver_name}
    )  # fmt: skip
    engine = store(database)
    with unit_of_work(engine) as session:
        if stored_plans.plan(session, plan) is not None:
            fail(f"plan {plan!r} already exists: change it with `ecmbill plans set {plan} ...`")
        stored_plans.add_plan(session, plan, title, text, payer, cli_actor())
    console.print(f"Plan {plan} added: {title}", highlight=False)


@plans_app.command("list")
def plans_list(database: DatabaseOption = None) -> None:
    """The plans the office bills, the first plan first."""
    engine = store(database)
    with unit_of_work(engine) as session:
        rows = stored_plans.plans(session)
    table = Table("#", "key", "name", "contract", "payer", title="Plans")
    for row in rows:
        table.add_row(str(row.position), row.key, row.name, _contract_word(row), _payer_word(row))
    console.print(table)


def _contract_word(row: stored_plans.StoredPlan) -> str:
    if row.first:
        return "the office's (ecmbill contract)"
    return "its own" if row.contract_toml else "the billing guide's"


def _payer_word(row: stored_plans.StoredPlan) -> str:
    if row.first and not row.payer_settings:
        return "the claim settings'"
    payer = row.payer_settings
    return f"{payer.get('payer_name', '')} {payer.get('payer_id', '')}".strip() or "(not set)"


@plans_app.command("show")
def plans_show(
    key: Annotated[str, typer.Argument(help="The plan's key.")], database: DatabaseOption = None
) -> None:
    """One plan: its name, contract and payer settings."""
    engine = store(database)
    row = _existing(engine, plan_key(key))
    console.print(f"key: {row.key}", highlight=False)
    console.print(f"name: {row.name}", highlight=False)
    console.print(f"position: {row.position}{' (the first plan)' if row.first else ''}")
    console.print(f"contract: {_contract_word(row)}", highlight=False)
    for field in PAYER_FIELDS:
        value = row.payer_settings.get(field)
        if value is None and row.first:
            value = "(the claim settings')"
        console.print(f"{field}: {value or '(not set)'}", highlight=False)


def _existing(engine: Engine, key: str) -> stored_plans.StoredPlan:
    with unit_of_work(engine) as session:
        row = stored_plans.plan(session, key)
        known = [p.key for p in stored_plans.plans(session)]
    if row is None:
        fail(f"no plan {key!r} (the office's plans: {', '.join(known)})")
    return row


@plans_app.command("set")
def plans_set(
    key: Annotated[str, typer.Argument(help="The plan's key.")],
    name: NameOption = None,
    contract: PlanContractOption = None,
    payer_id: PayerId = None,
    payer_name: PayerName = None,
    receiver_id: ReceiverId = None,
    receiver_name: ReceiverName = None,
    database: DatabaseOption = None,
) -> None:
    """Change a plan's name, contract or payer settings (others stay as they are)."""
    plan = plan_key(key)
    title = _name(name) if name is not None else None
    text = _contract_text(contract) if contract is not None else None
    payer = _payer(
        {"payer_id": payer_id, "payer_name": payer_name, "receiver_id": receiver_id,
         "receiver_name": receiver_name}
    )  # fmt: skip
    if title is None and text is None and not payer:
        fail("nothing to change: give --name, --contract or a payer setting")
    engine = store(database)
    row = _existing(engine, plan)
    if row.first and payer:
        fail(
            "the first plan's payer is the claim settings' payer: set it with "
            "`ecmbill settings set payer_id VALUE` (and payer_name, receiver_id, receiver_name)"
        )
    if row.first and text is not None and contract is not None:
        # The first plan's contract is the office's contract, stored where it always was.
        try:
            store_contract(engine, contract, cli_actor())
        except ContractError as err:
            fail(str(err))
        text = None
    if title is not None or text is not None or payer:
        with unit_of_work(engine) as session:
            stored_plans.update_plan(
                session, plan, cli_actor(), name=title, contract_toml=text,
                payer_settings=payer or None,
            )  # fmt: skip
    console.print(f"Plan {plan} changed.", highlight=False)
