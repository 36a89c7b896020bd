"""Rows written straight into the tables, in batches. ``bulk_insert``: set-up at plan scale for
tests and benchmarks that are not about importing (no checks and no audit records: this is not
billing work, and it must not pass for it). ``insert_rows``: the fast write of rows the
importers and the close have already checked and audit."""

from __future__ import annotations

import itertools
import logging
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Integer, Table, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ecmbill.store import models
from ecmbill.store.db import Engine

BATCH = 5000

# The pages SQLite keeps in memory while a large write goes on (KiB): with its default 2 MiB,
# the table's indexes and the audit log's outgrow the cache within the first few thousand
# rows, and every batch then writes pages out and reads them back (1,000,000 time entries with
# their audit records: 13.3 to 14.0 s of CPU against 11.1 with 32 MiB, the same with 64).
WRITE_CACHE_KIB = 32 * 1024


@contextmanager
def larger_page_cache(session: Session) -> Iterator[None]:
    """SQLite keeps up to ``WRITE_CACHE_KIB`` of pages in memory on the session's connection
    while inside, and what it kept before afterwards (the connection goes back to the pool).
    Nothing on PostgreSQL."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    (before,) = driver.execute("PRAGMA cache_size").fetchone()
    driver.execute(f"PRAGMA cache_size = -{WRITE_CACHE_KIB}")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA cache_size = {int(before)}")


def bulk_insert(engine: Engine, rows: Mapping[str, Sequence[dict[str, Any]]]) -> None:
    """Insert each table's rows (tables in the order given, so foreign keys hold), all in one
    transaction."""
    with engine.begin() as conn:
        for table, table_rows in rows.items():
            target = models.Base.metadata.tables[table]
            for start in range(0, len(table_rows), BATCH):
                conn.execute(insert(target), list(table_rows[start : start + BATCH]))


def insert_rows(
    session: Session,
    table: Table,
    rows: Iterable[Mapping[str, Any]] | Iterable[Sequence[Any]],
    *,
    columns: Sequence[str] | None = None,
) -> int:
    """Insert ``rows`` (each naming the same columns) into ``table`` on the session's own
    connection, in its transaction, by the driver's fastest path: PostgreSQL ``COPY``, SQLite
    ``executemany`` of one prepared statement. Values are converted by the column types exactly
    as a SQLAlchemy insert converts them, without its per-row bookkeeping (a fifth of a large
    import's time). With ``columns``, each row is a tuple of those columns' values, in that
    order (no dict made per row only to be taken apart again). Returns how many rows were
    written."""
    iterator: Iterator[Any] = iter(rows)
    first = next(iterator, None)
    if first is None:
        return 0
    positional = columns is not None
    columns = list(first) if columns is None else list(columns)
    session.flush()  # rows the ORM holds (the batch record) go first: ours may refer to them
    connection = session.connection()
    dialect = connection.dialect
    convert = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
    driver = connection.connection.driver_connection
    assert driver is not None

    take: Callable[[Any], tuple[Any, ...]]
    if positional:
        take = tuple
    elif len(columns) > 1:
        take = operator.itemgetter(*columns)
    else:
        take = lambda row: (row[columns[0]],)  # noqa: E731
    # Only the columns whose type converts a value (dates and times on SQLite) are touched,
    # a batch at a time, column by column, and a date or time is converted once per batch: a
    # file's rows share a few dozen dates, and every audit record of an import the same time
    # (the conversion was a tenth of the write, then a Python call per row).
    converted = [(index, fix) for index, fix in enumerate(convert) if fix is not None]

    def batch_of(rows: Iterable[Any]) -> list[tuple[Any, ...]]:
        found = list(map(take, rows))
        if not converted or not found:
            return found
        columns: list[Sequence[Any]] = list(zip(*found, strict=True))
        for index, fix in converted:
            column = columns[index]
            if set(map(type, column)) <= _MEMO_TYPES:
                # No value of these types equals one of another (a date never a datetime).
                made = {value: None if value is None else fix(value) for value in set(column)}
                columns[index] = list(map(made.__getitem__, column))
            else:
                columns[index] = [None if value is None else fix(value) for value in column]
        return list(zip(*columns, strict=True))

    written = 0
    names = ", ".join(dialect.identifier_preparer.quote(name) for name in columns)
    target = dialect.identifier_preparer.format_table(table)
    try:
        if dialect.name == "postgresql":
            with (
                driver.cursor() as cursor,
                cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy,
            ):
                pending = itertools.chain((first,), iterator)
                while batch := batch_of(itertools.islice(pending, BATCH)):
                    for row in batch:
                        copy.write_row(row)
                    written += len(batch)
        else:
            marks = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {target} ({names}) VALUES ({marks})"
            cursor = driver.cursor()
            try:
                pending = itertools.chain((first,), iterator)
                while batch := batch_of(itertools.islice(pending, BATCH)):
                    cursor.executemany(sql, batch)
                    written += len(batch)
            finally:
                cursor.close()
    except dialect.loaded_dbapi.Error as err:
        raise _without_values(err, f"INSERT INTO {target}", dialect) from None
    if _SQL_LOG.isEnabledFor(logging.INFO):
        # Logged like SQLAlchemy's own statements when SQL logging is on, never with values.
        how = "COPY" if dialect.name == "postgresql" else "executemany"
        _SQL_LOG.info("INSERT INTO %s (%s): %d rows by %s", target, names, written, how)
    return written


_SQL_LOG = logging.getLogger("sqlalchemy.engine.Engine")
# The columns whose values are converted once per distinct value (exactly these types: a
# date never stands for a datetime, nor a number for another of equal value).
_MEMO_TYPES = frozenset({date, datetime, type(None)})


def _without_values(err: Exception, statement: str, dialect: Any) -> Exception:
    """The driver's error as SQLAlchemy raises it (``IntegrityError``, ...), without the row
    values PostgreSQL repeats in its detail and COPY context: they may be PHI."""
    diag = getattr(err, "diag", None)
    if diag is not None:
        err.args = (diag.message_primary or type(err).__name__,)
    return DBAPIError.instance(
        statement, None, err, dialect.loaded_dbapi.Error, hide_parameters=True, dialect=dialect
    )


def read_columns(
    engine: Engine,
    columns: Mapping[str, Sequence[str]],
    *,
    about: tuple[date, date] | None = None,
) -> dict[str, Any]:
    """Each table's columns named, as Arrow tables typed as the models declare them (dates as
    dates, flags as booleans): for rating a SQLite store in DuckDB, which joins on date ranges
    far faster than SQLite. Read with the driver's cursor, one table at a time.

    Every row; or, with ``about`` (first, last day), only the rows that can bear on those days
    (``rows_about``), filtered by the database: a store holding a year read a year of entries
    to rate one month."""
    import pyarrow as pa

    arrow_type = {Date: pa.date32(), Boolean: pa.bool_(), Integer: pa.int64()}
    found: dict[str, Any] = {}
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for name, wanted in columns.items():
            table = models.Base.metadata.tables[name]
            quoted = ", ".join(f'"{column}"' for column in wanted)
            where, given = rows_about(engine, name, *about) if about else ("", [])
            statement = f'SELECT {quoted} FROM "{name}"{where}'
            if given:
                cursor.execute(statement, given)
            else:
                cursor.execute(statement)
            kinds = [
                next(
                    (t for base, t in arrow_type.items() if isinstance(table.c[column].type, base)),
                    pa.string(),
                )
                for column in wanted
            ]
            # Fetched in blocks, so only one block of Python rows is alive at a time.
            blocks: list[list[Any]] = [[] for _ in wanted]
            while rows := cursor.fetchmany(100_000):
                for index, kind in enumerate(kinds):
                    values = pa.array([row[index] for row in rows])
                    if pa.types.is_null(values.type):
                        values = values.cast(pa.string())
                    blocks[index].append(values if values.type == kind else values.cast(kind))
            arrays = [
                pa.chunked_array(block or [pa.array([], kind)], type=kind)
                for block, kind in zip(blocks, kinds, strict=True)
            ]
            found[name] = pa.table(arrays, names=list(wanted))
        cursor.close()
    finally:
        raw.close()
    return found


def rows_about(engine: Engine, table: str, first: date, last: date) -> tuple[str, list[Any]]:
    """The WHERE clause (and its values, in the driver's parameter style) keeping the rows of
    ``table`` that can bear on a day from ``first`` to ``last``:

    - time entries and outreach attempts dated in those days;
    - staff roles, enrollments and plan assignments whose span (an empty end: open; an empty
      start: kept) holds one of those days;
    - eligibility of the calendar months those days fall in (months are stored YYYY-MM);
    - approvals of the time entries dated in those days.

    A row of any other table is kept. A row dropped here cannot match an event dated in those
    days in any of the rating's joins, so the rating reads exactly what it would from every
    row (tests/rating/test_store_read_period.py)."""
    dialect = engine.dialect
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    to_date = Date().dialect_impl(dialect).bind_processor(dialect)

    def day(value: date) -> Any:
        return to_date(value) if to_date is not None else value

    dated = f'"date" >= {mark} AND "date" <= {mark}'
    if table in ("time_entries", "outreach_attempts"):
        return f" WHERE {dated}", [day(first), day(last)]
    spans = {
        "staff_roles": ("effective_from", "effective_to"),
        "enrollments": ("start_date", "end_date"),
        "plan_assignments": ("start_date", "end_date"),
    }
    if table in spans:
        start, end = spans[table]
        return (
            f' WHERE ("{start}" IS NULL OR "{start}" <= {mark})'
            f' AND ("{end}" IS NULL OR "{end}" >= {mark})',
            [day(last), day(first)],
        )
    if table == "eligibility":
        months = []
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            months.append(f"{year:04d}-{month:02d}")
            year, month = year + month // 12, month % 12 + 1
        if not months:
            return "", []
        return f' WHERE "month" IN ({", ".join(mark for _ in months)})', months
    if table == "time_approvals":
        return (
            f' WHERE "entry_id" IN (SELECT "entry_id" FROM "time_entries" WHERE {dated})',
            [day(first), day(last)],
        )
    return "", []
