"""One import pipeline for every file of rows (the six import kinds and the plan's Member
Information File): read the file, read each row or reject it with its line, column and reason,
refuse a row that repeats an earlier key, check the rows against what is stored, and write the
accepted ones with a batch record in one transaction. Rejected rows go, with their reasons, to
``NAME.rejects.csv`` beside the input. The 834 reader shares the batch record (``in_batch``)."""

from __future__ import annotations

import gc
import hashlib
import itertools
import marshal
import pickle
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, cast

from ecmbill.imports.reading import (
    FileProblem,
    RawRow,
    RawTable,
    StreamedTable,
    open_table,
    width_problem,
)
from ecmbill.store import records
from ecmbill.store.db import Engine, Session, unit_of_work
from ecmbill.store.files import Cell, write_table

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Rejection:
    """A row refused (or, in ``ImportResult.notes``, a row taken with something to say)."""

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
    # The import instructions of the row: delete the record instead of recording it; the key
    # of the stored record it corrects; how many records it stands for.
    delete: bool = False
    replaces: tuple[Any, ...] | None = None
    copies: int = 1
    # What the id of a row without one is made from, so a repeat of it gets an id of its own.
    generated: tuple[Any, ...] | None = None
    # Another row of the file this one was merged into (overlapping time, by contract).
    merged_into: Row | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def recorded(self) -> bool:
        """Whether the row is written as a record of its own: not a deletion, not a correction
        of a stored record, not merged into another row."""
        return not self.delete and self.replaces is None and self.merged_into is None


@dataclass
class Counts:
    """What an import did to the stored records."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    @property
    def changed(self) -> int:
        return self.added + self.updated + self.deleted


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
    # The six import kinds say what they did; other files only how many records changed.
    counts: Counts | None = None
    notes: list[Rejection] = field(default_factory=list)
    # With --replace-period nothing is written unless every row is accepted.
    incomplete: str | None = None

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    @property
    def exit_code(self) -> int:
        """0: every row accepted; 1: some rejected, the rest accepted; 2: nothing imported."""
        if self.file_problem or self.incomplete:
            return 2
        return 1 if self.rejections else 0


Cells = dict[str, str]
RowReader = Callable[[Cells], Row]


@dataclass(frozen=True)
class BatchReading:
    """Rows read a batch at a time: ``check`` applies the rules to a batch's cells column by
    column (the header, then each row's values) and gives each row's values where it keeps
    every rule, None where it must be read alone; ``read`` makes the row of such values (and
    may still refuse it, for what the rules over one row say)."""

    check: Callable[[tuple[str, ...], list[tuple[str, ...]]], list[dict[str, Any] | None]]
    read: Callable[[Cells, dict[str, Any]], Row]


# Rows read and checked together (``BatchReading``).
READ_TOGETHER = 2_000

# A file's accepted records are kept in memory up to this many; beyond it they wait in a
# temporary file (SQLite) between reading, checking and writing, so the memory an import takes
# does not grow with the file.
KEPT_IN_MEMORY = 20_000
# Records checked together once they wait in the temporary file (whole groups: the checks
# across rows compare rows of one staff member or member only).
CHECKED_TOGETHER = 5_000
# Records written to and read from the temporary file at a time.
_SPILL_CHUNK = 2_000
# Chunks of records written between two collections of cycles (``Accepted.recorded``).
_COLLECTED_EVERY = 25
# Keys looked up in the temporary file by one query (SQLite takes up to 32,766 parameters).
_LOOKED_UP_TOGETHER = 500


class Accepted:
    """The records of a file's accepted rows, in file order, between reading and writing:
    in memory while few, in a temporary SQLite file beyond ``KEPT_IN_MEMORY``. The lines the
    checks refuse are dropped with every record they stood for."""

    def __init__(self, group: Callable[[Row], Any] | None = None) -> None:
        self._group = group
        self._rows: list[Row] = []
        self._raw: dict[int, tuple[str, ...]] = {}
        self._spill: sqlite3.Connection | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._pending: list[tuple[int, Row, tuple[str, ...] | None]] = []
        self._stored = 0  # records in the temporary file
        self.count = 0  # records
        self.lines = 0  # accepted lines
        self.dropped: set[int] = set()
        # Whether any record deletes or corrects a stored one.
        self.corrections = False
        # The keys of the rows read: where the first record of each is, and how many records
        # rows of that key stood for. In the temporary file once the records are.
        self._keys: dict[Any, tuple[int, int]] = {}
        # The names of the values of the records in the temporary file (those of the first
        # record spilled): a record with just these names keeps its values as a tuple there.
        self._names: tuple[str, ...] | None = None
        # The keys of the rows being read looked up in the temporary file (``look_up``):
        # those asked, and where each found is.
        self._looked_up: tuple[set[str], dict[str, tuple[int, int]]] | None = None

    @classmethod
    def of(cls, rows: list[Row]) -> Accepted:
        accepted = cls()
        for row in rows:
            accepted.add([row], None)
        return accepted

    def add(self, rows: list[Row], raw: tuple[str, ...] | None) -> None:
        """The records of one accepted line (``raw``: its values as read)."""
        self.lines += 1
        for index, row in enumerate(rows):
            self.corrections = self.corrections or row.delete or row.replaces is not None
            if self._spill is None:
                self._rows.append(row)
                if raw is not None and index == 0:
                    self._raw[row.line] = raw
            else:
                self._pending.append((self.count, row, raw if index == 0 else None))
            self.count += 1
        if self._spill is None and self.count > KEPT_IN_MEMORY:
            self._start_spilling()
        if len(self._pending) >= _SPILL_CHUNK:
            self._flush()

    def record(self, seq: int) -> Row:
        """The ``seq``-th record (from 0), as it was added."""
        if self._spill is None:
            return self._rows[seq]
        if seq >= self._stored:
            return self._pending[seq - self._stored][1]
        (blob,) = self._spill.execute("SELECT row FROM rows WHERE seq = ?", (seq,)).fetchone()
        return self._decoded(blob)

    def seen(self, key: Any) -> tuple[int, int] | None:
        """Where the first record of a row with ``key`` is, and how many records rows with
        that key stood for; None for a key not read before."""
        found = self._keys.get(key)
        if found is not None or self._spill is None:
            return found
        text = _text(key)
        if self._looked_up is not None and text in self._looked_up[0]:
            return self._looked_up[1].get(text)
        got = self._spill.execute("SELECT seq, n FROM keys WHERE k = ?", (_text(key),)).fetchone()
        return None if got is None else (got[0], got[1])

    def look_up(self, keys: Iterable[Any]) -> None:
        """The keys of the next rows, looked up in the temporary file together (``seen``):
        one query per few hundred keys instead of one per row."""
        self._looked_up = None
        if self._spill is None:
            return
        texts = list({_text(key) for key in keys if key not in self._keys})
        found: dict[str, tuple[int, int]] = {}
        for start in range(0, len(texts), _LOOKED_UP_TOGETHER):
            part = texts[start : start + _LOOKED_UP_TOGETHER]
            marks = ", ".join("?" for _ in part)
            query = f"SELECT k, seq, n FROM keys WHERE k IN ({marks})"
            found.update((k, (seq, n)) for k, seq, n in self._spill.execute(query, part))
        self._looked_up = (set(texts), found)

    def see(self, key: Any, first: int, records: int) -> None:
        self._keys[key] = (first, records)
        if self._spill is not None and len(self._keys) >= _SPILL_CHUNK:
            self._flush_keys()

    def _flush_keys(self) -> None:
        assert self._spill is not None
        flushed = [(_text(key), seq, n) for key, (seq, n) in self._keys.items()]
        self._spill.executemany("INSERT OR REPLACE INTO keys VALUES (?, ?, ?)", flushed)
        self._keys = {}
        if self._looked_up is not None:
            # Keys looked up before they were seen are now where ``seen`` no longer looks.
            asked, found = self._looked_up
            found.update((text, (seq, n)) for text, seq, n in flushed if text in asked)

    def _start_spilling(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="ecmbill-import-")
        self._spill = sqlite3.connect(Path(self._folder.name) / "rows.db")
        self._spill.executescript(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
            "CREATE TABLE rows (seq INTEGER PRIMARY KEY, line INTEGER, grp TEXT, noted INTEGER,"
            " row BLOB, key BLOB, recorded INTEGER);"
            "CREATE TABLE raw (line INTEGER PRIMARY KEY, cells BLOB);"
            "CREATE TABLE keys (k TEXT PRIMARY KEY, seq INTEGER, n INTEGER) WITHOUT ROWID;"
        )
        self._flush_keys()
        # Only the first record of a line carries its values.
        lines = [None, *(row.line for row in self._rows)]
        self._pending = [
            (seq, row, self._raw.get(row.line) if row.line != lines[seq] else None)
            for seq, row in enumerate(self._rows)
        ]
        self._rows, self._raw = [], {}
        self._flush()

    def _flush(self) -> None:
        if self._spill is None or not self._pending:
            return
        group = self._group
        self._spill.executemany(
            "INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (seq, row.line, "" if group is None else str(group(row)), 1 if row.notes else 0,
                 self._encoded(row), _key_cell(row.key), row.recorded)
                for seq, row, _ in self._pending
            ],
        )  # fmt: skip
        self._spill.executemany(
            "INSERT INTO raw VALUES (?, ?)",
            [(row.line, _cells_blob(raw)) for _, row, raw in self._pending if raw is not None],
        )
        self._stored += len(self._pending)
        self._pending = []

    def partitions(self) -> Iterator[list[Row]]:
        """The records for the checks across rows: all at once while in memory; from the
        temporary file, whole groups of about ``CHECKED_TOGETHER`` records in file order
        within a group. What the checks note on a record, or merge into it, is kept. A part
        handed out is emptied when the next one is asked for."""
        if self._spill is None:
            yield self._rows
            return
        self._flush()
        # Sorted whole (records and all, by SQLite's sorter, in temporary files beyond a few
        # MiB) and read in that order: read through an index on (grp, seq) instead, every
        # record was a lookup at a random place in the file, and a 1,000,000-row file's are
        # far more than SQLite's page cache holds (1.2 s of CPU for 2.7 s, 1,000,000 records
        # of 150 bytes). The sort has every record before the first is handed out, so the
        # updates of ``save_checked`` cannot move what is still to be read.
        cursor = self._spill.execute("SELECT seq, grp, row FROM rows ORDER BY grp, seq")
        part: list[tuple[int, Row]] = []
        last = None
        for seq, grp, blob in cursor:
            if grp != last and len(part) >= CHECKED_TOGETHER:
                checked = self._checked(part)
                yield checked
                # The part's records freed now (what the checks changed on them saved), not
                # walked by the collector, which only has to find the cycles the checks left:
                # walking the part's records took most of its time.
                self.save_checked()
                checked.clear()
                _collect_cycles()
            last = grp
            part.append((seq, self._decoded(blob)))
        if part:
            yield self._checked(part)

    def _checked(self, part: list[tuple[int, Row]]) -> list[Row]:
        """Hands the records of ``part`` to the checks (which empties it), and keeps what the
        checks changed on them when the next part is asked for."""
        rows = [row for _, row in part]
        seqs = [seq for seq, _ in part]
        part.clear()
        self._after_check = (seqs, rows)
        return rows

    def save_checked(self) -> None:
        """Keeps what the checks noted on (or merged into) the last part handed out."""
        if self._spill is None or not hasattr(self, "_after_check"):
            return
        seqs, rows = self._after_check
        self._save(zip(seqs, rows, strict=True))
        del self._after_check

    def _save(self, records: Iterable[tuple[int, Row]]) -> None:
        assert self._spill is not None
        changed = [
            (self._encoded(row), row.recorded, seq)
            for seq, row in records
            if row.notes or row.merged_into is not None
        ]
        self._spill.executemany(
            "UPDATE rows SET row = ?, noted = 1, recorded = ? WHERE seq = ?", changed
        )

    def drop(self, line: int) -> None:
        """A refused line takes every record it stood for (a row with a count) with it."""
        if self._spill is None:
            self._rows[:] = [row for row in self._rows if row.line != line]
        self.dropped.add(line)

    def chunks(self, *, keep_notes: bool = False) -> Iterator[list[Row]]:
        """The records in file order, in chunks; with ``keep_notes``, notes added to them
        while a chunk is out are kept."""
        if self._spill is None:
            if self._rows:
                yield self._rows
            return
        self._flush()
        dropped = self.dropped
        for start in range(0, self._stored, _SPILL_CHUNK):
            found = self._spill.execute(
                "SELECT seq, line, row FROM rows WHERE seq >= ? AND seq < ? ORDER BY seq",
                (start, start + _SPILL_CHUNK),
            ).fetchall()
            decoded = self._decoded
            part = [(seq, decoded(blob)) for seq, line, blob in found if line not in dropped]
            if part:
                yield [row for _, row in part]
            if keep_notes:
                self._save(part)
            _collect_cycles()

    def recorded(
        self, added: Mapping[str, Any] | None = None
    ) -> Iterator[list[tuple[tuple[Any, ...], dict[str, Any]]]]:
        """The key and values (with ``added``) of each record written as a record of its own
        (``Row.recorded``), in file order, in chunks: what ``chunks`` gives, less the rest,
        made straight from the temporary file without a ``Row`` for each record."""
        extra = dict(added or {})
        if self._spill is None:
            found = [(row.key, {**row.values, **extra}) for row in self._rows if row.recorded]
            if found:
                yield found
            return
        self._flush()
        dropped = self.dropped
        names = self._names
        loads = pickle.loads
        all_names = (*(names or ()), *extra)
        more = tuple(extra.values())
        for n, start in enumerate(range(0, self._stored, _SPILL_CHUNK), start=1):
            found = []
            for line, blob in self._spill.execute(
                "SELECT line, row FROM rows WHERE seq >= ? AND seq < ? AND recorded = 1"
                " ORDER BY seq",
                (start, start + _SPILL_CHUNK),
            ):
                if line in dropped:
                    continue
                fields = loads(blob)
                values = fields[2]
                if type(values) is tuple:
                    if fields[10]:
                        values = _dates_back(values, fields[10])
                    values = dict(zip(all_names, values + more))  # noqa: B905
                else:
                    values = {**values, **extra}
                found.append((fields[1], values))
            if found:
                yield found
            del found
            if n % _COLLECTED_EVERY == 0:
                # Writing new records makes few cycles (no statements built per chunk).
                _collect_cycles()

    def recorded_keys(self) -> Iterator[list[tuple[Any, ...]]]:
        """The keys of the records written as records of their own (``Row.recorded``), in
        file order, in chunks: what ``chunks`` gives, without reading the records back."""
        if self._spill is None:
            found = [row.key for row in self._rows if row.recorded]
            if found:
                yield found
            return
        self._flush()
        dropped = self.dropped
        for start in range(0, self._stored, _SPILL_CHUNK):
            found = [
                _key_of_cell(cell)
                for line, cell in self._spill.execute(
                    "SELECT line, key FROM rows WHERE seq >= ? AND seq < ? AND recorded = 1"
                    " ORDER BY seq",
                    (start, start + _SPILL_CHUNK),
                )
                if line not in dropped
            ]
            if found:
                yield found

    def noted(self) -> Iterator[Row]:
        """The records that carry notes, in file order."""
        if self._spill is None:
            yield from (row for row in self._rows if row.notes)
            return
        self._flush()
        for line, blob in self._spill.execute(
            "SELECT line, row FROM rows WHERE noted = 1 ORDER BY seq"
        ):
            if line not in self.dropped:
                yield self._decoded(blob)

    def raw(self, lines: Iterable[int]) -> dict[int, tuple[str, ...]]:
        """The values as read of these accepted lines."""
        if self._spill is None:
            return {line: self._raw[line] for line in lines if line in self._raw}
        found = {}
        for line in lines:
            got = self._spill.execute("SELECT cells FROM raw WHERE line = ?", (line,)).fetchone()
            if got is not None:
                found[line] = _cells_of_blob(got[0])
        return found

    def _encoded(self, row: Row) -> bytes:
        """A record for the temporary file: its fields as a plain tuple, its values without
        their names when it has the usual ones. Pickling the ``Row`` itself took twice as long
        each way (the class and every field name go with each record), and a large import
        writes each record once and reads it back twice."""
        values: Any = row.values
        names = tuple(values)
        if self._names is None:
            self._names = names
        dated: tuple[int, ...] = ()
        if names == self._names:
            values = tuple(values.values())
            # Dates as their day numbers (and where they were): pickle makes and reads a
            # date through Python calls, a record with one date took 4.5 µs to write and
            # 1.5 µs to read back against 0.7 and 0.75 µs with a number in its place.
            dated = tuple(i for i, value in enumerate(values) if type(value) is date)
            if dated:
                values = _dates_out(values, dated)
        fields = (
            row.line, row.key, values, row.extra or None, row.delete, row.replaces, row.copies,
            row.generated, row.merged_into is not None, row.notes or None, dated,
        )  # fmt: skip
        return pickle.dumps(fields, pickle.HIGHEST_PROTOCOL)

    def _decoded(self, blob: bytes) -> Row:
        """The record ``_encoded`` wrote. A record merged into another (``Row.merged_into``)
        comes back merged into ``MERGED_ELSEWHERE``: once the checks across rows are done, only
        whether it was merged counts (``Row.recorded``)."""
        (line, key, values, extra, delete, replaces, copies, generated, merged, notes, dated) = (
            pickle.loads(blob)
        )
        if type(values) is tuple:
            assert self._names is not None
            if dated:
                values = _dates_back(values, dated)
            values = dict(zip(self._names, values))  # noqa: B905
        row = _bare_row(Row)
        # The fields set directly: the dataclass's ``__init__`` (with its default factories)
        # took a third of reading a record back.
        row.__dict__ = {
            "line": line, "key": key, "values": values, "extra": {} if extra is None else extra,
            "delete": delete, "replaces": replaces, "copies": copies, "generated": generated,
            "merged_into": MERGED_ELSEWHERE if merged else None,
            "notes": [] if notes is None else notes,
        }  # fmt: skip
        return row

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()
            self._spill = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None


# What a record read back from the temporary file was merged into (``Accepted._decoded``).
MERGED_ELSEWHERE = Row(0, (), {})
_bare_row = object.__new__


def _key_cell(key: tuple[Any, ...]) -> str | bytes:
    """A record's key in the temporary file: the id itself when the key is one text (time
    entries, outreach attempts, members), else pickled."""
    if len(key) == 1 and type(key[0]) is str:
        return key[0]
    return pickle.dumps(key, pickle.HIGHEST_PROTOCOL)


def _key_of_cell(cell: str | bytes) -> tuple[Any, ...]:
    return (cell,) if isinstance(cell, str) else cast(tuple[Any, ...], pickle.loads(cell))


def _dates_out(values: tuple[Any, ...], dated: tuple[int, ...]) -> tuple[Any, ...]:
    """A record's values with the dates at ``dated`` (exactly ``date``, not ``datetime``) as
    their day numbers (``Accepted._encoded``)."""
    out = list(values)
    for i in dated:
        out[i] = out[i].toordinal()
    return tuple(out)


def _dates_back(values: tuple[Any, ...], dated: tuple[int, ...]) -> tuple[Any, ...]:
    """The values ``_dates_out`` made, with their dates again."""
    back = list(values)
    for i in dated:
        back[i] = date.fromordinal(back[i])
    return tuple(back)


def _cells_blob(values: tuple[str, ...]) -> bytes:
    """A line's values as read, for the temporary file: ``marshal`` (texts only, several times
    faster than pickle), pickle behind a marker byte for anything else."""
    try:
        return b"m" + marshal.dumps(values)
    except ValueError:
        return b"p" + pickle.dumps(values, pickle.HIGHEST_PROTOCOL)


def _cells_of_blob(blob: bytes) -> tuple[str, ...]:
    if blob[:1] == b"m":
        return cast(tuple[str, ...], marshal.loads(blob[1:]))
    return cast(tuple[str, ...], pickle.loads(blob[1:]))


def _collect_cycles() -> None:
    """Frees what the last part's checks or writes left in reference cycles. The collector is
    off during an import (``service._without_gc_pauses``), and SQLAlchemy's statements are
    cycles: each one looking up stored records kept its keys (the part's ids) to the end, 130
    MiB of a 1,000,000-row import. Only the young generations are walked: the objects made
    since the last part, not everything the import holds."""
    gc.collect(1)


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
    write: Callable[[Session, Accepted, int | None], int | Counts]
    check: Callable[[Session, list[Row]], list[tuple[Row, RowReject]]] = lambda _s, _r: []
    # The value the checks across rows compare rows within (staff member, member): rows of
    # different groups never affect each other's checks, so a large file is checked a few
    # groups at a time. None: the checks compare no rows.
    group: Callable[[Row], Any] | None = None
    # The rejects file repeats the file's own column titles, not the fields they hold.
    titles_in_rejects: bool = False
    # The row as the n-th record of its kind (n > 1): a row with a count, or a repeat of an
    # identical row when rows are distinct; None when the row cannot be repeated (it has an id).
    again: Callable[[Row, int], Row | None] | None = None
    distinct_rows: bool = False
    # Why the file must be imported whole or not at all (--replace-period), if it must.
    complete_only: str | None = None
    # How to read rows a batch at a time, given what is stored; None: one at a time.
    batch: Callable[[Session], BatchReading] | None = None


def _text(key: Any) -> str:
    """A key as text for the temporary file (the keys of one file are all of one shape)."""
    return key if isinstance(key, str) else repr(key)


def import_table(
    engine: Engine, path: Path, importer: Importer, *, actor: str, progress: Progress | None
) -> ImportResult:
    """Rows are read from the file one at a time, checked, and kept (``Accepted``) until the
    checks across rows have run; then written in chunks, in one transaction. Nothing but the
    accepted records (on disk for a large file), the keys seen and the refused rows is kept for
    the whole file."""
    result = ImportResult(kind=importer.kind, file=path)
    try:
        table = open_table(path)
    except FileProblem as problem:
        result.file_problem = str(problem)
        return result
    accepted = Accepted(importer.group)
    refused: dict[int, tuple[str, ...]] = {}
    try:
        try:
            header = importer.fields_of(RawTable(table.header, ()))
        except FileProblem:
            # A problem further down the file is named first, as when files were read whole.
            for _ in table.rows:
                pass
            raise
        with unit_of_work(engine) as session:
            read = importer.reader(session)
            batch = importer.batch(session) if importer.batch is not None else None
            _read_rows(importer, read, batch, header, table, result, progress, accepted, refused)
            for part in accepted.partitions():
                for row, reject in importer.check(session, part):
                    if row.line in accepted.dropped:
                        # A row with a count is several records: the line is refused once,
                        # for the first of them refused (it was counted twice, and listed
                        # twice in the rejects file).
                        continue
                    result.rejections.append(Rejection(row.line, reject.column, reject.reason))
                    accepted.drop(row.line)
                accepted.save_checked()
            result.accepted = accepted.lines - len(accepted.dropped)
            if importer.complete_only and result.rejections:
                result.incomplete = importer.complete_only
            else:
                file = records.BatchFile(
                    importer.kind, path.name, _digest(path), actor, result.rows_read,
                    result.accepted,
                )  # fmt: skip
                result.changed = in_batch(
                    session,
                    file,
                    lambda batch_id: _write(importer, result, session, accepted, batch_id),
                )
                result.notes = [
                    Rejection(row.line, None, note)
                    for row in accepted.noted()
                    for note in row.notes
                ]
        result.rejections.sort(key=lambda r: r.line)
        result.notes.sort(key=lambda r: r.line)
        assert result.accepted + result.rejected == result.rows_read
        if result.rejections:
            refused.update(accepted.raw({r.line for r in result.rejections} - refused.keys()))
            titles = tuple(table.header) if importer.titles_in_rejects else header
            result.rejects_file = write_rejects(path, titles, refused, result.rejections)
        else:
            # A rejects file left by an earlier import of this file would now be wrong.
            rejects_path(path).unlink(missing_ok=True)
    except FileProblem as problem:
        return ImportResult(kind=importer.kind, file=path, file_problem=str(problem))
    finally:
        table.close()
        accepted.close()
    return result


def _digest(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _write(
    importer: Importer, result: ImportResult, session: Session, rows: Accepted, batch_id: int
) -> int:
    written = importer.write(session, rows, batch_id)
    if isinstance(written, Counts):
        result.counts = written
        return written.changed
    return written


def in_batch(session: Session, file: records.BatchFile, write: Callable[[int], int]) -> int:
    """Record the batch of one file, write its rows with ``write(batch_id)`` and keep how
    many rows that added or changed; returns that number."""
    batch = records.add_batch(session, file)
    batch.changed = write(batch.id)
    return batch.changed


def _read_rows(
    importer: Importer,
    read: RowReader,
    batch: BatchReading | None,
    header: tuple[str, ...],
    table: StreamedTable,
    result: ImportResult,
    progress: Progress | None,
    accepted: Accepted,
    refused: dict[int, tuple[str, ...]],
) -> None:
    """Reads, checks and keeps the file's rows, a batch at a time (``READ_TOGETHER``) when the
    importer reads batches, one at a time otherwise. For the whole file only the
    keys seen are kept (with where their first record is, and how many records rows of that
    key stood for), in the temporary file once the records are."""
    total = table.expected
    done = 0

    def refuse(line: int, values: tuple[str, ...], column: str | None, reason: str) -> None:
        result.rejections.append(Rejection(line, column, reason))
        refused[line] = values

    rows = iter(table.rows)
    while raws := list(itertools.islice(rows, READ_TOGETHER)):
        checked: list[dict[str, Any] | None] = [None] * len(raws)
        if batch is not None:
            fitting = [index for index, raw in enumerate(raws) if len(raw.values) == len(header)]
            found = batch.check(header, [raws[index].values for index in fitting])
            for index, given in zip(fitting, found, strict=True):
                checked[index] = given
        # The batch's rows read, then kept or refused as repeats in file order, their keys
        # looked up together.
        read_rows: list[tuple[RawRow, Cells, Row]] = []
        for raw, given in zip(raws, checked, strict=True):
            done += 1
            if progress and done % 1000 == 0:
                progress(done, max(total, done))
            parsed = _read_one(read, batch, header, raw, given, refuse)
            if parsed is not None:
                read_rows.append((raw, *parsed))
        accepted.look_up(_key(row) for _, _, row in read_rows)
        for raw, cells, row in read_rows:
            _keep(importer, raw, cells, row, accepted, refuse)
    result.rows_read = done
    if progress:
        progress(done, done)


def _read_one(
    read: RowReader,
    batch: BatchReading | None,
    header: tuple[str, ...],
    raw: RawRow,
    given: dict[str, Any] | None,
    refuse: Callable[[int, tuple[str, ...], str | None, str], None],
) -> tuple[Cells, Row] | None:
    """One row read (by its batch's values when it kept every rule there), or refused."""
    if problem := width_problem(header, raw):
        refuse(raw.line, raw.values, None, problem)
        return None
    cells = dict(zip(header, raw.values, strict=True))
    try:
        row = read(cells) if given is None or batch is None else batch.read(cells, given)
    except RowReject as reject:
        refuse(raw.line, raw.values, reject.column, reject.reason)
        return None
    row.line = raw.line
    return cells, row


def _key(row: Row) -> Any:
    return row.key[0] if len(row.key) == 1 else row.key


def _keep(
    importer: Importer,
    raw: RawRow,
    cells: Cells,
    row: Row,
    accepted: Accepted,
    refuse: Callable[[int, tuple[str, ...], str | None, str], None],
) -> None:
    """A row read is kept unless it repeats an earlier row's key (in file order)."""
    key = _key(row)
    known = accepted.seen(key)
    earlier = None if known is None else accepted.record(known[0])
    seen = 0 if known is None else known[1]
    found = _records_of(importer, row, earlier, seen)
    if found is None:
        assert earlier is not None
        what = "duplicate of" if earlier.values == row.values else "conflicts with"
        column, hint = importer.repeated(cells)
        refuse(raw.line, raw.values, column, f"{what} line {earlier.line}{hint}")
        return
    accepted.see(key, accepted.count if known is None else known[0], seen + row.copies)
    accepted.add(found, raw.values)


def _records_of(importer: Importer, row: Row, earlier: Row | None, seen: int) -> list[Row] | None:
    """The records a row stands for, or None when it repeats an earlier row it cannot be told
    apart from. A row read first is occurrence 1 of its kind, and a count of 3 makes it
    occurrences 1 to 3; with distinct rows, an identical row read after it stands for the
    next occurrences (4 on). An occurrence after the first gets an id of its own."""
    if earlier is not None and not (importer.distinct_rows and earlier.values == row.values):
        return None
    wanted = range(seen + 1, seen + row.copies + 1)
    if seen == 0:
        return [row, *_again(importer, row, wanted[1:])]
    found = _again(importer, row, wanted)
    return found if len(found) == len(wanted) else None


def _again(importer: Importer, row: Row, occurrences: range) -> list[Row]:
    if importer.again is None:
        return []
    found = [importer.again(row, n) for n in occurrences]
    return [copy for copy in found if copy is not None]


def rejects_path(source: Path) -> Path:
    return source.with_name(f"{source.stem}.rejects.csv")


def write_rejects(
    source: Path,
    header: tuple[str, ...],
    values: Mapping[int, tuple[str, ...]],
    rejections: list[Rejection],
) -> Path:
    """``name.rejects.csv`` beside the input: the original row (``values`` by line), its line,
    column and reason. Written to a temporary file and renamed, so a reader never sees half a
    file, and formula-safe: a row's ``=HYPERLINK(...)`` is copied as text
    (``ecmbill.store.files``)."""
    target = rejects_path(source)
    rows: Iterable[list[Cell]] = (
        [rejection.line, rejection.column or "", rejection.reason, *values.get(rejection.line, ())]
        for rejection in rejections
    )
    write_table(target, ["line", "column", "reason", *header], rows, kind="csv")
    return target
