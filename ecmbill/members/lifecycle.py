"""Recording a member's lifecycle: enroll, discontinue, unable to reach, lead care manager.

Every change is checked against the pure rules in ``ecmbill.domain.lifecycle`` and
``ecmbill.domain.outreach``, writes the enrollment spans the rating reads and a status event
(``ecmbill.store.members``), and is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from ecmbill.contract import Contract
from ecmbill.domain.lifecycle import Standing, Status, standing_on, transition_problem
from ecmbill.domain.outreach import Attempt, UnableToReachDecision, counts_as_outreach
from ecmbill.domain.outreach import unable_to_reach as unable_to_reach_decision
from ecmbill.domain.vocabulary import OutreachOutcome
from ecmbill.store import audit, models
from ecmbill.store import fieldwork as stored_work
from ecmbill.store import members as stored
from ecmbill.store.db import Engine, Session, unit_of_work


class LifecycleError(ValueError):
    """A change the rules refuse; the message says why (never a member's name or id)."""

    def __init__(self, message: str, missing: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.missing = tuple(missing)


def standing(session: Session, member_id: str, day: date) -> Standing | None:
    events, spans, attempts = stored.history(session, [member_id]).get(member_id, ([], [], []))
    return standing_on(day, events, spans, attempts)


def _known_member(session: Session, member_id: str) -> None:
    if not stored.is_member(session, member_id):
        raise LifecycleError("no member with that member_id")


def _check(session: Session, member_id: str, on: date, new: Status) -> Standing | None:
    _known_member(session, member_id)
    now = standing(session, member_id, on)
    later = stored.later_status_change(session, member_id, on)
    if later is not None:
        raise LifecycleError(
            f"a later status change ({later.isoformat()}) is already recorded: record changes "
            "in date order"
        )
    problem = transition_problem(now.status if now else None, new)
    if problem:
        raise LifecycleError(problem)
    return now


def record_assignment(session: Session, member_id: str, on: date, actor: str) -> bool:
    """The plan assigned (referred) the member on ``on``; recorded once per date."""
    if on in stored.status_dates(session, member_id, Status.ASSIGNED):
        return False
    stored.add_status_event(session, member_id, Status.ASSIGNED, on, None, actor)
    return True


def enroll(engine: Engine, member_id: str, start: date, actor: str) -> None:
    """Enroll the member in ECM from ``start``: opens an enrollment span the rating bills in."""
    with unit_of_work(engine) as session:
        _check(session, member_id, start, Status.ENROLLED)
        if stored.span_reaching(session, member_id, start):
            raise LifecycleError("an enrollment span already covers or follows that date")
        stored.open_span(session, member_id, start, actor)
        stored.add_status_event(session, member_id, Status.ENROLLED, start, None, actor)


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
        stored.end_open_span(session, member_id, on, actor)
        stored.add_status_event(session, member_id, Status.DISCONTINUED, on, reason_code, actor)


@dataclass(frozen=True)
class UnableToReachCheck:
    member_known: bool
    decision: UnableToReachDecision | None
    reported_on: date | None = None


def _check_unable_to_reach(
    session: Session, member_id: str, contract: Contract
) -> UnableToReachCheck:
    if not stored.is_member(session, member_id):
        return UnableToReachCheck(member_known=False, decision=None)
    _, spans, _ = stored.history(session, [member_id]).get(member_id, ([], [], []))
    attempts = [
        Attempt(
            on=attempt.date,
            method=attempt.method,
            outcome=OutreachOutcome(attempt.outcome),
            counts=counts_as_outreach(attempt.date, attempt.individualized, spans),
        )
        for attempt in stored_work.member_attempts(session, member_id)
    ]
    reported = stored.status_dates(session, member_id, Status.UNABLE_TO_REACH)
    return UnableToReachCheck(
        member_known=True,
        decision=unable_to_reach_decision(attempts, contract.unable_to_reach.rule()),
        reported_on=reported[0] if reported else None,
    )


def check_unable_to_reach(engine: Engine, member_id: str, contract: Contract) -> UnableToReachCheck:
    """May the member be reported unable to reach, and if not, what is missing."""
    with unit_of_work(engine) as session:
        return _check_unable_to_reach(session, member_id, contract)


def _report_unable_to_reach(
    session: Session, member_id: str, contract: Contract, actor: str, on: date
) -> UnableToReachCheck:
    check = _check_unable_to_reach(session, member_id, contract)
    if not (check.decision and check.decision.allowed) or check.reported_on:
        return check
    reason = f"{len(check.decision.counted)} outreach attempts without reaching the member"
    stored.add_status_event(session, member_id, Status.UNABLE_TO_REACH, on, reason, actor)
    return replace(check, reported_on=on)


def report_unable_to_reach(
    engine: Engine, member_id: str, contract: Contract, actor: str, on: date
) -> UnableToReachCheck:
    """Record "unable to reach" only when the rule allows it; otherwise record nothing."""
    with unit_of_work(engine) as session:
        return _report_unable_to_reach(session, member_id, contract, actor, on)


def unable_to_reach(
    engine: Engine, member_id: str, on: date, contract: Contract, actor: str
) -> UnableToReachCheck:
    """Report the member unable to reach, only when the lifecycle allows the change and the
    contract's rule allows the report."""
    with unit_of_work(engine) as session:
        _check(session, member_id, on, Status.UNABLE_TO_REACH)
        check = _report_unable_to_reach(session, member_id, contract, actor, on)
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
        _assign_lead(session, member_id, staff_id, start, actor, phone=phone, email=email)


def assign_lead_care_managers(
    engine: Engine, assignments: Sequence[tuple[str, str, date]], actor: str
) -> None:
    """Each ``(member_id, staff_id, start)`` as :func:`assign_lead_care_manager` would record
    it, all in one transaction: thousands of members assigned at once (a plan's new list, the
    demo) take one commit instead of one each. Any refused assignment refuses them all."""
    with unit_of_work(engine) as session:
        members = stored.known(session, models.Member, [a[0] for a in assignments])
        staff = stored.known(session, models.Staff, [a[1] for a in assignments])
        latest = stored.latest_leads(session, [a[0] for a in assignments])
        now = audit.now()
        trail: list[dict[str, Any]] = []
        for member_id, staff_id, start in assignments:
            if member_id not in members:
                raise LifecycleError("no member with that member_id")
            if staff_id not in staff:
                raise LifecycleError("no staff member with that staff_id")
            current = latest.get(member_id)
            end_previous_on = _lead_change_problem(current, staff_id, start)
            latest[member_id], rows = stored.add_lead(
                session, current, member_id, staff_id, start, actor, now,
                end_previous_on=end_previous_on,
            )  # fmt: skip
            trail += rows
        audit.record(session, trail)


def _assign_lead(
    session: Session,
    member_id: str,
    staff_id: str,
    start: date,
    actor: str,
    *,
    phone: str | None = None,
    email: str | None = None,
) -> None:
    _known_member(session, member_id)
    if not stored.is_staff(session, staff_id):
        raise LifecycleError("no staff member with that staff_id")
    end_previous_on = _lead_change_problem(stored.latest_lead(session, member_id), staff_id, start)
    stored.start_lead(
        session,
        member_id,
        staff_id,
        start,
        actor,
        end_previous_on=end_previous_on,
        phone=phone,
        email=email,
    )


def _lead_change_problem(
    current: models.LeadCareManager | None, staff_id: str, start: date
) -> date | None:
    """Refuse a lead change the rules do not allow; else the day the current lead's span
    ends (None when it ended before ``start``, or there is none)."""
    if current is not None and current.start_date >= start:
        raise LifecycleError("a lead care manager is already recorded from that date or later")
    if current is not None and current.staff_id == staff_id and current.end_date is None:
        raise LifecycleError("that staff member is already the lead care manager")
    reaching = current is not None and (current.end_date is None or current.end_date >= start)
    return start - timedelta(days=1) if reaching else None


def member_status(engine: Engine, member_id: str, day: date) -> Standing | None:
    """The member's ECM status on ``day``; None when nothing is recorded by then."""
    with unit_of_work(engine) as session:
        return standing(session, member_id, day)
