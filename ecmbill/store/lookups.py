"""Read-only look-ups the shells show next to billing data: names for identifiers and a page of
the audit trail."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select

from ecmbill.store import models
from ecmbill.store.db import unit_of_work


def member_names(engine: Engine, member_ids: set[str]) -> dict[str, str]:
    """ "Last, First" by member id, for the members among ``member_ids`` that exist."""
    member_ids = {m for m in member_ids if m}
    if not member_ids:
        return {}
    member = models.Member.__table__.c
    query = select(member.member_id, member.last_name, member.first_name)
    if len(member_ids) <= _LISTED:
        query = query.where(member.member_id.in_(member_ids))
    # Beyond a page's worth, every member's name in one scan: no list of thousands of ids
    # bound as parameters (SQLite caps them), and no whole member rows read.
    with unit_of_work(engine) as session:
        return {
            member_id: f"{last}, {first}"
            for member_id, last, first in session.execute(query)
            if member_id in member_ids
        }


# Ids looked up by a list of parameters; a larger set scans the names instead.
_LISTED = 1000


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
    # Records matching the filters within the reader's scope, on every page.
    total: int = 0


@dataclass(frozen=True)
class AuditFilter:
    """Which records: of one kind of record (``entity``), one key (for the access log: the
    username), one action, at or after ``start`` and before ``end`` (UTC); empty: any."""

    entity: str = ""
    key: str = ""
    action: str = ""
    start: datetime | None = None
    end: datetime | None = None


# Values an admin does not see on the audit page: free text, which may hold clinical content.
FREE_TEXT = frozenset({"note", "notes", "reason", "comment", "comments", "description", "text"})
HIDDEN = "(hidden)"


@dataclass(frozen=True)
class AuditScope:
    """What of the trail a user may read (``ecmbill.web.accounts.audit_scope`` decides).
    ``staff_ids``/``usernames`` None: every record; else only the time, approvals and outreach
    of those staff (or changed by those users) and the access log and accounts of those
    users; ``mask_free_text``: free-text values shown as "(hidden)"."""

    staff_ids: frozenset[str] | None = None
    usernames: frozenset[str] | None = None
    mask_free_text: bool = False


def _masked(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        values: Any = json.loads(text)
    except ValueError:
        return HIDDEN
    if not isinstance(values, dict):
        return HIDDEN
    shown = {
        k: (HIDDEN if k in FREE_TEXT and v not in (None, "") else v) for k, v in values.items()
    }
    return json.dumps(shown, default=str)


def _scoped(query: Any, scope: AuditScope) -> Any:
    if scope.staff_ids is None and scope.usernames is None:
        return query
    record = models.AuditRecord
    staff_ids = scope.staff_ids or frozenset()
    usernames = scope.usernames or frozenset()
    entries = select(models.TimeEntry.entry_id).where(models.TimeEntry.staff_id.in_(staff_ids))
    attempts = select(models.OutreachAttempt.attempt_id).where(
        models.OutreachAttempt.staff_id.in_(staff_ids)
    )
    actors = [f"web:{name}" for name in usernames]
    # A deleted entry's staff is no longer in its table: its deletion shows by who deleted it.
    return query.where(
        or_(
            and_(
                record.entity.in_(("time", "time_approval")),
                or_(record.entity_key.in_(entries), record.actor.in_(actors)),
            ),
            and_(
                record.entity == "outreach",
                or_(record.entity_key.in_(attempts), record.actor.in_(actors)),
            ),
            and_(record.entity.in_(("access", "users")), record.entity_key.in_(usernames)),
        )
    )


def _filtered(query: Any, scope: AuditScope, where: AuditFilter) -> Any:
    record = models.AuditRecord
    query = _scoped(query, scope)
    if where.entity:
        query = query.where(record.entity == where.entity)
    if where.key:
        query = query.where(record.entity_key == where.key)
    if where.action:
        query = query.where(record.action == where.action)
    if where.start is not None:
        query = query.where(record.at >= where.start)
    if where.end is not None:
        query = query.where(record.at < where.end)
    return query


def audit_page(
    engine: Engine,
    *,
    entity: str = "",
    page: int = 1,
    size: int = 100,
    scope: AuditScope | None = None,
    where: AuditFilter | None = None,
) -> AuditPage:
    """One page of the audit trail, newest first, optionally of one kind of record only,
    within what ``scope`` lets its reader see; ``more`` says whether older records follow,
    ``total`` how many match in all."""
    scope = scope or AuditScope()
    where = where or AuditFilter(entity=entity)
    record = models.AuditRecord
    query = _filtered(select(record).order_by(record.id.desc()), scope, where)
    query = query.offset((max(page, 1) - 1) * size).limit(size + 1)
    counted = _filtered(select(func.count(record.id)), scope, where)
    shown = _masked if scope.mask_free_text else (lambda text: text)
    with unit_of_work(engine) as session:
        rows = [
            AuditLine(
                r.at, r.actor, r.action, r.entity, r.entity_key, shown(r.before), shown(r.after)
            )
            for r in session.scalars(query)
        ]
        total = int(session.scalar(counted) or 0)
    return AuditPage(rows[:size], more=len(rows) > size, total=total)


def audit_lines(
    engine: Engine, *, scope: AuditScope, where: AuditFilter, limit: int = 1_000_000
) -> list[AuditLine]:
    """Every record matching, newest first (for an export), at most ``limit``."""
    record = models.AuditRecord
    query = _filtered(select(record).order_by(record.id.desc()), scope, where).limit(limit)
    shown = _masked if scope.mask_free_text else (lambda text: text)
    with unit_of_work(engine) as session:
        return [
            AuditLine(
                r.at, r.actor, r.action, r.entity, r.entity_key, shown(r.before), shown(r.after)
            )
            for r in session.execute(query).scalars().yield_per(2000)
        ]


def access_actions(engine: Engine) -> list[str]:
    """The kinds of access-log entries there are (for the filter's choices)."""
    record = models.AuditRecord
    with unit_of_work(engine) as session:
        return list(
            session.scalars(
                select(record.action)
                .where(record.entity == "access")
                .distinct()
                .order_by(record.action)
            )
        )


def audit_high_water(engine: Engine) -> int:
    """The newest audit record's id: it moves with every change of a billing record, since
    each is audited in the change's own transaction (and the trail is append-only)."""
    with unit_of_work(engine) as session:
        return int(session.scalar(select(func.max(models.AuditRecord.id))) or 0)
