"""Members as stored: who they are, their enrollment spans, status events and lead care
managers. Every write here is audited in the same transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from ecmbill.domain.lifecycle import Event, Span, Status
from ecmbill.domain.period import Period
from ecmbill.store import audit, models
from ecmbill.store.db import unit_of_work

History = tuple[list[Event], list[Span], list[date]]


@dataclass(frozen=True)
class MemberSummary:
    member_id: str
    name: str
    birth_date: date | None = None


def is_member(session: Session, member_id: str) -> bool:
    return session.get(models.Member, member_id) is not None


def member(engine: Engine, member_id: str) -> models.Member | None:
    with unit_of_work(engine) as session:
        return session.get(models.Member, member_id)


def _like(part: str) -> str:
    """``part`` as a LIKE pattern that matches it literally anywhere: ``%`` and ``_`` typed
    are letters, not wildcards (a search for ``%`` must not list every member)."""
    escaped = part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped


def _matching(
    name_parts: Sequence[str], birth_date: date | None, within: frozenset[str] | None
) -> Any:
    member = models.Member
    query = select(member)
    for part in name_parts:
        text = _like(part.lower())
        query = query.where(
            or_(
                member.member_id.ilike(f"{_like(part.upper())}%", escape="\\"),
                member.first_name.ilike(f"%{text}%", escape="\\"),
                member.last_name.ilike(f"%{text}%", escape="\\"),
            )
        )
    if birth_date is not None:
        query = query.where(member.birth_date == birth_date)
    if within is not None:
        query = query.where(member.member_id.in_(within))
    return query


def search(
    engine: Engine,
    name_parts: Sequence[str],
    birth_date: date | None,
    limit: int,
    within: frozenset[str] | None = None,
    offset: int = 0,
) -> tuple[list[MemberSummary], int]:
    """Members each of whose ``name_parts`` starts their CIN or is in their first or last name
    (in any order), born on ``birth_date`` when given; only among ``within`` when given (a
    caseload). One page of them, and how many match in all."""
    if (within is not None and not within) or not (name_parts or birth_date):
        return [], 0
    member = models.Member
    query = _matching(name_parts, birth_date, within)
    with unit_of_work(engine) as session:
        total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
        rows = session.scalars(
            query.order_by(member.last_name, member.first_name, member.member_id)
            .offset(offset)
            .limit(limit)
        )
        return [_summary(m) for m in rows], total


def summaries(engine: Engine, member_ids: Sequence[str]) -> list[MemberSummary]:
    """The members of ``member_ids``, by name."""
    member = models.Member
    found: list[MemberSummary] = []
    ids = list(member_ids)
    with unit_of_work(engine) as session:
        for start in range(0, len(ids), 500):
            found += [
                _summary(m)
                for m in session.scalars(
                    select(member).where(member.member_id.in_(ids[start : start + 500]))
                )
            ]
    return sorted(found, key=lambda m: (m.name.lower(), m.member_id))


def _summary(m: models.Member) -> MemberSummary:
    return MemberSummary(m.member_id, f"{m.last_name}, {m.first_name}", m.birth_date)


def eligibility(engine: Engine, member_id: str) -> list[models.Eligibility]:
    with unit_of_work(engine) as session:
        return list(
            session.scalars(
                select(models.Eligibility)
                .where(models.Eligibility.member_id == member_id)
                .order_by(models.Eligibility.month)
            )
        )


def enrollments(engine: Engine, member_id: str) -> list[models.Enrollment]:
    with unit_of_work(engine) as session:
        return list(
            session.scalars(
                select(models.Enrollment)
                .where(models.Enrollment.member_id == member_id)
                .order_by(models.Enrollment.start_date)
            )
        )


def eligible_in(engine: Engine, member_ids: Sequence[str], month: str) -> dict[str, bool]:
    """Per member with a record for ``month``: eligible or not (no key: nothing on file)."""
    row = models.Eligibility
    with unit_of_work(engine) as session:
        return {
            member_id: bool(eligible)
            for member_id, eligible in session.execute(
                select(row.member_id, row.eligible).where(
                    row.month == month, row.member_id.in_(list(member_ids))
                )
            )
        }


def spans(engine: Engine, member_ids: Sequence[str]) -> dict[str, list[Span]]:
    """The members' enrollment spans, per member."""
    found: dict[str, list[Span]] = defaultdict(list)
    with unit_of_work(engine) as session:
        for span in session.scalars(
            select(models.Enrollment).where(models.Enrollment.member_id.in_(member_ids))
        ):
            found[span.member_id].append(Span(span.start_date, span.end_date))
    return found


def history(session: Session, member_ids: Sequence[str] | None = None) -> dict[str, History]:
    """Status events, enrollment spans and individualized outreach dates, per member
    (everyone's when ``member_ids`` is None)."""
    found: dict[str, History] = {}

    def of(member_id: str) -> History:
        return found.setdefault(member_id, ([], [], []))

    events = select(models.MemberStatusEvent).order_by(models.MemberStatusEvent.id)
    spans = select(models.Enrollment)
    attempts = select(models.OutreachAttempt.member_id, models.OutreachAttempt.date).where(
        models.OutreachAttempt.individualized
    )
    if member_ids is not None:
        events = events.where(models.MemberStatusEvent.member_id.in_(member_ids))
        spans = spans.where(models.Enrollment.member_id.in_(member_ids))
        attempts = attempts.where(models.OutreachAttempt.member_id.in_(member_ids))
    for event in session.scalars(events):
        if event.status in Status.__members__.values():
            of(event.member_id)[0].append(Event(Status(event.status), event.on, event.reason))
    for span in session.scalars(spans):
        of(span.member_id)[1].append(Span(span.start_date, span.end_date))
    for member_id, on in session.execute(attempts):
        of(member_id)[2].append(on)
    return found


def status_dates(session: Session, member_id: str, status: Status) -> list[date]:
    """The days ``status`` was recorded for the member, earliest first."""
    event = models.MemberStatusEvent
    return list(
        session.scalars(
            select(event.on)
            .where(event.member_id == member_id, event.status == status.value)
            .order_by(event.on)
        )
    )


def later_status_change(session: Session, member_id: str, on: date) -> date | None:
    event = models.MemberStatusEvent
    return session.scalar(
        select(event.on).where(event.member_id == member_id, event.on > on).limit(1)
    )


def add_status_event(
    session: Session, member_id: str, status: Status, on: date, reason: str | None, actor: str
) -> None:
    """The one way a member's status change is written: the event and its audit record."""
    now = audit.now()
    session.add(
        models.MemberStatusEvent(
            member_id=member_id, status=status.value, on=on, reason=reason, recorded_at=now
        )
    )
    audit.record_change(
        session,
        actor=actor,
        at=now,
        action="create",
        entity="member_status",
        key=member_id,
        before=None,
        after={"status": status.value, "on": on, "reason": reason},
    )


def span_reaching(session: Session, member_id: str, start: date) -> bool:
    """Whether a span of the member is open or ends on or after ``start``."""
    span = models.Enrollment
    found = session.scalar(
        select(span.id).where(
            span.member_id == member_id, or_(span.end_date.is_(None), span.end_date >= start)
        )
    )
    return found is not None


def open_span(session: Session, member_id: str, start: date, actor: str) -> None:
    session.add(models.Enrollment(member_id=member_id, start_date=start, end_date=None))
    audit.record_change(
        session,
        actor=actor,
        at=audit.now(),
        action="create",
        entity="enrollments",
        key=f"{member_id}/{start.isoformat()}",
        before=None,
        after={"member_id": member_id, "start_date": start, "end_date": None},
    )


def end_open_span(session: Session, member_id: str, on: date, actor: str) -> None:
    """Close on ``on`` the member's open span that started by then, if there is one."""
    span = session.scalar(
        select(models.Enrollment).where(
            models.Enrollment.member_id == member_id,
            models.Enrollment.start_date <= on,
            models.Enrollment.end_date.is_(None),
        )
    )
    if span is None:
        return
    before = {"member_id": member_id, "start_date": span.start_date, "end_date": None}
    span.end_date = on
    audit.record_change(
        session,
        actor=actor,
        at=audit.now(),
        action="update",
        entity="enrollments",
        key=f"{member_id}/{span.start_date.isoformat()}",
        before=before,
        after={**before, "end_date": on},
    )


def is_staff(session: Session, staff_id: str) -> bool:
    return session.get(models.Staff, staff_id) is not None


def latest_lead(session: Session, member_id: str) -> models.LeadCareManager | None:
    lead = models.LeadCareManager
    return session.scalar(
        select(lead).where(lead.member_id == member_id).order_by(lead.start_date.desc()).limit(1)
    )


def start_lead(
    session: Session,
    member_id: str,
    staff_id: str,
    start: date,
    actor: str,
    *,
    end_previous_on: date | None,
    phone: str | None,
    email: str | None,
) -> None:
    """Record ``staff_id`` as lead care manager from ``start``, ending the latest lead's span
    on ``end_previous_on`` when given, and keep the staff member's contact if given."""
    current = latest_lead(session, member_id)
    _, trail = add_lead(
        session, current, member_id, staff_id, start, actor, audit.now(),
        end_previous_on=end_previous_on, phone=phone, email=email,
    )  # fmt: skip
    audit.record(session, trail)


def latest_leads(session: Session, member_ids: Sequence[str]) -> dict[str, models.LeadCareManager]:
    """:func:`latest_lead` of many members, one query per thousand members."""
    lead = models.LeadCareManager
    found: dict[str, models.LeadCareManager] = {}
    wanted = sorted(set(member_ids))
    for at in range(0, len(wanted), 1000):
        rows = session.scalars(
            select(lead).where(lead.member_id.in_(wanted[at : at + 1000])).order_by(lead.start_date)
        )
        for row in rows:
            found[row.member_id] = row
    return found


def known(
    session: Session, model: type[models.Member] | type[models.Staff], ids: Sequence[str]
) -> set[str]:
    """Which of ``ids`` are members (or staff) on file, one query per thousand ids."""
    key = model.member_id if model is models.Member else models.Staff.staff_id
    found: set[str] = set()
    wanted = sorted(set(ids))
    for at in range(0, len(wanted), 1000):
        found.update(session.scalars(select(key).where(key.in_(wanted[at : at + 1000]))))
    return found


def add_lead(
    session: Session,
    current: models.LeadCareManager | None,
    member_id: str,
    staff_id: str,
    start: date,
    actor: str,
    now: datetime,
    *,
    end_previous_on: date | None,
    phone: str | None = None,
    email: str | None = None,
) -> tuple[models.LeadCareManager, list[dict[str, Any]]]:
    """The new lead's row (added to the session) and its audit records, not yet written:
    ``current`` is the member's latest lead, ended on ``end_previous_on`` when given."""
    trail = []
    if current is not None and end_previous_on is not None:
        before = {"staff_id": current.staff_id, "end_date": current.end_date}
        current.end_date = end_previous_on
        trail.append(
            audit.audit_row(
                actor=actor,
                at=now,
                action="update",
                entity="lead_care_managers",
                key=f"{member_id}/{current.start_date.isoformat()}",
                before=before,
                after={"staff_id": current.staff_id, "end_date": current.end_date},
            )
        )
    row = models.LeadCareManager(
        member_id=member_id, staff_id=staff_id, start_date=start, end_date=None
    )
    session.add(row)
    trail.append(
        audit.audit_row(
            actor=actor,
            at=now,
            action="create",
            entity="lead_care_managers",
            key=f"{member_id}/{start.isoformat()}",
            before=None,
            after={"staff_id": staff_id, "start_date": start, "end_date": None},
        )
    )
    if phone is not None or email is not None:
        contact = session.get(models.StaffContact, staff_id)
        before_contact = (
            {"phone": contact.phone, "email": contact.email} if contact is not None else None
        )
        if contact is None:
            contact = models.StaffContact(staff_id=staff_id)
            session.add(contact)
        if phone is not None:
            contact.phone = phone
        if email is not None:
            contact.email = email
        trail.append(
            audit.audit_row(
                actor=actor,
                at=now,
                action="update" if before_contact else "create",
                entity="staff_contacts",
                key=staff_id,
                before=before_contact,
                after={"phone": contact.phone, "email": contact.email},
            )
        )
    return row, trail


def lead_name(engine: Engine, member_id: str, period: Period) -> str | None:
    """The lead care manager whose span reaches into the period; the latest if it changed
    during the month."""
    lead = models.LeadCareManager
    with unit_of_work(engine) as session:
        return session.execute(
            select(models.Staff.name)
            .join(lead, lead.staff_id == models.Staff.staff_id)
            .where(
                lead.member_id == member_id,
                lead.start_date <= period.end,
                or_(lead.end_date.is_(None), lead.end_date >= period.start),
            )
            .order_by(lead.start_date.desc())
            .limit(1)
        ).scalar()


@dataclass(frozen=True)
class LeadContact:
    name: str
    phone: str | None
    email: str | None


def leads_at(session: Session, day: date) -> dict[str, LeadContact]:
    """Each member's lead care manager on ``day`` (a span still running then), with contact."""
    found: dict[str, LeadContact] = {}
    for lcm, name, contact in session.execute(
        select(models.LeadCareManager, models.Staff.name, models.StaffContact)
        .join(models.Staff, models.Staff.staff_id == models.LeadCareManager.staff_id)
        .outerjoin(
            models.StaffContact,
            models.StaffContact.staff_id == models.LeadCareManager.staff_id,
        )
        .where(models.LeadCareManager.start_date <= day)
        .order_by(models.LeadCareManager.start_date)
    ).all():
        if lcm.end_date is None or lcm.end_date >= day:
            found[lcm.member_id] = LeadContact(
                name, contact.phone if contact else None, contact.email if contact else None
            )
        else:
            found.pop(lcm.member_id, None)
    return found


def assigned_by(session: Session, day: date) -> list[tuple[models.Member, models.MemberDetail]]:
    """Members the plan assigned on or before ``day``, with what its files say of them."""
    rows = session.execute(
        select(models.Member, models.MemberDetail)
        .join(models.MemberDetail, models.MemberDetail.member_id == models.Member.member_id)
        .where(models.MemberDetail.assignment_date <= day)
        .order_by(models.Member.member_id)
    ).all()
    return [(m, d) for m, d in rows]
