"""Import one file of an import kind through the batch pipeline (``ecmbill.imports.batch``),
or one row typed in a form through exactly the same checks."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from ecmbill.contract import Contract
from ecmbill.imports.batch import (
    Importer,
    ImportResult,
    Progress,
    Row,
    RowReader,
    import_table,
)
from ecmbill.imports.kinds import KINDS, Context, Kind, context
from ecmbill.imports.reading import FileProblem, RawTable
from ecmbill.store import models, records
from ecmbill.store.db import Engine, Session, unit_of_work


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
    kind = KINDS[kind_name]
    importer = Importer(
        kind=kind.name,
        fields_of=lambda table: _normalise_header(table, kind),
        reader=lambda session: _reader(kind, context(session, contract, today)),
        repeated=lambda cells: (kind.key_columns[0], kind.hint_for_duplicate(cells)),
        write=lambda session, rows, batch_id: _write(session, kind, rows, actor, batch_id),
        check=lambda session, rows: kind.check_rows(rows, session),
    )
    with _without_gc_pauses():
        return import_table(engine, path, importer, actor=actor, progress=progress)


def _reader(kind: Kind, ctx: Context) -> RowReader:
    return lambda cells: kind.parse(cells, ctx)


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
        parsed = kind.parse(row, context(session, contract, today))
        for _, reject in kind.check_rows([parsed], session):
            raise reject
        _write(session, kind, [parsed], actor, None)
    return parsed


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


def _write(session: Session, kind: Kind, rows: list[Row], actor: str, batch_id: int | None) -> int:
    """Insert new rows, update changed ones, leave identical ones alone; audit each change."""
    changed = 0
    if kind.name == "staff":
        people = {row.extra["staff_id"]: row.extra for row in rows}
        changed += records.upsert(
            session,
            models.Staff,
            ("staff_id",),
            [((sid,), values) for sid, values in people.items()],
            actor,
            "staff",
        )
    with_batch = hasattr(kind.model, "import_batch_id")
    stored = [
        (row.key, {**row.values, "import_batch_id": batch_id} if with_batch else row.values)
        for row in rows
    ]
    changed += records.upsert(session, kind.model, kind.key_columns, stored, actor, kind.name)
    return changed
