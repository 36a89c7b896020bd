"""Contract data: codes, modifiers, rates, activities and outreach rules, read from TOML."""

from ecmbill.contract.model import (
    Activity,
    CodeEntry,
    Contract,
    ContractError,
    default_contract,
    load_contract,
    parse_contract,
)

__all__ = [
    "Activity",
    "CodeEntry",
    "Contract",
    "ContractError",
    "default_contract",
    "load_contract",
    "parse_contract",
]
