"""What the importers read from the store and how they write to it: the roster they check rows
against, the spans and minutes already stored, the batch record of a file, and the one upsert
every importer of plan or provider data writes through."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from json.encoder import encode_basestring_ascii as _encoded  # type: ignore[attr-defined]
from typing import Any, TypeVar, cast

from sqlalchemy import Table, any_, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from ecmbill.store import audit, bulk, models

T = TypeVar("T")
Span = tuple[date | None, date | None]
Record = tuple[tuple[Any, ...], dict[str, Any]]
# Keys per statement: a file of a million rows would otherwise put a million ids into one
# statement, more parameters than SQLite or PostgreSQL take.
CHUNK = 1000


def _chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _among(session: Session, column: Any, values: list[Any]) -> Any:
    """``column IN values``. On PostgreSQL one array parameter (``= ANY(...)``): a statement of
    a thousand placeholders is parsed anew by the driver for every chunk (it caches only short
    statements), which took a tenth of a large import."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


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
        for key, first, last in session.execute(
            select(owner, start, end).where(_among(session, owner, chunk))
        ):
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
            .where(_among(session, entry.staff_id, chunk), _among(session, entry.date, dates))
            .group_by(entry.staff_id, entry.date)
        )
        for staff_id, on, minutes in stored:
            totals[(staff_id, on)] = int(minutes)
    if not totals:
        return totals  # nothing stored for these staff and days: nothing to replace
    for chunk in _chunks(sorted(set(replaced)), CHUNK):
        for staff_id, on, minutes in session.execute(
            select(entry.staff_id, entry.date, entry.minutes).where(
                _among(session, entry.entry_id, chunk)
            )
        ):
            totals[(staff_id, on)] -= int(minutes)
    return totals


def eligibility(session: Session, members: Iterable[str]) -> dict[tuple[str, str], bool]:
    """The stored eligibility of the members named, by member and month."""
    found: dict[tuple[str, str], bool] = {}
    table = models.Eligibility
    for chunk in _chunks(sorted(set(members)), CHUNK):
        for member_id, month, eligible in session.execute(
            select(table.member_id, table.month, table.eligible).where(
                _among(session, table.member_id, chunk)
            )
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
                .where(_among(session, model.member_id, chunk))
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


@dataclass
class Written:
    """What an upsert did: records added, and records changed with what they held before."""

    added: int = 0
    updated: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return self.added + len(self.updated)


def upsert(
    session: Session,
    model: type[models.Base],
    key_columns: tuple[str, ...],
    records: list[Record],
    actor: str,
    entity: str,
) -> Written:
    """Insert new records, update changed ones, leave identical ones alone, and audit each
    change; says how many were added and which were updated (with what each held before).
    Every importer of plan or provider data writes through here, so re-imports change nothing
    and history looks the same."""
    return upsert_streamed(
        session,
        model,
        key_columns,
        lambda: (records[i : i + UPSERT_CHUNK] for i in range(0, len(records), UPSERT_CHUNK)),
        actor,
        entity,
    )


def upsert_streamed(
    session: Session,
    model: type[models.Base],
    key_columns: tuple[str, ...],
    records: Callable[[], Iterable[list[Record]]],
    actor: str,
    entity: str,
    *,
    keys: Callable[[], Iterable[list[tuple[Any, ...]]]] | None = None,
) -> Written:
    """``upsert`` of records read twice from ``records()`` (chunks, in the same order both
    times), so a file's records need never be held at once: memory grows with the records
    that change, not with the file.

    First the changed records are found and updated, then the new ones inserted, each chunk's
    audit records (in the order of the records) after its rows.

    ``keys()``: the records' keys alone, in the same order, when every record names the same
    columns. Only the keys are read first then; when none is stored (a file of new records)
    the records are read once, to be inserted, instead of twice."""
    # The write's indexes outgrow SQLite's default page cache at once: see WRITE_CACHE_KIB.
    with bulk.larger_page_cache(session):
        written = Written()
        table = cast(Table, model.__table__)
        compare = [c.name for c in table.columns if c.name not in _HIDDEN]
        primary_key = [c.name for c in model.__mapper__.primary_key]
        # Which records are stored already (their index in the stream), and what the changed
        # ones held: a re-imported file holds no more than the set of its indexes.
        stored: set[int] = set()
        before_of: dict[int, dict[str, Any]] = {}
        updated_ids: list[Any] = []
        # A record may leave out a column it does not know (a member row without an address keeps
        # the stored one); a new row gets NULL there, so every insert names the same columns.
        named: dict[str, None] = {}
        offset = 0
        if keys is not None and not _any_stored(session, table, key_columns, keys()):
            written.added = _insert_new(session, table, records(), actor, entity)
            return written
        for chunk in _rechunked(records()):
            existing = _existing(session, table, key_columns, [key for key, _ in chunk])
            updates = []
            for index, (key, values) in enumerate(chunk, start=offset):
                before = existing.get(key)
                if before is None:
                    named.update(dict.fromkeys(values))
                    continue
                stored.add(index)
                if any(before.get(name) != values.get(name) for name in compare if name in values):
                    updates.append({**values, **{name: before[name] for name in primary_key}})
                    before_of[index] = _visible(before)
                    written.updated[key] = before_of[index]
            offset += len(chunk)
            # Updates first: a file that ends a span and starts the next one must shorten the
            # stored span before the new one goes in, or the database's no-overlap trigger
            # refuses it.
            if updates:
                session.execute(update(model), updates)
                if model is models.TimeEntry:
                    updated_ids.extend(values["entry_id"] for values in updates)
        if updated_ids:
            _drop_approvals(session, updated_ids, actor)
        columns = list(named)
        now = audit.now()
        offset = 0
        for chunk in _rechunked(records()):
            inserts, trail = [], []
            if keys is not None and not columns and chunk:
                columns = list(chunk[0][1])  # every record names the same columns (``keys``)
            for index, (key, values) in enumerate(chunk, offset):
                entity_key = _entity_key(key)
                if index not in stored:
                    # With ``keys`` every record names every column already.
                    inserts.append(
                        values if keys is not None else {name: values.get(name) for name in columns}
                    )
                    before, action = None, "create"
                elif index in before_of:
                    before, action = before_of.pop(index), "update"
                else:
                    continue
                trail.append(
                    audit.audit_row(
                        actor=actor,
                        at=now,
                        action=action,
                        entity=entity,
                        key=entity_key,
                        before=before,
                        after=_visible(values),
                    )
                )
            offset += len(chunk)
            written.added += bulk.insert_rows(session, table, inserts)
            bulk.insert_rows(session, cast(Table, models.AuditRecord.__table__), trail)
        return written


def _insert_new(
    session: Session, table: Table, records: Iterable[list[Record]], actor: str, entity: str
) -> int:
    """Records none of which is stored (each naming the same columns) inserted with their
    audit records, chunk by chunk as ``upsert_streamed`` writes them: the same rows and the
    same audit trail, in the same order, without asking for each record whether it is
    stored or changed. The audit records go to the insert as tuples, their JSON made a
    column at a time (``_after_texts``)."""
    now = audit.now()
    trail_table = cast(Table, models.AuditRecord.__table__)
    added = 0
    for chunk in _rechunked(records):
        values = [found for _, found in chunk]
        trail = [
            (now, actor, "create", entity, _entity_key(key), None, after, None)
            for (key, _), after in zip(chunk, _after_texts(values), strict=True)
        ]
        added += bulk.insert_rows(session, table, values)
        bulk.insert_rows(session, trail_table, trail, columns=_AUDIT_COLUMNS)
    return added


# The columns of an audit record, in the order ``audit.audit_row`` names them (taken from it,
# so the tuples ``_insert_new`` makes cannot drift from the records it makes).
_AUDIT_COLUMNS = tuple(
    audit.audit_row(actor="", at=audit.now(), action="", entity="", key="", before=None, after=None)
)


def _entity_key(key: tuple[Any, ...]) -> str:
    if len(key) == 1 and type(key[0]) is str:
        return key[0]
    return "/".join("" if part is None else str(part) for part in key)


# The store's own columns, not what a record holds: an audit record leaves them out
# (``_visible``), and a stored record that differs only in them is unchanged (``upsert``).
_HIDDEN = frozenset({"id", "import_batch_id"})


class _Unusual(Exception):
    """A value ``_after_texts`` leaves to the audit's own encoder."""


def _after_texts(records: list[dict[str, Any]]) -> list[str]:
    """``audit._json(_visible(values))`` of each record, the same text, made a column at a
    time when the records name the same columns and hold only texts, whole numbers, dates
    and empty cells: each column's values encoded by the JSON module's own C function, then
    each record put together by one format. Sorting each record's names and calling back
    into Python for each date took most of an imported row's audit record. Any other record
    (or value) is encoded by ``audit._json`` itself."""
    if not records:
        return []
    first = records[0]
    names = sorted(name for name in first if name not in _HIDDEN)
    named = first.keys()
    try:
        if any(values.keys() != named for values in records):
            raise _Unusual
        columns = [_column_texts([values[name] for values in records]) for name in names]
    except (KeyError, _Unusual):
        return [_after_text(values) for values in records]
    if not names:
        return ["{}"] * len(records)
    template = "{" + ", ".join(_encoded(name).replace("%", "%%") + ": %s" for name in names) + "}"
    return [template % texts for texts in zip(*columns, strict=True)]


def _after_text(values: dict[str, Any]) -> str:
    made = audit.audit_row(
        actor="", at=audit.now(), action="", entity="", key="", before=None, after=_visible(values)
    )
    return cast(str, made["after"])


def _column_texts(column: list[Any]) -> list[str]:
    kinds = set(map(type, column))
    if kinds == {str}:
        return list(map(_encoded, column))
    if kinds == {int}:
        return list(map(int.__repr__, column))
    if not kinds <= _PLAIN_KINDS:
        raise _Unusual
    # No two values of these kinds are equal unless they are of one kind (True would be 1).
    made = {value: _plain_text(value) for value in set(column)}
    return list(map(made.__getitem__, column))


_PLAIN_KINDS = frozenset({str, int, date, type(None)})


def _plain_text(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return cast(str, _encoded(value))
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    return cast(str, _encoded(value.isoformat()))


def _rechunked(chunks: Iterable[list[T]]) -> Iterator[list[T]]:
    """The records in chunks of exactly ``UPSERT_CHUNK`` (the last one shorter)."""
    pending: list[T] = []
    for chunk in chunks:
        pending.extend(chunk)
        while len(pending) >= UPSERT_CHUNK:
            yield pending[:UPSERT_CHUNK]
            del pending[:UPSERT_CHUNK]
    if pending:
        yield pending


# Records per round trip of an upsert: the stored rows read back for one chunk, its inserts and
# audit records (a SQLite statement takes at most 32,766 parameters).
UPSERT_CHUNK = 2000


def _any_stored(
    session: Session,
    table: Table,
    key_columns: tuple[str, ...],
    keys: Iterable[list[tuple[Any, ...]]],
) -> bool:
    """Whether a stored record may have one of these keys: one whose first key column is
    one of theirs (more than the keys themselves: enough to know none is stored)."""
    first_key = table.c[key_columns[0]]
    if session.execute(select(first_key).limit(1)).first() is None:
        return False  # an empty table (a first import): the keys need not be read at all
    for chunk in keys:
        for part in _chunks(list(dict.fromkeys(key[0] for key in chunk)), CHUNK):
            query = select(first_key).where(_among(session, first_key, part)).limit(1)
            if session.execute(query).first() is not None:
                return True
    return False


def _existing(
    session: Session, table: Table, key_columns: tuple[str, ...], keys: list[tuple[Any, ...]]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The stored rows with these keys, by key."""
    existing: dict[tuple[Any, ...], dict[str, Any]] = {}
    first_key = table.c[key_columns[0]]
    for chunk in _chunks(keys, 400):
        # Select on the first key column and match the whole key here: a key part may be
        # NULL (a staff role without effective_from), and NULL never equals NULL in SQL, so
        # a tuple IN would miss the stored row and insert it a second time.
        condition = _among(session, first_key, list(dict.fromkeys(k[0] for k in chunk)))
        for found in session.execute(select(table).where(condition)).mappings():
            existing[tuple(found[name] for name in key_columns)] = dict(found)
    return existing


def stored_rows(
    session: Session, model: type[models.Base], key_column: str, keys: Iterable[Any]
) -> dict[Any, dict[str, Any]]:
    """The stored rows whose ``key_column`` is one of ``keys``, by that key."""
    table = model.__table__
    found: dict[Any, dict[str, Any]] = {}
    wanted = _within_stored(session, table.c[key_column], sorted(set(keys)))
    for chunk in _chunks(wanted, CHUNK):
        for row in session.execute(
            select(table).where(_among(session, table.c[key_column], chunk))
        ).mappings():
            found[row[key_column]] = dict(row)
    return found


def _within_stored(session: Session, column: Any, keys: list[Any]) -> list[Any]:
    """Of ``keys`` (sorted texts of an indexed text column), those between the least and the
    greatest stored: no other can be stored, and a file of new records (a first import, or a
    month whose ids come after the last month's) asks for none of its ids. On SQLite only,
    which orders texts as Python does (by code point: its byte order of UTF-8); PostgreSQL
    orders them by its collation, and takes a chunk of ids as one parameter anyway. Two
    queries, as SQLite reads ``min`` or ``max`` alone from the index but both together by
    scanning the table."""
    if (
        not keys
        or session.get_bind().dialect.name != "sqlite"
        or not all(type(key) is str for key in (keys[0], keys[-1]))
    ):
        return keys
    low = session.scalar(select(func.min(column)))
    high = session.scalar(select(func.max(column)))
    if low is None or high is None:
        return []  # nothing stored
    if type(low) is not str or type(high) is not str:
        return keys
    return keys[bisect_left(keys, low) : bisect_right(keys, high)]


def stored_keys(
    session: Session,
    model: type[models.Base],
    key_columns: tuple[str, ...],
    keys: list[tuple[Any, ...]],
) -> set[tuple[Any, ...]]:
    """Which of ``keys`` (values of ``key_columns``; a part may be None) are stored."""
    table = model.__table__
    columns = [table.c[name] for name in key_columns]
    found: set[tuple[Any, ...]] = set()
    for chunk in _chunks(sorted({key[0] for key in keys}), CHUNK):
        for row in session.execute(select(*columns).where(_among(session, columns[0], chunk))):
            found.add(tuple(row))
    return found & set(keys)


def work_of(
    session: Session,
    model: type[models.Base],
    staff: Iterable[str],
    first: date,
    last: date,
) -> list[dict[str, Any]]:
    """The time entries (or outreach attempts) of the staff named, dated first..last."""
    table = model.__table__
    found: list[dict[str, Any]] = []
    for chunk in _chunks(sorted(set(staff)), CHUNK):
        query = select(table).where(
            _among(session, table.c.staff_id, chunk), table.c.date >= first, table.c.date <= last
        )
        found.extend(dict(row) for row in session.execute(query).mappings())
    return found


def correct_row(
    session: Session,
    model: type[models.Base],
    match: dict[str, Any],
    values: dict[str, Any] | None,
    *,
    actor: str,
    entity: str,
    key: str,
    reason: str,
) -> dict[str, Any] | None:
    """Change the one row whose columns equal ``match`` (None matches an empty cell) to
    ``values``, or delete it when ``values`` is None; audited with the reason. Returns what
    the row held before, or None when no row matches (nothing is written then)."""
    table = cast(Table, model.__table__)
    where = _matching(table, match)
    was = find_row(session, model, match)
    if was is None:
        return None
    if values is None:
        if model is models.TimeEntry:
            _drop_approval(session, was["entry_id"], actor)
        session.execute(delete(table).where(*where))
    else:
        session.execute(update(table).where(*where).values(**values))
        if model is models.TimeEntry and any(was.get(k) != v for k, v in values.items()):
            _drop_approval(session, was["entry_id"], actor)
    audit.record_change(
        session,
        actor=actor,
        action="delete" if values is None else "update",
        entity=entity,
        key=key,
        before=was,
        after=None if values is None else {**was, **values},
        reason=reason,
    )
    return was


def _matching(table: Any, match: dict[str, Any]) -> list[Any]:
    return [
        table.c[name].is_(None) if value is None else table.c[name] == value
        for name, value in match.items()
    ]


def find_row(
    session: Session, model: type[models.Base], match: dict[str, Any]
) -> dict[str, Any] | None:
    """The one row whose columns equal ``match`` (None matches an empty cell), if stored."""
    table = model.__table__
    found = session.execute(select(table).where(*_matching(table, match))).mappings().first()
    return None if found is None else _visible(dict(found))


def role_periods(session: Session, staff_id: str) -> list[tuple[date | None, date | None, str]]:
    """A staff member's role periods as (from, to, role)."""
    role = models.StaffRole
    return [
        (start, end, name)
        for start, end, name in session.execute(
            select(role.effective_from, role.effective_to, role.role).where(
                role.staff_id == staff_id
            )
        )
    ]


def staff_work_months(session: Session, staff_id: str) -> set[tuple[str, str]]:
    """The (member, month) pairs in which the staff member recorded time or outreach."""
    months: set[tuple[str, str]] = set()
    for model in (models.TimeEntry, models.OutreachAttempt):
        rows = session.execute(
            select(model.member_id, model.date)
            .where(model.staff_id == staff_id)
            .group_by(model.member_id, model.date)
        )
        months.update((member_id, f"{day:%Y-%m}") for member_id, day in rows)
    return months


def closed_periods(session: Session) -> set[str]:
    """The periods closed at least once (YYYY-MM)."""
    return set(session.scalars(select(models.PeriodClose.period).distinct()))


def _drop_approvals(session: Session, entry_ids: list[str], actor: str) -> None:
    """The approvals of entries just changed go (audited): an approval signs off an entry as
    it was, and the rating counts an approval row as the entry approved as it is now."""
    approval = models.TimeApproval
    for chunk in _chunks(sorted(set(entry_ids)), CHUNK):
        held = list(session.scalars(select(approval.entry_id).where(approval.entry_id.in_(chunk))))
        for entry_id in held:
            _drop_approval(session, entry_id, actor)


def _drop_approval(session: Session, entry_id: str, actor: str) -> None:
    """An approval signs off an entry as it was: it goes with the entry (audited)."""
    approval = session.get(models.TimeApproval, entry_id)
    if approval is None:
        return
    session.delete(approval)
    session.flush()
    audit.record_change(
        session,
        actor=actor,
        action="delete",
        entity="time_approval",
        key=entry_id,
        before={"approved_by": approval.approved_by},
    )


def _visible(values: dict[str, Any]) -> dict[str, Any]:
    # A copy less the hidden keys, not a comprehension: this runs for every imported row's
    # audit.
    shown = dict(values)
    for name in _HIDDEN:
        shown.pop(name, None)
    return shown
