"""What care managers do in the field, as service functions for the web app and its API:
find a member, record or correct time, record an outreach attempt, look at a member's month.

Every write goes through the import checks (``ecmbill.imports.service.record_row``), so a value
the import would reject is rejected here with the same reason, and every change is audited.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine, or_, select

from ecmbill.claims.close import first_close
from ecmbill.contract import Contract
from ecmbill.domain.identifiers import is_medi_cal_cin
from ecmbill.domain.lines import ClaimLine
from ecmbill.domain.period import Period
from ecmbill.domain.reasons import ReasonCode, explain
from ecmbill.imports.kinds import RowReject
from ecmbill.imports.service import record_row
from ecmbill.store import audit, models
from ecmbill.store.db import unit_of_work

TIME_FIELDS = ("member_id", "date", "minutes", "start_time", "end_time", "activity", "modality")
OUTREACH_FIELDS = ("member_id", "date", "method", "individualized", "outcome", "minutes")


@dataclass(frozen=True)
class MemberSummary:
    member_id: str
    name: str


def period_is_open(engine: Engine, period: Period) -> bool:
    """Time and outreach of a period may be recorded or changed in the field until the period
    is first closed (claimed). It is the single place the web app asks."""
    return first_close(engine, period) is None


def closed_message(period: Period) -> str:
    """Why a field change to a closed period is refused, and who can still make it: a biller's
    import records it, flagged as after-close, and the next close corrects the claim."""
    return f"{period.start:%B %Y} is closed: a biller records late changes"


def search_members(engine: Engine, query: str, limit: int = 20) -> list[MemberSummary]:
    query = query.strip()
    if not query:
        return []
    like = f"%{query.lower()}%"
    member = models.Member
    with unit_of_work(engine) as session:
        rows = session.scalars(
            select(member)
            .where(
                or_(
                    member.member_id.ilike(f"{query.upper()}%"),
                    member.first_name.ilike(like),
                    member.last_name.ilike(like),
                    (member.first_name + " " + member.last_name).ilike(like),
                )
            )
            .order_by(member.last_name, member.first_name, member.member_id)
            .limit(limit)
        )
        return [MemberSummary(m.member_id, f"{m.last_name}, {m.first_name}") for m in rows]


def resolve_member(engine: Engine, typed: str) -> str:
    """The member a user meant: a CIN as typed, or the only member whose name matches."""
    typed = typed.strip()
    # "91234567A — Garcia, Maria" as picked from the suggestion list.
    candidate = typed.split(" ", 1)[0].upper()
    if is_medi_cal_cin(candidate):
        return candidate
    if not typed:
        raise RowReject("member_id", "member is empty: type a name or a CIN")
    found = search_members(engine, typed, limit=2)
    if not found:
        raise RowReject("member_id", "no member matches: type a name or a CIN")
    if len(found) > 1:
        raise RowReject("member_id", "several members match: pick one from the list")
    return found[0].member_id


def record_time(
    engine: Engine,
    contract: Contract,
    form: dict[str, str],
    *,
    actor: str,
    staff_id: str,
    entry_id: str | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Create (``entry_id`` None) or correct one time entry of ``staff_id``. Raises
    ``RowReject`` naming the field at fault."""
    row = {name: form.get(name, "") for name in (*TIME_FIELDS, "note")}
    row["member_id"] = resolve_member(engine, row["member_id"])
    if entry_id is not None:
        existing = time_entry(engine, entry_id)
        if existing is None or existing.staff_id != staff_id:
            raise RowReject(None, "no such time entry of yours")
        if not period_is_open(engine, Period.of(existing.date)):
            raise RowReject("date", closed_message(Period.of(existing.date)))
    row["staff_id"] = staff_id
    # A new entry gets its own id: two visits to the same member on the same day are two
    # entries, not a correction of the first.
    row["entry_id"] = entry_id or f"W-{uuid.uuid4().hex[:16]}"
    _refuse_closed_date(engine, row["date"], today)
    return record_row(engine, "time", row, contract, actor=actor, today=today).values


def _refuse_closed_date(engine: Engine, typed: str, today: date | None) -> None:
    try:
        on = date.fromisoformat(typed.strip())
    except ValueError:
        return  # the import checks say what is wrong with the date
    if not period_is_open(engine, Period.of(on)):
        raise RowReject("date", closed_message(Period.of(on)))


def delete_time(engine: Engine, entry_id: str, *, actor: str, staff_id: str) -> bool:
    with unit_of_work(engine) as session:
        entry = session.get(models.TimeEntry, entry_id)
        if entry is None or entry.staff_id != staff_id:
            return False
        if not period_is_open(engine, Period.of(entry.date)):
            raise RowReject("date", closed_message(Period.of(entry.date)))
        before = _time_values(entry)
        trail = []
        approval = session.get(models.TimeApproval, entry_id)
        if approval is not None:
            session.delete(approval)
            session.flush()
            trail.append(
                audit.audit_row(
                    actor=actor,
                    at=audit.now(),
                    action="delete",
                    entity="time_approval",
                    key=entry_id,
                    before={"approved_by": approval.approved_by},
                    after=None,
                )
            )
        session.delete(entry)
        audit.record(
            session,
            [
                *trail,
                audit.audit_row(
                    actor=actor,
                    at=audit.now(),
                    action="delete",
                    entity="time",
                    key=entry_id,
                    before=before,
                    after=None,
                ),
            ],
        )
    return True


def _time_values(entry: models.TimeEntry) -> dict[str, Any]:
    return {
        "entry_id": entry.entry_id,
        "staff_id": entry.staff_id,
        "member_id": entry.member_id,
        "date": entry.date,
        "minutes": entry.minutes,
        "start_time": entry.start_time,
        "end_time": entry.end_time,
        "activity": entry.activity,
        "modality": entry.modality,
        "note": entry.note,
    }


def _fingerprint(entry: models.TimeEntry) -> str:
    values = _time_values(entry)
    return hashlib.sha256(json.dumps(values, default=str, sort_keys=True).encode()).hexdigest()


def approve_time(engine: Engine, entry_id: str, *, actor: str) -> None:
    """Sign off a time entry as it is now (audited)."""
    with unit_of_work(engine) as session:
        entry = session.get(models.TimeEntry, entry_id)
        if entry is None:
            raise RowReject(None, "no such time entry")
        approval = session.get(models.TimeApproval, entry_id)
        before = (
            {"approved_by": approval.approved_by, "fingerprint": approval.fingerprint}
            if approval
            else None
        )
        now = audit.now()
        if approval is None:
            approval = models.TimeApproval(entry_id=entry_id)
            session.add(approval)
        approval.approved_by = actor
        approval.approved_at = now
        approval.fingerprint = _fingerprint(entry)
        audit.record_change(
            session,
            actor=actor,
            at=now,
            action="update" if before else "create",
            entity="time_approval",
            key=entry_id,
            before=before,
            after={"approved_by": actor, "fingerprint": approval.fingerprint},
        )


def approved(engine: Engine, entries: list[models.TimeEntry]) -> frozenset[str]:
    """The entries whose approval still matches what they say now."""
    if not entries:
        return frozenset()
    by_id = {entry.entry_id: entry for entry in entries}
    with unit_of_work(engine) as session:
        approvals = session.scalars(
            select(models.TimeApproval).where(models.TimeApproval.entry_id.in_(by_id))
        )
        return frozenset(
            a.entry_id for a in approvals if a.fingerprint == _fingerprint(by_id[a.entry_id])
        )


def time_entry(engine: Engine, entry_id: str) -> models.TimeEntry | None:
    with unit_of_work(engine) as session:
        return session.get(models.TimeEntry, entry_id)


def time_entries(
    engine: Engine,
    *,
    staff_ids: frozenset[str] | None,
    start: date,
    end: date,
    member_id: str | None = None,
) -> list[models.TimeEntry]:
    """Entries between two dates; ``staff_ids`` None means everyone's."""
    entry = models.TimeEntry
    query = select(entry).where(entry.date >= start, entry.date <= end)
    if staff_ids is not None:
        query = query.where(entry.staff_id.in_(staff_ids))
    if member_id is not None:
        query = query.where(entry.member_id == member_id)
    with unit_of_work(engine) as session:
        return list(session.scalars(query.order_by(entry.date.desc(), entry.entry_id)))


def record_outreach(
    engine: Engine,
    contract: Contract,
    form: dict[str, str],
    *,
    actor: str,
    staff_id: str,
    today: date | None = None,
) -> dict[str, Any]:
    """Record one outreach attempt. Beyond the import checks, what the rating would never bill
    as outreach is refused at once, with the rating's own words: a mass communication, and an
    attempt on a day the member is already enrolled."""
    row = {name: form.get(name, "") for name in OUTREACH_FIELDS}
    row["member_id"] = resolve_member(engine, row["member_id"])
    row["staff_id"] = staff_id
    row["attempt_id"] = f"W-{uuid.uuid4().hex[:16]}"
    individualized = row["individualized"].strip().lower() in {"true", "yes", "on", "1"}
    row["individualized"] = "true" if individualized else "false"
    if not individualized:
        raise RowReject(
            "individualized",
            explain(
                ReasonCode.MASS_COMMUNICATION,
                on=today or date.today(),
                staff_id=staff_id,
                method=row["method"] or None,
            ),
        )
    try:
        on = date.fromisoformat(row["date"].strip())
    except ValueError:
        on = None
    if on is not None and _enrolled_on(engine, row["member_id"], on):
        raise RowReject("date", explain(ReasonCode.ALREADY_ENROLLED, on=on, staff_id=staff_id))
    _refuse_closed_date(engine, row["date"], today)
    return record_row(engine, "outreach", row, contract, actor=actor, today=today).values


def _enrolled_on(engine: Engine, member_id: str, on: date) -> bool:
    span = models.Enrollment
    with unit_of_work(engine) as session:
        return (
            session.scalar(
                select(span.id).where(
                    span.member_id == member_id,
                    span.start_date <= on,
                    or_(span.end_date.is_(None), span.end_date >= on),
                )
            )
            is not None
        )


def outreach_attempts(
    engine: Engine, *, staff_ids: frozenset[str] | None, member_id: str | None = None
) -> list[models.OutreachAttempt]:
    attempt = models.OutreachAttempt
    query = select(attempt)
    if staff_ids is not None:
        query = query.where(attempt.staff_id.in_(staff_ids))
    if member_id is not None:
        query = query.where(attempt.member_id == member_id)
    with unit_of_work(engine) as session:
        return list(session.scalars(query.order_by(attempt.date.desc()).limit(200)))


@dataclass(frozen=True)
class MemberMonth:
    member: models.Member
    period: Period
    eligibility: list[models.Eligibility]
    enrollments: list[models.Enrollment]
    entries: list[models.TimeEntry]
    lines: list[ClaimLine]
    lead_care_manager: str | None

    @property
    def minutes(self) -> int:
        return sum(entry.minutes for entry in self.entries)


def member_month(
    engine: Engine, member_id: str, period: Period, lines: list[ClaimLine]
) -> MemberMonth | None:
    """A member's month: eligibility, enrollments, time entries, and the claim lines the
    rating projects for the month so far (passed in: the caller rates the period)."""
    with unit_of_work(engine) as session:
        member = session.get(models.Member, member_id)
        if member is None:
            return None
        eligibility = list(
            session.scalars(
                select(models.Eligibility)
                .where(models.Eligibility.member_id == member_id)
                .order_by(models.Eligibility.month)
            )
        )
        enrollments = list(
            session.scalars(
                select(models.Enrollment)
                .where(models.Enrollment.member_id == member_id)
                .order_by(models.Enrollment.start_date)
            )
        )
    entries = time_entries(
        engine, staff_ids=None, start=period.start, end=period.end, member_id=member_id
    )
    return MemberMonth(
        member=member,
        period=period,
        eligibility=eligibility,
        enrollments=enrollments,
        entries=entries,
        lines=lines,
        lead_care_manager=_lead(engine, member_id, period),
    )


def _lead(engine: Engine, member_id: str, period: Period) -> str | None:
    """The lead care manager recorded for the member (``ecmbill members lead``) whose span
    reaches into the period; the latest if it changed during the month."""
    lead = models.LeadCareManager
    with unit_of_work(engine) as session:
        found = session.execute(
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
    return found
