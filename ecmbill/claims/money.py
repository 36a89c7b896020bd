"""Money at a glance for a period: what its lines are expected to bill before the close
(units × the contract's rate for the code and modifiers) and what its claims bill after it
(the charges of each member's standing claim), by code and in total."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ecmbill.contract import Contract
from ecmbill.domain.lines import ClaimLine
from ecmbill.domain.period import Period
from ecmbill.store import claims as stored
from ecmbill.store.db import Engine, unit_of_work

CENT = Decimal("0.01")


@dataclass(frozen=True)
class CodeMoney:
    code: str
    modifiers: tuple[str, ...]
    description: str  # the contract's words for the code and modifiers
    lines: int
    units: int
    rate: Decimal | None  # per unit; None when the contract in force has no rate for it
    amount: Decimal


@dataclass(frozen=True)
class Money:
    by_code: tuple[CodeMoney, ...]

    @property
    def units(self) -> int:
        return sum(c.units for c in self.by_code)

    @property
    def lines(self) -> int:
        return sum(c.lines for c in self.by_code)

    @property
    def total(self) -> Decimal:
        return sum((c.amount for c in self.by_code), Decimal("0.00")).quantize(CENT)


def code_descriptions(contract: Contract) -> dict[tuple[str, tuple[str, ...]], str]:
    """The contract's words for each code and its modifiers."""
    return {(entry.code, tuple(entry.modifiers)): entry.description for entry in contract.codes}


def describe(contract: Contract, code: str, modifiers: Iterable[str]) -> str:
    key = (code, tuple(modifiers))
    return code_descriptions(contract).get(key, " ".join((code, *key[1])))


def expected(lines: Iterable[ClaimLine], contract: Contract) -> Money:
    """Before the close: per code and modifiers, the units of the rated lines times the
    contract's rate per unit. 3 units of G9008 U1 at $100.00 expect $300.00."""
    groups: dict[tuple[str, tuple[str, ...]], list[ClaimLine]] = {}
    for line in lines:
        groups.setdefault((line.code, line.modifiers), []).append(line)
    words = code_descriptions(contract)
    result = []
    for (code, modifiers), items in sorted(groups.items()):
        units = sum(item.units for item in items)
        try:
            rate: Decimal | None = contract.rate_for(code, modifiers)
        except KeyError:
            rate = None
        amount = (rate * units).quantize(CENT) if rate is not None else Decimal("0.00")
        result.append(
            CodeMoney(code, modifiers, words.get((code, modifiers), " ".join((code, *modifiers))),
                      len(items), units, rate, amount)
        )  # fmt: skip
    return Money(tuple(result))


def claimed(engine: Engine, period: Period, contract: Contract) -> Money:
    """After the close: per code and modifiers, the charges on each member's standing claim
    (the newest the payer did not reject; a void bills nothing), summed by the database."""
    with unit_of_work(engine) as session:
        found = stored.claimed_by_code(session, str(period))
    words = code_descriptions(contract)
    return Money(
        tuple(
            CodeMoney(
                c.code,
                c.modifiers,
                words.get((c.code, c.modifiers), " ".join((c.code, *c.modifiers))),
                c.lines,
                c.units,
                (c.charge / c.units).quantize(CENT) if c.units else None,
                c.charge,
            )
            for c in found
        )
    )
