"""Read-only look-ups the shells show next to billing data: names for identifiers, a page of
the audit trail, and a stored time entry as plain values."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, select

from ecmbill.store import models
from ecmbill.store.db import unit_of_work


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


def member_names(engine: Engine, member_ids: set[str]) -> dict[str, str]:
    """ "Last, First" by member id, for the members among ``member_ids`` that exist."""
    member_ids = {m for m in member_ids if m}
    if not member_ids:
        return {}
    with unit_of_work(engine) as session:
        return {
            m.member_id: f"{m.last_name}, {m.first_name}"
            for m in session.scalars(
                select(models.Member).where(models.Member.member_id.in_(member_ids))
            )
        }


def staff_names(engine: Engine) -> dict[str, str]:
    """Every staff member's name by staff id, in staff id order."""
    with unit_of_work(engine) as session:
        staff = session.scalars(select(models.Staff).order_by(models.Staff.staff_id))
        return {s.staff_id: s.name for s in staff}


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    actor: str
    action: str
    entity: str
    entity_key: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class AuditPage:
    lines: list[AuditLine]
    more: bool


def audit_page(engine: Engine, *, entity: str = "", page: int = 1, size: int = 100) -> AuditPage:
    """One page of the audit trail, newest first, optionally of one kind of record only;
    ``more`` says whether older records follow."""
    record = models.AuditRecord
    query = select(record).order_by(record.id.desc())
    if entity:
        query = query.where(record.entity == entity)
    query = query.offset((max(page, 1) - 1) * size).limit(size + 1)
    with unit_of_work(engine) as session:
        rows = [
            AuditLine(r.at, r.actor, r.action, r.entity, r.entity_key, r.before, r.after)
            for r in session.scalars(query)
        ]
    return AuditPage(rows[:size], more=len(rows) > size)
