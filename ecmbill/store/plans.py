"""The health plans an office bills, and each member's plan by date span."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecmbill.domain.period import Period
from ecmbill.domain.plans import DEFAULT_PLAN, PlanSpan
from ecmbill.domain.values import EARLIEST
from ecmbill.store import audit, models


@dataclass(frozen=True)
class StoredPlan:
    key: str
    name: str
    position: int
    # None: the office's contract (the first plan) or the guide's (any other plan).
    contract_toml: str | None
    # The payer and exchange settings that differ from the claim settings.
    payer_settings: dict[str, str]

    @property
    def first(self) -> bool:
        return self.position == 1


def _stored(row: models.Plan) -> StoredPlan:
    return StoredPlan(
        key=row.key,
        name=row.name,
        position=row.position,
        contract_toml=row.contract_toml,
        payer_settings=json.loads(row.payer_settings or "{}"),
    )


def plans(session: Session) -> list[StoredPlan]:
    """Every plan, the office's first plan first."""
    return [_stored(row) for row in session.scalars(select(models.Plan).order_by("position"))]


def plan(session: Session, key: str) -> StoredPlan | None:
    row = session.get(models.Plan, key)
    return _stored(row) if row else None


def add_plan(
    session: Session,
    key: str,
    name: str,
    contract_toml: str | None,
    payer_settings: dict[str, str],
    actor: str,
) -> StoredPlan:
    """Add a plan after the others. When it is the second plan, every member without a plan
    span is given the first plan from the earliest date, so adding a plan changes no bill
    until a member's plan says otherwise."""
    position = (session.scalar(select(func.max(models.Plan.position))) or 0) + 1
    row = models.Plan(
        key=key,
        name=name,
        position=position,
        contract_toml=contract_toml,
        payer_settings=json.dumps(payer_settings, sort_keys=True),
        created_at=audit.now(),
    )
    session.add(row)
    session.flush()
    audit.record_change(
        session,
        actor=actor,
        action="create",
        entity="plans",
        key=key,
        after={"name": name, "position": position, "payer_settings": payer_settings},
    )
    if position == 2:
        first = plans(session)[0].key
        unassigned = session.scalars(
            select(models.Member.member_id).where(
                ~select(models.PlanAssignment.id)
                .where(models.PlanAssignment.member_id == models.Member.member_id)
                .exists()
            )
        ).all()
        for member_id in unassigned:
            assign(session, PlanSpan(member_id, first, EARLIEST), actor)
    return _stored(row)


def update_plan(
    session: Session,
    key: str,
    actor: str,
    *,
    name: str | None = None,
    contract_toml: str | None = None,
    payer_settings: dict[str, str] | None = None,
) -> StoredPlan:
    row = session.get(models.Plan, key)
    if row is None:
        raise LookupError(f"no plan {key!r}")
    before = {"name": row.name, "payer_settings": json.loads(row.payer_settings or "{}")}
    if name is not None:
        row.name = name
    if contract_toml is not None:
        row.contract_toml = contract_toml
    if payer_settings is not None:
        merged = {**before["payer_settings"], **payer_settings}
        row.payer_settings = json.dumps(merged, sort_keys=True)
    after = {"name": row.name, "payer_settings": json.loads(row.payer_settings)}
    audit.record_change(
        session,
        actor=actor,
        action="update",
        entity="plans",
        key=key,
        before=before,
        after=after,
        # The trail says a contract was changed, not the whole file.
        reason="contract changed" if contract_toml is not None else None,
    )
    return _stored(row)


def spans_of(session: Session, member_ids: list[str] | None = None) -> list[PlanSpan]:
    """Plan spans (of ``member_ids``, or of every member), in date order per member."""
    query = select(models.PlanAssignment).order_by(
        models.PlanAssignment.member_id, models.PlanAssignment.start_date
    )
    if member_ids is not None:
        query = query.where(models.PlanAssignment.member_id.in_(member_ids))
    return [
        PlanSpan(row.member_id, row.plan, row.start_date, row.end_date)
        for row in session.scalars(query)
    ]


def assign(session: Session, span: PlanSpan, actor: str) -> bool:
    """Give the member ``span.plan`` from ``span.start`` (to ``span.end``). What the member's
    other spans said of those days is cut back around it: a span from before ends the day
    before, a span that reaches past it resumes the day after, a span inside it is removed.
    Each change is in the audit trail. False when the member already had that plan on every
    one of those days (nothing changed)."""
    rows = session.scalars(
        select(models.PlanAssignment).where(models.PlanAssignment.member_id == span.member_id)
    ).all()
    end = span.end or date.max
    for row in rows:
        row_end = row.end_date or date.max
        if row_end < span.start or row.start_date > end:
            continue
        if row.plan == span.plan and row.start_date <= span.start and row_end >= end:
            return False  # already so
        before = _span_values(row)
        if row.start_date < span.start:
            tail = row_end > end
            row.end_date = span.start - timedelta(days=1)
            session.flush()
            _audit_span(session, actor, "update", row, before)
            if tail:
                _add_span(session, row.member_id, row.plan, end + timedelta(days=1),
                          None if row_end == date.max else row_end, actor)  # fmt: skip
        elif row_end > end:
            row.start_date = end + timedelta(days=1)
            session.flush()
            _audit_span(session, actor, "update", row, before)
        else:
            session.delete(row)
            session.flush()
            audit.record_change(
                session, actor=actor, action="delete", entity="plan_assignments",
                key=_span_key(before), before=before,
            )  # fmt: skip
    _add_span(session, span.member_id, span.plan, span.start, span.end, actor)
    return True


def end_plan(session: Session, member_id: str, last_day: date, actor: str) -> None:
    """The member has no plan after ``last_day``: the span holding it ends there, later spans
    are removed. Each change is in the audit trail."""
    rows = session.scalars(
        select(models.PlanAssignment).where(models.PlanAssignment.member_id == member_id)
    ).all()
    for row in rows:
        before = _span_values(row)
        if row.start_date > last_day:
            session.delete(row)
            session.flush()
            audit.record_change(
                session, actor=actor, action="delete", entity="plan_assignments",
                key=_span_key(before), before=before,
            )  # fmt: skip
        elif (row.end_date or date.max) > last_day:
            row.end_date = last_day
            session.flush()
            _audit_span(session, actor, "update", row, before)


def _add_span(
    session: Session, member_id: str, plan: str, start: date, end: date | None, actor: str
) -> None:
    row = models.PlanAssignment(member_id=member_id, plan=plan, start_date=start, end_date=end)
    session.add(row)
    session.flush()
    _audit_span(session, actor, "create", row, None)


def _span_values(row: models.PlanAssignment) -> dict[str, object]:
    return {
        "member_id": row.member_id,
        "plan": row.plan,
        "start_date": row.start_date,
        "end_date": row.end_date,
    }


def _span_key(values: dict[str, object]) -> str:
    start = values["start_date"]
    return f"{values['member_id']}/{start.isoformat() if isinstance(start, date) else start}"


def _audit_span(
    session: Session,
    actor: str,
    action: str,
    row: models.PlanAssignment,
    before: dict[str, object] | None,
) -> None:
    after = _span_values(row)
    audit.record_change(
        session, actor=actor, action=action, entity="plan_assignments",
        key=_span_key(after), before=before, after=after,
    )  # fmt: skip


def plan_of_members(session: Session, member_ids: list[str], on: date) -> dict[str, str]:
    """Each member's plan on ``on`` (members with none are absent)."""
    pa = models.PlanAssignment
    query = select(pa.member_id, pa.plan).where(
        pa.member_id.in_(member_ids),
        pa.start_date <= on,
        (pa.end_date.is_(None)) | (pa.end_date >= on),
    )
    return dict(session.execute(query).all())


def members_with_plan(
    session: Session, member_ids: list[str], plan: str, period: Period
) -> list[str]:
    """The members named who have ``plan`` on a day of ``period``, sorted."""
    pa = models.PlanAssignment
    found: set[str] = set()
    for start in range(0, len(member_ids), 500):
        query = select(pa.member_id).where(
            pa.member_id.in_(member_ids[start : start + 500]),
            pa.plan == plan,
            pa.start_date <= period.end,
            (pa.end_date.is_(None)) | (pa.end_date >= period.start),
        )
        found.update(session.scalars(query))
    return sorted(found)


def first_plan(session: Session) -> str:
    """The office's first plan (the one a file that names no plan speaks for)."""
    key = session.scalar(select(models.Plan.key).order_by(models.Plan.position).limit(1))
    return key or DEFAULT_PLAN


def chosen_plan(session: Session, key: str | None) -> str:
    """The plan ``--plan KEY`` names (None: the first plan); ``LookupError`` for a key that is
    not a plan of this office, with the keys it has."""
    if key is None:
        return first_plan(session)
    if session.get(models.Plan, key) is None:
        known = ", ".join(p.key for p in plans(session))
        raise LookupError(f"no plan {key!r} (the office's plans: {known})")
    return key


def several(session: Session) -> bool:
    """Whether the office bills more than one plan."""
    return (session.scalar(select(func.count()).select_from(models.Plan)) or 0) > 1


def eligibility_of(
    session: Session, members: Iterable[str], plan: str
) -> dict[tuple[str, str], bool]:
    """The stored eligibility of the members named for one plan, by member and month."""
    table = models.Eligibility
    found: dict[tuple[str, str], bool] = {}
    ids = sorted(set(members))
    for start in range(0, len(ids), 500):
        query = select(table.member_id, table.month, table.eligible).where(
            table.plan == plan, table.member_id.in_(ids[start : start + 500])
        )
        for member_id, month, eligible in session.execute(query):
            found[(member_id, month)] = eligible
    return found
