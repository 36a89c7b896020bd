"""The health plans as the pages show them: their names, a member's plan spans, the members'
plan on a day, and a biller giving a member a plan from a date (``ecmbill.store.plans``)."""

from __future__ import annotations

from datetime import date

from ecmbill.domain.plans import PlanSpan
from ecmbill.store import members as stored_members
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import Engine, unit_of_work


class PlanRefused(ValueError):
    """A plan assignment that cannot be made, with the reason in words."""


def plan_names(engine: Engine) -> dict[str, str]:
    """Plan key -> name, the office's first plan first."""
    with unit_of_work(engine) as session:
        return {p.key: p.name for p in stored_plans.plans(session)}


def member_spans(engine: Engine, member_id: str) -> list[PlanSpan]:
    """The member's plan spans, earliest first."""
    with unit_of_work(engine) as session:
        return stored_plans.spans_of(session, [member_id])


def plans_on(engine: Engine, member_ids: list[str], on: date) -> dict[str, str]:
    """Each member's plan on ``on`` (a member with none is absent)."""
    if not member_ids:
        return {}
    with unit_of_work(engine) as session:
        return stored_plans.plan_of_members(session, member_ids, on)


def assign_plan(
    engine: Engine,
    member_id: str,
    plan: str,
    start: date,
    end: date | None,
    *,
    actor: str,
) -> PlanSpan:
    """Give the member ``plan`` from ``start`` (to ``end``, or open). The member's other spans
    are cut back around it; every change is in the audit trail."""
    if end is not None and end < start:
        raise PlanRefused(f"the end date {end} is before the start date {start}")
    with unit_of_work(engine) as session:
        if stored_plans.plan(session, plan) is None:
            raise PlanRefused(f"no plan {plan!r}")
        if not stored_members.is_member(session, member_id):
            raise PlanRefused("no such member")
        span = PlanSpan(member_id, plan, start, end)
        stored_plans.assign(session, span, actor)
    return span
