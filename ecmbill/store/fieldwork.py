"""Time entries, their approvals and outreach attempts as stored. New entries and attempts are
written by the import path (``ecmbill.imports.service.record_row``); here are the reads, the
deletion of an entry and a supervisor's approval, each audited."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ecmbill.domain.period import Period
from ecmbill.store import audit, models
from ecmbill.store.db import unit_of_work

# (from, to, role); None is an open end.
RolePeriod = tuple[date | None, date | None, str]


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
    """Entries between two dates, latest first; ``staff_ids`` None means everyone's."""
    entry = models.TimeEntry
    query = select(entry).where(entry.date >= start, entry.date <= end)
    if staff_ids is not None:
        query = query.where(entry.staff_id.in_(staff_ids))
    if member_id is not None:
        query = query.where(entry.member_id == member_id)
    with unit_of_work(engine) as session:
        return list(session.scalars(query.order_by(entry.date.desc(), entry.entry_id)))


def activities_until(session: Session, day: date) -> dict[str, list[tuple[date, str, str]]]:
    """Per member, the (date, activity, modality) of every time entry up to ``day``."""
    found: dict[str, list[tuple[date, str, str]]] = defaultdict(list)
    entry = models.TimeEntry
    for member_id, on, activity, modality in session.execute(
        select(entry.member_id, entry.date, entry.activity, entry.modality).where(entry.date <= day)
    ):
        found[member_id].append((on, activity, modality))
    return found


@dataclass(frozen=True)
class TimeEntryView:
    """A stored time entry as plain values: what its audit record and its approval's
    fingerprint hold, what the API returns and what the correction form starts from."""

    entry_id: str
    staff_id: str
    member_id: str
    date: date
    minutes: int
    start_time: str | None
    end_time: str | None
    activity: str
    modality: str
    note: str | None

    def values(self) -> dict[str, Any]:
        return asdict(self)

    def as_json(self) -> dict[str, Any]:
        return {**self.values(), "date": self.date.isoformat()}

    def form_values(self) -> dict[str, str]:
        """As the time form shows it: minutes typed only when no clock times were given."""
        return {
            "member_id": self.member_id,
            "date": self.date.isoformat(),
            "minutes": "" if self.start_time else str(self.minutes),
            "start_time": self.start_time or "",
            "end_time": self.end_time or "",
            "activity": self.activity,
            "modality": self.modality,
            "note": self.note or "",
        }


def time_entry_view(entry: models.TimeEntry) -> TimeEntryView:
    return TimeEntryView(
        entry_id=entry.entry_id,
        staff_id=entry.staff_id,
        member_id=entry.member_id,
        date=entry.date,
        minutes=entry.minutes,
        start_time=entry.start_time,
        end_time=entry.end_time,
        activity=entry.activity,
        modality=entry.modality,
        note=entry.note,
    )


def _fingerprint(entry: models.TimeEntry) -> str:
    values = time_entry_view(entry).values()
    return hashlib.sha256(json.dumps(values, default=str, sort_keys=True).encode()).hexdigest()


def delete_time_entry(engine: Engine, entry_id: str, *, actor: str) -> None:
    """Delete the entry and its approval, both audited with what they said."""
    with unit_of_work(engine) as session:
        entry = session.get(models.TimeEntry, entry_id)
        if entry is None:
            return
        before = time_entry_view(entry).values()
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


def approve(engine: Engine, entry_id: str, *, actor: str) -> bool:
    """Sign off a time entry as it is now (audited); False when there is no such entry."""
    with unit_of_work(engine) as session:
        entry = session.get(models.TimeEntry, entry_id)
        if entry is None:
            return False
        _approve(session, entry, actor)
    return True


def approve_many(engine: Engine, entry_ids: list[str], *, actor: str) -> None:
    """Sign off several entries as they are now, all or none, each audited on its own."""
    with unit_of_work(engine) as session:
        for entry_id in entry_ids:
            entry = session.get(models.TimeEntry, entry_id)
            if entry is not None:
                _approve(session, entry, actor)


def _approve(session: Session, entry: models.TimeEntry, actor: str) -> None:
    approval = session.get(models.TimeApproval, entry.entry_id)
    before = (
        {"approved_by": approval.approved_by, "fingerprint": approval.fingerprint}
        if approval
        else None
    )
    now = audit.now()
    if approval is None:
        approval = models.TimeApproval(entry_id=entry.entry_id)
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
        key=entry.entry_id,
        before=before,
        after={"approved_by": actor, "fingerprint": approval.fingerprint},
    )


def entries_by_id(engine: Engine, entry_ids: list[str]) -> dict[str, models.TimeEntry]:
    """The stored entries among ``entry_ids``, by id."""
    if not entry_ids:
        return {}
    entry = models.TimeEntry
    with unit_of_work(engine) as session:
        return {
            e.entry_id: e
            for e in session.scalars(select(entry).where(entry.entry_id.in_(set(entry_ids))))
        }


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


def outreach_attempt(engine: Engine, attempt_id: str) -> models.OutreachAttempt | None:
    with unit_of_work(engine) as session:
        return session.get(models.OutreachAttempt, attempt_id)


def outreach_attempts(
    engine: Engine, *, staff_ids: frozenset[str] | None, member_id: str | None = None
) -> list[models.OutreachAttempt]:
    """The latest 200 attempts; ``staff_ids`` None means everyone's."""
    attempt = models.OutreachAttempt
    query = select(attempt)
    if staff_ids is not None:
        query = query.where(attempt.staff_id.in_(staff_ids))
    if member_id is not None:
        query = query.where(attempt.member_id == member_id)
    with unit_of_work(engine) as session:
        return list(session.scalars(query.order_by(attempt.date.desc()).limit(200)))


def member_attempts(session: Session, member_id: str) -> list[models.OutreachAttempt]:
    """Every outreach attempt recorded for the member, mass communications included."""
    attempt = models.OutreachAttempt
    return list(session.scalars(select(attempt).where(attempt.member_id == member_id)))


def tracker_attempts(
    engine: Engine, period: Period
) -> list[tuple[models.OutreachAttempt, str, str, str | None]]:
    """The period's outreach attempts with the member's first and last name and plan id."""
    with unit_of_work(engine) as session:
        rows = session.execute(
            select(
                models.OutreachAttempt,
                models.Member.first_name,
                models.Member.last_name,
                models.MemberDetail.plan_id,
            )
            .join(models.Member, models.Member.member_id == models.OutreachAttempt.member_id)
            .outerjoin(
                models.MemberDetail,
                models.MemberDetail.member_id == models.OutreachAttempt.member_id,
            )
            .where(
                models.OutreachAttempt.date >= period.start,
                models.OutreachAttempt.date <= period.end,
            )
        ).all()
    return [(attempt, first, last, plan_id) for attempt, first, last, plan_id in rows]


def staff_roles(engine: Engine) -> dict[str, list[RolePeriod]]:
    """Every staff member's role periods."""
    found: dict[str, list[RolePeriod]] = defaultdict(list)
    with unit_of_work(engine) as session:
        for row in session.scalars(select(models.StaffRole)):
            found[row.staff_id].append((row.effective_from, row.effective_to, row.role))
    return found
