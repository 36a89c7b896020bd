"""Monthly eligibility as the plan's files say it (an 834, a 271), written through one path:
the audited upsert every import uses, and a re-rating mark for each month whose eligibility
changes after the fact for a member with recorded time or outreach in it."""

from __future__ import annotations

from collections.abc import Mapping

from ecmbill.store import models, records
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import Session

MemberMonth = tuple[str, str]


def record_months(
    session: Session,
    months: Mapping[MemberMonth, bool],
    *,
    actor: str,
    batch_id: int | None,
    source: str,
    plan: str | None = None,
) -> tuple[int, list[MemberMonth]]:
    """Store eligible / not eligible per (member, YYYY-MM) for ``plan`` (None: the office's
    first plan): each plan's files speak for that plan only. Returns how many rows changed
    and the months marked for re-rating (a closed month's claim is then replaced or voided by
    the next close)."""
    if not months:
        return 0, []
    plan = plan or stored_plans.first_plan(session)
    members = {member_id for member_id, _ in months}
    stored = stored_plans.eligibility_of(session, members, plan)
    worked = records.months_with_work(session, members)
    found = []
    rerate: list[tuple[str, str, str]] = []
    for (member_id, month), eligible in sorted(months.items()):
        found.append(
            (
                (member_id, month, plan),
                {"member_id": member_id, "month": month, "plan": plan, "eligible": eligible},
            )
        )
        if bool(stored.get((member_id, month))) != eligible and (member_id, month) in worked:
            change = "started" if eligible else "ended"
            why = f"{source}: Medi-Cal coverage {change} for {month} after the fact"
            rerate.append((member_id, month, why))
    changed = records.upsert(
        session, models.Eligibility, ("member_id", "month", "plan"), found, actor, "eligibility"
    ).changed
    records.mark_for_rerating(session, rerate, batch_id)
    return changed, [(member_id, month) for member_id, month, _ in rerate]
