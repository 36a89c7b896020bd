"""The contract in force: a file given for one command, else the one stored in the database,
else the default (the plan's billing guide)."""

from __future__ import annotations

from pathlib import Path

from ecmbill.contract.model import Contract, default_contract, load_contract, parse_contract
from ecmbill.contract.plans import PlanContracts
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import Engine, unit_of_work
from ecmbill.store.settings import read_setting, write_settings

CONTRACT_SETTING = "contract_toml"


def current_contract(engine: Engine, override: Path | None = None) -> Contract:
    """``--contract FILE`` if given, else the contract stored in the database, else the
    default (the plan's billing guide)."""
    if override is not None:
        return load_contract(override)
    with unit_of_work(engine) as session:
        text = read_setting(session, CONTRACT_SETTING)
    return parse_contract(text, "stored contract") if text else default_contract()


def current_plans(engine: Engine, override: Path | None = None) -> PlanContracts:
    """The contract of every plan the office bills, the first plan's as ``current_contract``
    gives it (``--contract FILE`` overrides that one only); another plan's is the file given
    when it was added, else the guide's."""
    first = current_contract(engine, override)
    with unit_of_work(engine) as session:
        rows = stored_plans.plans(session)
    if not rows:  # a store made before plans existed and not migrated yet
        return PlanContracts.one(first)
    contracts: dict[str, Contract] = {}
    for row in rows:
        if row.first:
            contracts[row.key] = first
        elif row.contract_toml:
            contracts[row.key] = parse_contract(row.contract_toml, f"contract of plan {row.key}")
        else:
            contracts[row.key] = default_contract()
    return PlanContracts(contracts)


def store_contract(engine: Engine, path: Path, actor: str) -> Contract:
    """Validate a contract file and keep it in the database for every later command."""
    contract = load_contract(path)
    text = path.read_text(encoding="utf-8")
    with unit_of_work(engine) as session:
        # The trail keeps the contract's name, not the whole file.
        write_settings(
            session,
            {CONTRACT_SETTING: text},
            actor=actor,
            audited_as=lambda value: {"name": current_name(value)},
        )
    return contract


def current_name(text: str) -> str:
    try:
        return parse_contract(text).name
    except ValueError:
        return "(unreadable)"
