"""Import one file: read, check every row, write the accepted ones in one transaction, and
write the rejected ones, with their reasons, to a CSV next to the input."""

from __future__ import annotations

import csv
import gc
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, Table, insert, select, update
from sqlalchemy.orm import Session

from ecmbill.contract import Contract
from ecmbill.imports.kinds import KINDS, Context, Kind, Row, RowReject
from ecmbill.imports.reading import FileProblem, RawTable, read_table, width_problem
from ecmbill.store import audit, models
from ecmbill.store.db import unit_of_work

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Rejection:
    line: int
    column: str | None
    reason: str


@dataclass
class ImportResult:
    kind: str
    file: Path
    rows_read: int = 0
    accepted: int = 0
    changed: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    file_problem: str | None = None
    rejects_file: Path | None = None

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    @property
    def exit_code(self) -> int:
        """0: every row accepted; 1: some rejected, the rest accepted; 2: nothing imported."""
        if self.file_problem:
            return 2
        return 1 if self.rejections else 0


def import_file(
    engine: Engine,
    kind_name: str,
    path: Path,
    contract: Contract,
    *,
    actor: str,
    today: date | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    with _without_gc_pauses():
        return _import_file(engine, kind_name, path, contract, actor, today, progress)


@contextmanager
def _without_gc_pauses() -> Iterator[None]:
    """A large file is millions of small objects that hold no reference cycles; the cyclic
    collector would walk all of them again and again while they pile up (a fifth of the time of
    a 200,000-row import). Reference counting still frees everything. The collector is switched
    back on afterwards even if something else had switched it off: leaving it off for good
    would be the worse mistake."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _import_file(
    engine: Engine,
    kind_name: str,
    path: Path,
    contract: Contract,
    actor: str,
    today: date | None,
    progress: Progress | None,
) -> ImportResult:
    kind = KINDS[kind_name]
    result = ImportResult(kind=kind_name, file=path)
    try:
        table = read_table(path)
        header = _normalise_header(table, kind)
    except FileProblem as problem:
        result.file_problem = str(problem)
        return result
    result.rows_read = len(table.rows)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with unit_of_work(engine) as session:
        ctx = _context(session, contract, today)
        accepted = _parse_rows(kind, header, table, ctx, result, progress)
        for row, reject in kind.check_rows(accepted, session):
            result.rejections.append(Rejection(row.line, reject.column, reject.reason))
            accepted.remove(row)
        result.accepted = len(accepted)
        now = audit.now()
        batch = models.ImportBatch(
            kind=kind_name,
            file_name=path.name,
            sha256=digest,
            imported_at=now,
            actor=actor,
            rows_read=result.rows_read,
            accepted=result.accepted,
            rejected=result.rejected,
            changed=0,
        )
        session.add(batch)
        session.flush()
        result.changed = _write(session, kind, accepted, actor, batch.id)
        batch.changed = result.changed
    result.rejections.sort(key=lambda r: r.line)
    assert result.accepted + result.rejected == result.rows_read
    if result.rejections:
        result.rejects_file = write_rejects(path, header, table, result.rejections)
    else:
        # A rejects file left by an earlier import of this file would now be wrong.
        rejects_path(path).unlink(missing_ok=True)
    return result


def record_row(
    engine: Engine,
    kind_name: str,
    row: dict[str, str],
    contract: Contract,
    *,
    actor: str,
    today: date | None = None,
) -> Row:
    """One row typed in a form, through exactly the checks of an imported file (``parse`` and
    ``check_rows``) and written with the same audit records. Raises ``RowReject`` with the
    column and reason when the row is refused; nothing is written then."""
    kind = KINDS[kind_name]
    with unit_of_work(engine) as session:
        ctx = _context(session, contract, today)
        parsed = kind.parse(row, ctx)
        for _, reject in kind.check_rows([parsed], session):
            raise reject
        _write(session, kind, [parsed], actor, None)
    return parsed


def _context(session: Session, contract: Contract, today: date | None) -> Context:
    return Context(
        today=today or date.today(),
        contract=contract,
        staff_ids=frozenset(session.scalars(select(models.Staff.staff_id))),
        member_ids=frozenset(session.scalars(select(models.Member.member_id))),
    )


def _normalise_header(table: RawTable, kind: Kind) -> tuple[str, ...]:
    header = tuple(name.strip().lower() for name in table.header)
    if any(not name for name in header):
        raise FileProblem("the header row has an empty column name")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise FileProblem(f"column(s) named twice: {', '.join(repeated)}")
    problem = kind.header_problem(set(header))
    if problem:
        raise FileProblem(f"{problem} (columns for {kind.name}: {_columns_of(kind)})")
    return header


def _columns_of(kind: Kind) -> str:
    optional = [f"{name} (optional)" for name in sorted(kind.optional)]
    return ", ".join(sorted(kind.required) + optional)


def _parse_rows(
    kind: Kind,
    header: tuple[str, ...],
    table: RawTable,
    ctx: Context,
    result: ImportResult,
    progress: Progress | None,
) -> list[Row]:
    accepted: list[Row] = []
    first_line: dict[tuple[Any, ...], Row] = {}
    total = len(table.rows)
    for done, raw in enumerate(table.rows, start=1):
        if progress and (done % 1000 == 0 or done == total):
            progress(done, total)
        if problem := width_problem(header, raw):
            result.rejections.append(Rejection(raw.line, None, problem))
            continue
        cells = dict(zip(header, raw.values, strict=True))
        try:
            row = kind.parse(cells, ctx)
        except RowReject as reject:
            result.rejections.append(Rejection(raw.line, reject.column, reject.reason))
            continue
        row.line = raw.line
        earlier = first_line.get(row.key)
        if earlier is not None:
            what = "duplicate of" if earlier.values == row.values else "conflicts with"
            result.rejections.append(
                Rejection(
                    raw.line,
                    kind.key_columns[0],
                    f"{what} line {earlier.line}{kind.hint_for_duplicate(cells)}",
                )
            )
            continue
        first_line[row.key] = row
        accepted.append(row)
    return accepted


def _write(session: Session, kind: Kind, rows: list[Row], actor: str, batch_id: int | None) -> int:
    """Insert new rows, update changed ones, leave identical ones alone; audit each change."""
    changed = 0
    if kind.name == "staff":
        people = {row.extra["staff_id"]: row.extra for row in rows}
        changed += upsert(
            session,
            models.Staff,
            ("staff_id",),
            [((sid,), values) for sid, values in people.items()],
            actor,
            "staff",
        )
    with_batch = hasattr(kind.model, "import_batch_id")
    records = [
        (row.key, {**row.values, "import_batch_id": batch_id} if with_batch else row.values)
        for row in rows
    ]
    changed += upsert(session, kind.model, kind.key_columns, records, actor, kind.name)
    return changed


def upsert(
    session: Session,
    model: type[models.Base],
    key_columns: tuple[str, ...],
    records: list[tuple[tuple[Any, ...], dict[str, Any]]],
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
    for chunk in _chunks(inserts, 5000):
        # The table, not the mapped class: a plain executemany without the ORM's bookkeeping.
        session.execute(insert(cast(Table, table)), chunk)
    audit.record(session, trail)
    return len(inserts) + len(updates)


def _visible(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in {"id", "import_batch_id"}}


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def rejects_path(source: Path) -> Path:
    return source.with_name(f"{source.stem}.rejects.csv")


def write_rejects(
    source: Path, header: tuple[str, ...], table: RawTable, rejections: list[Rejection]
) -> Path:
    """``name.rejects.csv`` beside the input: the original row, its line, column and reason.
    Written to a temporary file and renamed, so a reader never sees half a file."""
    target = rejects_path(source)
    by_line = {raw.line: raw.values for raw in table.rows}
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["line", "column", "reason", *header])
            for rejection in rejections:
                writer.writerow(
                    [
                        rejection.line,
                        rejection.column or "",
                        rejection.reason,
                        *by_line.get(rejection.line, ()),
                    ]
                )
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
