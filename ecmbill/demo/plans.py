"""The demo's second health plan: its own contract and payer, its members, and two members who
move between the plans in the middle of the month.

Every name and identifier here is fake, like the rest of the demo."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from ecmbill.contract.model import default_toml
from ecmbill.demo.month import DemoFiles
from ecmbill.domain.plans import DEFAULT_PLAN, PlanSpan
from ecmbill.domain.values import EARLIEST
from ecmbill.store import models, records
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import Engine, unit_of_work

SECOND_PLAN = "chp2"
SECOND_PLAN_NAME = "Demo Community Plan 2 (fictional)"
# The second plan's payer, as its claims name it; the first plan's is the claim settings'.
SECOND_PLAN_PAYER: dict[str, str] = {
    "payer_name": SECOND_PLAN_NAME,
    "payer_id": "DEMOCHP2",
    "receiver_id": "DEMOCHP2",
    "receiver_name": SECOND_PLAN_NAME,
}
# Every third demo member is the second plan's.
EVERY = 3

# The second plan pays 10% more per unit and wants HE after U1 on clinical in-person service.
_RATES = {
    "100.00": "110.00",
    "75.00": "82.50",
    "50.00": "55.00",
    "40.00": "44.00",
    "25.00": "27.50",
    "20.00": "22.00",
}
_CLINICAL_IN_PERSON = 'modifiers = ["U1"]\nrate = "100.00"'


def second_plan_toml() -> str:
    """The default contract with the second plan's name, rates and one modifier more."""
    text = default_toml()
    assert _CLINICAL_IN_PERSON in text
    text = text.replace(_CLINICAL_IN_PERSON, 'modifiers = ["U1", "HE"]\nrate = "100.00"')
    for old, new in _RATES.items():
        assert f'rate = "{old}"' in text
        text = text.replace(f'rate = "{old}"', f'rate = "{new}"')
    name = 'name = "ECM fee-for-service (plan billing guide)"'
    assert name in text
    return text.replace(name, f'name = "{SECOND_PLAN_NAME} ECM contract"')


@dataclass(frozen=True)
class Move:
    member_id: str
    old_plan: str
    new_plan: str
    on: date


@dataclass(frozen=True)
class DemoPlans:
    # Plan key -> its name and how many members it has on the month's last day.
    names: dict[str, str]
    members: dict[str, int]
    moves: tuple[Move, ...]


def add_second_plan(engine: Engine, files: DemoFiles, *, actor: str = "demo") -> DemoPlans:
    """Add the second plan after the month's members are imported: adding it gives every
    member the default plan; every third member is then the second plan's from the start, and
    two members with time on both sides of the 16th move, one each way. Each member of the
    second plan (movers too) has that plan's eligibility, as the default plan says it."""
    period = files.period
    moving_on = period.start + timedelta(days=15)
    member_ids = [row["member_id"] for row in _rows(files.members)]
    second = {m for number, m in enumerate(member_ids, start=1) if number % EVERY == 0}
    eligible = {
        row["member_id"]
        for row in _rows(files.eligibility)
        if row["month"] == str(period) and row["eligible"] == "true"
    }
    both_halves = _worked_before_and_after(files.time, moving_on) & eligible
    to_second = next(m for m in member_ids if m not in second and m in both_halves)
    to_first = next(m for m in member_ids if m in second and m in both_halves)
    moves = (
        Move(to_second, DEFAULT_PLAN, SECOND_PLAN, moving_on),
        Move(to_first, SECOND_PLAN, DEFAULT_PLAN, moving_on),
    )
    # The second plan's eligibility file says what the first plan's does of its members.
    eligibility = [
        (
            (row["member_id"], row["month"], SECOND_PLAN),
            {**row, "plan": SECOND_PLAN, "eligible": row["eligible"] == "true"},
        )
        for row in _rows(files.eligibility)
        if row["member_id"] in second or row["member_id"] == to_second
    ]
    with unit_of_work(engine) as session:
        stored_plans.add_plan(
            session, SECOND_PLAN, SECOND_PLAN_NAME, second_plan_toml(), SECOND_PLAN_PAYER, actor
        )
        for member_id in sorted(second):
            stored_plans.assign(session, PlanSpan(member_id, SECOND_PLAN, EARLIEST), actor)
        for move in moves:
            stored_plans.assign(session, PlanSpan(move.member_id, move.new_plan, move.on), actor)
        records.upsert(
            session, models.Eligibility, ("member_id", "month", "plan"), eligibility,
            actor, "eligibility",
        )  # fmt: skip
        plans = stored_plans.plans(session)
        on_last_day = stored_plans.plan_of_members(session, member_ids, period.end)
    return DemoPlans(
        names={plan.key: plan.name for plan in plans},
        members={plan.key: sum(1 for p in on_last_day.values() if p == plan.key) for plan in plans},
        moves=moves,
    )


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def _worked_before_and_after(time_file: Path, day: date) -> set[str]:
    before: set[str] = set()
    after: set[str] = set()
    for row in _rows(time_file):
        (before if date.fromisoformat(row["date"]) < day else after).add(row["member_id"])
    return before & after
