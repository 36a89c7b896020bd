"""The contract of each health plan an office bills."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ecmbill.contract.model import Contract
from ecmbill.domain.plans import DEFAULT_PLAN


@dataclass(frozen=True)
class PlanContracts:
    """Plan key -> contract, in the order the plans were added (the first is the office's
    first plan). With one plan the rating reads no plan assignments: every member is its
    member, and the rating's query is the one it had before plans existed."""

    contracts: Mapping[str, Contract]

    def __post_init__(self) -> None:
        if not self.contracts:
            raise ValueError("an office bills at least one plan")

    @classmethod
    def one(cls, contract: Contract, plan: str = DEFAULT_PLAN) -> PlanContracts:
        return cls({plan: contract})

    @property
    def several(self) -> bool:
        return len(self.contracts) > 1

    @property
    def first(self) -> str:
        return next(iter(self.contracts))

    def __getitem__(self, plan: str) -> Contract:
        return self.contracts[plan]

    def __iter__(self) -> Iterator[str]:
        return iter(self.contracts)

    def items(self) -> Iterator[tuple[str, Contract]]:
        return iter(self.contracts.items())

    def fingerprint(self) -> str:
        """Equal for equal contracts: a key for ratings kept between requests."""
        return "\n".join(f"{plan}={c.model_dump_json()}" for plan, c in self.items())


def as_plans(contracts: Contract | PlanContracts) -> PlanContracts:
    """A single contract is the contract of the one plan an office without plans bills."""
    if isinstance(contracts, PlanContracts):
        return contracts
    return PlanContracts.one(contracts)
