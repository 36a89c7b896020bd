"""What the importers read from the store and how they write to it: the roster they check rows
against, the spans and minutes already stored, the batch record of a file, and the one upsert
every importer of plan or provider data writes through."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.orm import Session

from ecmbill.store import audit, models

T = TypeVar("T")
Span = tuple[date | None, date | None]
Record = tuple[tuple[Any, ...], dict[str, Any]]
# Keys per statement: a file of a million rows would otherwise put a million ids into one
# statement, more parameters than SQLite or PostgreSQL take.
CHUNK = 1000


def _chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def staff_ids(session: Session) -> frozenset[str]:
    return frozenset(session.scalars(select(models.Staff.staff_id)))


def member_ids(session: Session) -> frozenset[str]:
    return frozenset(session.scalars(select(models.Member.member_id)))


def member_birth_dates(session: Session) -> dict[str, date]:
    return dict(session.execute(select(models.Member.member_id, models.Member.birth_date)).all())


def staff_roles(session: Session, staff: Iterable[str]) -> dict[str, list[Span]]:
    """The stored role periods of each staff member named."""
    role = models.StaffRole
    return _spans(session, role.staff_id, role.effective_from, role.effective_to, staff)


def enrollments(session: Session, members: Iterable[str]) -> dict[str, list[Span]]:
    """The stored enrollment spans of each member named."""
    span = models.Enrollment
    return _spans(session, span.member_id, span.start_date, span.end_date, members)


def _spans(
    session: Session, owner: Any, start: Any, end: Any, owners: Iterable[str]
) -> dict[str, list[Span]]:
    spans: dict[str, list[Span]] = defaultdict(list)
    for chunk in _chunks(sorted(set(owners)), CHUNK):
        for key, first, last in session.execute(select(owner, start, end).where(owner.in_(chunk))):
            spans[key].append((first, last))
    return spans


def minutes_per_day(
    session: Session, staff: Iterable[str], days: Iterable[date], replaced: Iterable[str]
) -> dict[tuple[str, date], int]:
    """Minutes already stored per staff member and day, not counting the entries ``replaced``
    (those a file being imported gives again)."""
    dates = sorted(set(days))
    totals: dict[tuple[str, date], int] = defaultdict(int)
    entry = models.TimeEntry
    for chunk in _chunks(sorted(set(staff)), CHUNK):
        stored = session.execute(
            select(entry.staff_id, entry.date, func.sum(entry.minutes))
            .where(entry.staff_id.in_(chunk), entry.date.in_(dates))
            .group_by(entry.staff_id, entry.date)
        )
        for staff_id, on, minutes in stored:
            totals[(staff_id, on)] = int(minutes)
    if not totals:
        return totals  # nothing stored for these staff and days: nothing to replace
    for chunk in _chunks(sorted(set(replaced)), CHUNK):
        for staff_id, on, minutes in session.execute(
            select(entry.staff_id, entry.date, entry.minutes).where(entry.entry_id.in_(chunk))
        ):
            totals[(staff_id, on)] -= int(minutes)
    return totals


def eligibility(session: Session, members: Iterable[str]) -> dict[tuple[str, str], bool]:
    """The stored eligibility of the members named, by member and month."""
    found: dict[tuple[str, str], bool] = {}
    table = models.Eligibility
    for chunk in _chunks(sorted(set(members)), CHUNK):
        for member_id, month, eligible in session.execute(
            select(table.member_id, table.month, table.eligible).where(table.member_id.in_(chunk))
        ):
            found[(member_id, month)] = eligible
    return found


def months_with_work(session: Session, members: Iterable[str]) -> set[tuple[str, str]]:
    """The months (YYYY-MM) in which each member named has recorded time or outreach."""
    months: set[tuple[str, str]] = set()
    for chunk in _chunks(sorted(set(members)), CHUNK):
        for model in (models.TimeEntry, models.OutreachAttempt):
            rows = session.execute(
                select(model.member_id, model.date)
                .where(model.member_id.in_(chunk))
                .group_by(model.member_id, model.date)
            )
            months.update((member_id, f"{day:%Y-%m}") for member_id, day in rows)
    return months


def mark_for_rerating(
    session: Session, marks: list[tuple[str, str, str]], batch_id: int | None
) -> None:
    """Months (member, month, why) whose rating must be done again."""
    now = audit.now()
    for member_id, month, reason in marks:
        session.add(
            models.RerateMark(
                member_id=member_id,
                month=month,
                reason=reason,
                marked_at=now,
                import_batch_id=batch_id,
            )
        )


def member_detail_columns() -> list[str]:
    return [column.name for column in models.MemberDetail.__table__.columns]


@dataclass(frozen=True)
class BatchFile:
    """One imported file, as its batch record keeps it."""

    kind: str
    file_name: str
    sha256: str
    actor: str
    rows_read: int
    accepted: int


def add_batch(session: Session, file: BatchFile) -> models.ImportBatch:
    """The record of one imported file; its ``changed`` is set once the rows are written."""
    batch = models.ImportBatch(
        kind=file.kind,
        file_name=file.file_name,
        sha256=file.sha256,
        imported_at=audit.now(),
        actor=file.actor,
        rows_read=file.rows_read,
        accepted=file.accepted,
        rejected=file.rows_read - file.accepted,
        changed=0,
    )
    session.add(batch)
    session.flush()
    return batch


def upsert(
    session: Session,
    model: type[models.Base],
    key_columns: tuple[str, ...],
    records: list[Record],
    actor: str,
    entity: str,
) -> int:
    """Insert new records, update changed ones, leave identical ones alone, and audit each
    change; returns how many were added or changed. Every importer of plan or provider data
    writes through here, so re-imports change nothing and history looks the same."""
    table = model.__table__
    first_key = table.c[key_columns[0]]
    existing: dict[tuple[Any, ...], dict[str, Any]] = {}
    keys = [key for key, _ in records]
    for chunk in _chunks(keys, 400):
        # Select on the first key column and match the whole key here: a key part may be
        # NULL (a staff role without effective_from), and NULL never equals NULL in SQL, so
        # a tuple IN would miss the stored row and insert it a second time.
        condition = first_key.in_(list(dict.fromkeys(k[0] for k in chunk)))
        for stored in session.execute(select(table).where(condition)).mappings():
            existing[tuple(stored[name] for name in key_columns)] = dict(stored)
    now = audit.now()
    inserts, updates, trail = [], [], []
    compare = [c.name for c in table.columns if c.name not in {"id", "import_batch_id"}]
    primary_key = [c.name for c in model.__mapper__.primary_key]
    for key, values in records:
        before = existing.get(key)
        entity_key = "/".join("" if part is None else str(part) for part in key)
        if before is None:
            inserts.append(values)
            trail.append(
                audit.audit_row(
                    actor=actor,
                    at=now,
                    action="create",
                    entity=entity,
                    key=entity_key,
                    before=None,
                    after=_visible(values),
                )
            )
        elif any(before.get(name) != values.get(name) for name in compare if name in values):
            pk = {name: before[name] for name in primary_key}
            updates.append({**values, **pk})
            trail.append(
                audit.audit_row(
                    actor=actor,
                    at=now,
                    action="update",
                    entity=entity,
                    key=entity_key,
                    before=_visible(before),
                    after=_visible(values),
                )
            )
    # Updates first: a file that ends a span and starts the next one must shorten the stored
    # span before the new one goes in, or the database's no-overlap trigger refuses it.
    if updates:
        session.execute(update(model), updates)
    # A record may leave out a column it does not know (a member row without an address keeps
    # the stored one); a new row gets NULL there, so every insert names the same columns.
    named = {name for values in inserts for name in values}
    inserts = [{name: values.get(name) for name in named} for values in inserts]
    for some in _chunks(inserts, 5000):
        # The table, not the mapped class: a plain executemany without the ORM's bookkeeping.
        session.execute(insert(cast(Table, table)), some)
    audit.record(session, trail)
    return len(inserts) + len(updates)


def _visible(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in {"id", "import_batch_id"}}
