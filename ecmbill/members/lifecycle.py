"""Recording a member's lifecycle: enroll, discontinue, unable to reach, lead care manager.

Every change is checked against the pure rules in ``ecmbill.domain.lifecycle``, writes the
enrollment spans the rating reads (``enrollments``) and a status event, and is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ecmbill import services
from ecmbill.contract import Contract
from ecmbill.domain.lifecycle import Event, Span, Standing, Status, standing_on, transition_problem
from ecmbill.store import audit, models
from ecmbill.store.db import unit_of_work


class LifecycleError(ValueError):
    """A change the rules refuse; the message says why (never a member's name or id)."""

    def __init__(self, message: str, missing: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.missing = tuple(missing)


def member_history(
    session: Session, member_ids: Sequence[str] | None = None
) -> dict[str, tuple[list[Event], list[Span], list[date]]]:
    """Events, enrollment spans and individualized outreach dates, per member."""
    history: dict[str, tuple[list[Event], list[Span], list[date]]] = {}

    def of(member_id: str) -> tuple[list[Event], list[Span], list[date]]:
        return history.setdefault(member_id, ([], [], []))

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
    return history


def standing(session: Session, member_id: str, day: date) -> Standing | None:
    events, spans, attempts = member_history(session, [member_id]).get(member_id, ([], [], []))
    return standing_on(day, events, spans, attempts)


def _known_member(session: Session, member_id: str) -> None:
    if session.get(models.Member, member_id) is None:
        raise LifecycleError("no member with that member_id")


def _check(session: Session, member_id: str, on: date, new: Status) -> Standing | None:
    _known_member(session, member_id)
    now = standing(session, member_id, on)
    later = session.scalar(
        select(models.MemberStatusEvent.on)
        .where(models.MemberStatusEvent.member_id == member_id, models.MemberStatusEvent.on > on)
        .limit(1)
    )
    if later is not None:
        raise LifecycleError(
            f"a later status change ({later.isoformat()}) is already recorded: record changes "
            "in date order"
        )
    problem = transition_problem(now.status if now else None, new)
    if problem:
        raise LifecycleError(problem)
    return now


def _event(
    session: Session, member_id: str, status: Status, on: date, reason: str | None, actor: str
) -> None:
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


def record_assignment(session: Session, member_id: str, on: date, actor: str) -> bool:
    """The plan assigned (referred) the member on ``on``; recorded once per date."""
    exists = session.scalar(
        select(models.MemberStatusEvent.id).where(
            models.MemberStatusEvent.member_id == member_id,
            models.MemberStatusEvent.status == Status.ASSIGNED.value,
            models.MemberStatusEvent.on == on,
        )
    )
    if exists is not None:
        return False
    _event(session, member_id, Status.ASSIGNED, on, None, actor)
    return True


def enroll(engine: Engine, member_id: str, start: date, actor: str) -> None:
    """Enroll the member in ECM from ``start``: opens an enrollment span the rating bills in."""
    with unit_of_work(engine) as session:
        _check(session, member_id, start, Status.ENROLLED)
        clash = session.scalar(
            select(models.Enrollment.id).where(
                models.Enrollment.member_id == member_id,
                (models.Enrollment.end_date.is_(None)) | (models.Enrollment.end_date >= start),
            )
        )
        if clash is not None:
            raise LifecycleError("an enrollment span already covers or follows that date")
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
        _event(session, member_id, Status.ENROLLED, start, None, actor)


def discontinue(
    engine: Engine, member_id: str, on: date, reason_code: str, contract: Contract, actor: str
) -> None:
    """End the member's ECM on ``on`` (the last day of service) with a contract reason code;
    an open enrollment span is closed on that day."""
    if reason_code not in contract.discontinuation_reasons:
        codes = ", ".join(contract.discontinuation_reasons)
        raise LifecycleError(f"unknown discontinuation reason code (the contract has: {codes})")
    with unit_of_work(engine) as session:
        _check(session, member_id, on, Status.DISCONTINUED)
        span = session.scalar(
            select(models.Enrollment).where(
                models.Enrollment.member_id == member_id,
                models.Enrollment.start_date <= on,
                models.Enrollment.end_date.is_(None),
            )
        )
        if span is not None:
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
        _event(session, member_id, Status.DISCONTINUED, on, reason_code, actor)


def unable_to_reach(
    engine: Engine, member_id: str, on: date, contract: Contract, actor: str
) -> services.UnableToReachCheck:
    """Report the member unable to reach, only when the contract's rule allows it (the
    foundation's check decides and records)."""
    with unit_of_work(engine) as session:
        _check(session, member_id, on, Status.UNABLE_TO_REACH)
    check = services.report_unable_to_reach(engine, member_id, contract, actor, on)
    if check.decision is None or not check.decision.allowed:
        missing = check.decision.missing if check.decision else ()
        raise LifecycleError("may not be reported unable to reach yet", missing)
    return check


def assign_lead_care_manager(
    engine: Engine,
    member_id: str,
    staff_id: str,
    start: date,
    actor: str,
    *,
    phone: str | None = None,
    email: str | None = None,
) -> None:
    """Make ``staff_id`` the member's lead care manager from ``start``; the previous one's
    span ends the day before."""
    with unit_of_work(engine) as session:
        _known_member(session, member_id)
        if session.get(models.Staff, staff_id) is None:
            raise LifecycleError("no staff member with that staff_id")
        now = audit.now()
        trail = []
        current = session.scalar(
            select(models.LeadCareManager)
            .where(models.LeadCareManager.member_id == member_id)
            .order_by(models.LeadCareManager.start_date.desc())
            .limit(1)
        )
        if current is not None and current.start_date >= start:
            raise LifecycleError("a lead care manager is already recorded from that date or later")
        if current is not None and current.staff_id == staff_id and current.end_date is None:
            raise LifecycleError("that staff member is already the lead care manager")
        if current is not None and (current.end_date is None or current.end_date >= start):
            before = {"staff_id": current.staff_id, "end_date": current.end_date}
            current.end_date = start - timedelta(days=1)
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
        session.add(
            models.LeadCareManager(
                member_id=member_id, staff_id=staff_id, start_date=start, end_date=None
            )
        )
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
        audit.record(session, trail)


def member_status(engine: Engine, member_id: str, day: date) -> Standing | None:
    """The member's ECM status on ``day``; None when nothing is recorded by then."""
    with unit_of_work(engine) as session:
        return standing(session, member_id, day)
