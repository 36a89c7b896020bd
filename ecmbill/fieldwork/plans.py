"""The health plans as the pages show them: their names, a member's plan spans, the members'
plan on a day, and a biller giving a member a plan from a date (``ecmbill.store.plans``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from ecmbill.domain.checks import ROW_RULES, Known, read_row, row_problems
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
    typed: Mapping[str, str],
    *,
    actor: str,
    today: date,
) -> PlanSpan:
    """Give the member the plan typed from its start date (to its end date, or open), read by
    the ``plan_assignments`` import's own row rules, so the form and a file refuse the same
    rows in the same words. The member's other spans are cut back around it; every change is
    in the audit trail."""
    cells = {
        "member_id": member_id,
        "plan": typed.get("plan", ""),
        "start_date": typed.get("start", ""),
        "end_date": typed.get("end", ""),
    }
    rules = ROW_RULES["plan_assignments"]
    with unit_of_work(engine) as session:
        on_file = stored_members.is_member(session, member_id)
        known = {
            Known.MEMBER: {member_id} if on_file else set(),
            Known.PLAN: {plan.key for plan in stored_plans.plans(session)},
        }
        problems = row_problems(rules, cells, today=today, known=known)
        if problems:
            raise PlanRefused("; ".join(f"{p.column}: {p.reason}" for p in problems))
        found = read_row(rules, cells, today=today, known=known)
        span = PlanSpan(member_id, found["plan"], found["start_date"], found["end_date"])
        stored_plans.assign(session, span, actor)
    return span
