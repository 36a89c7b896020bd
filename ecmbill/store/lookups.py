"""Read-only look-ups the shells show next to billing data: names for identifiers and a page of
the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from ecmbill.store import models
from ecmbill.store.db import unit_of_work


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
