"""The contract in force: a file given for one command, else the one stored in the database,
else the default (the plan's billing guide)."""

from __future__ import annotations

from pathlib import Path

from ecmbill.contract.model import Contract, default_contract, load_contract, parse_contract
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
