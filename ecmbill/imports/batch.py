"""One import pipeline for every file of rows (the six import kinds and the plan's Member
Information File): read the file, read each row or reject it with its line, column and reason,
refuse a row that repeats an earlier key, check the rows against what is stored, and write the
accepted ones with a batch record in one transaction. Rejected rows go, with their reasons, to
``NAME.rejects.csv`` beside the input. The 834 reader shares the batch record (``in_batch``)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecmbill.imports.reading import FileProblem, RawTable, read_table, width_problem
from ecmbill.store import records
from ecmbill.store.db import Engine, Session, unit_of_work
from ecmbill.store.files import Cell, write_table

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Rejection:
    line: int
    column: str | None
    reason: str


class RowReject(Exception):
    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


@dataclass
class Row:
    """An accepted row on its way into the store."""

    line: int
    key: tuple[Any, ...]
    values: dict[str, Any]
    # Rows written into a second table from the same line (staff roles from the staff file).
    extra: dict[str, Any] = field(default_factory=dict)


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


Cells = dict[str, str]
RowReader = Callable[[Cells], Row]


@dataclass(frozen=True)
class Importer:
    """What one kind of file adds to the pipeline."""

    kind: str
    # The field of each column of the file; raises ``FileProblem`` for a header it refuses.
    fields_of: Callable[[RawTable], tuple[str, ...]]
    # How to read a row, given what is stored (raises ``RowReject``).
    reader: Callable[[Session], RowReader]
    # The column blamed and the hint given when a row repeats the key of an earlier one.
    repeated: Callable[[Cells], tuple[str, str]]
    write: Callable[[Session, list[Row], int | None], int]
    check: Callable[[Session, list[Row]], list[tuple[Row, RowReject]]] = lambda _s, _r: []
    # The rejects file repeats the file's own column titles, not the fields they hold.
    titles_in_rejects: bool = False


def import_table(
    engine: Engine, path: Path, importer: Importer, *, actor: str, progress: Progress | None
) -> ImportResult:
    result = ImportResult(kind=importer.kind, file=path)
    try:
        table = read_table(path)
        header = importer.fields_of(table)
    except FileProblem as problem:
        result.file_problem = str(problem)
        return result
    result.rows_read = len(table.rows)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with unit_of_work(engine) as session:
        accepted = _read_rows(importer, importer.reader(session), header, table, result, progress)
        for row, reject in importer.check(session, accepted):
            result.rejections.append(Rejection(row.line, reject.column, reject.reason))
            accepted.remove(row)
        result.accepted = len(accepted)
        file = records.BatchFile(
            importer.kind, path.name, digest, actor, result.rows_read, result.accepted
        )
        result.changed = in_batch(
            session, file, lambda batch_id: importer.write(session, accepted, batch_id)
        )
    result.rejections.sort(key=lambda r: r.line)
    assert result.accepted + result.rejected == result.rows_read
    if result.rejections:
        titles = tuple(table.header) if importer.titles_in_rejects else header
        result.rejects_file = write_rejects(path, titles, table, result.rejections)
    else:
        # A rejects file left by an earlier import of this file would now be wrong.
        rejects_path(path).unlink(missing_ok=True)
    return result


def in_batch(session: Session, file: records.BatchFile, write: Callable[[int], int]) -> int:
    """Record the batch of one file, write its rows with ``write(batch_id)`` and keep how
    many rows that added or changed; returns that number."""
    batch = records.add_batch(session, file)
    batch.changed = write(batch.id)
    return batch.changed


def _read_rows(
    importer: Importer,
    read: RowReader,
    header: tuple[str, ...],
    table: RawTable,
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
            row = read(cells)
        except RowReject as reject:
            result.rejections.append(Rejection(raw.line, reject.column, reject.reason))
            continue
        row.line = raw.line
        earlier = first_line.get(row.key)
        if earlier is not None:
            what = "duplicate of" if earlier.values == row.values else "conflicts with"
            column, hint = importer.repeated(cells)
            result.rejections.append(
                Rejection(raw.line, column, f"{what} line {earlier.line}{hint}")
            )
            continue
        first_line[row.key] = row
        accepted.append(row)
    return accepted


def rejects_path(source: Path) -> Path:
    return source.with_name(f"{source.stem}.rejects.csv")


def write_rejects(
    source: Path, header: tuple[str, ...], table: RawTable, rejections: list[Rejection]
) -> Path:
    """``name.rejects.csv`` beside the input: the original row, its line, column and reason.
    Written to a temporary file and renamed, so a reader never sees half a file, and
    formula-safe: a row's ``=HYPERLINK(...)`` is copied as text (``ecmbill.store.files``)."""
    target = rejects_path(source)
    by_line = {raw.line: raw.values for raw in table.rows}
    rows: Iterable[list[Cell]] = (
        [rejection.line, rejection.column or "", rejection.reason, *by_line.get(rejection.line, ())]
        for rejection in rejections
    )
    write_table(target, ["line", "column", "reason", *header], rows, kind="csv")
    return target
