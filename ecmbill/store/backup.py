"""Backing the database up to one file and restoring it: SQLite through its online backup API
(a consistent copy while the app runs), PostgreSQL through ``pg_dump``/``pg_restore`` (custom
format). The file says which it is by its first bytes; a backup restores only into the same
kind of database.

A restore refuses a database that holds data unless forced: an overwritten database cannot be
got back. The command (``ecmbill.cli.backup``) checks that the restored database rates as the
original did.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import URL, Engine, func, inspect, make_url, select, table

from ecmbill.store import models
from ecmbill.store.db import make_engine, unit_of_work
from ecmbill.store.files import write_atomically

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"
# Tables a new database already has rows in (the migrations' own), not data someone entered.
_SEEDED = frozenset({"alembic_version", "control_counters"})


class BackupError(Exception):
    """A backup or restore cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Done:
    kind: str  # "sqlite" or "postgresql"
    file: Path


def backup(engine: Engine, out: Path) -> Done:
    """Write the whole database to ``out`` (replaced only once the copy is complete)."""
    dialect = engine.dialect.name
    if dialect == "sqlite":
        raw = engine.raw_connection()
        try:
            source = raw.driver_connection
            assert isinstance(source, sqlite3.Connection)

            def copy(path: Path) -> None:
                target = sqlite3.connect(path)
                try:
                    source.backup(target)
                finally:
                    target.close()

            write_atomically(out, copy)
        finally:
            raw.close()
        return Done("sqlite", out)
    if dialect == "postgresql":
        pg_dump = _tool("pg_dump")
        write_atomically(
            out,
            lambda path: _run(
                [pg_dump, "--format=custom", "--no-owner", "--file", str(path)], engine.url
            ),
        )
        return Done("postgresql", out)
    raise BackupError(f"cannot back up a {dialect} database")


def kind_of(file: Path) -> str:
    """Which database a backup file is of, by its first bytes."""
    with file.open("rb") as handle:
        head = handle.read(len(SQLITE_HEADER))
    if head == SQLITE_HEADER:
        return "sqlite"
    if head.startswith(PG_DUMP_HEADER):
        return "postgresql"
    raise BackupError(f"{file.name} is not an ecmbill backup (neither SQLite nor pg_dump)")


def holds_data(url: str) -> bool:
    """Whether the database at ``url`` has rows anyone entered (a missing SQLite file, or a
    database with only its schema, does not)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").exists():
        return False
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            names = set(inspect(connection).get_table_names()) - _SEEDED
            return any(
                connection.execute(select(func.count()).select_from(table(name))).scalar()
                for name in sorted(names)
            )
    finally:
        engine.dispose()


def restore(file: Path, url: str, *, force: bool = False) -> Done:
    """Replace the database at ``url`` with the backup ``file``. Refused when the database
    holds data, unless ``force``; refused across kinds (a SQLite file into PostgreSQL)."""
    kind = kind_of(file)
    parsed = make_url(url)
    target = parsed.get_backend_name()
    if target != kind:
        raise BackupError(f"{file.name} is a {kind} backup: restore it into a {kind} database")
    if not force and holds_data(url):
        raise BackupError(
            "the database already holds data: restore into a new, empty database, or give "
            "--force to replace everything in it"
        )
    if kind == "sqlite":
        source = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        try:
            destination = sqlite3.connect(parsed.database or "")
            try:
                source.backup(destination)
            finally:
                destination.close()
        finally:
            source.close()
    else:
        pg_restore = _tool("pg_restore")
        _run(
            [pg_restore, "--clean", "--if-exists", "--no-owner", "--exit-on-error",
             "--single-transaction", str(file)],
            parsed,
        )  # fmt: skip
    return Done(kind, file)


def latest_work_day(engine: Engine) -> date | None:
    """The day of the newest time entry: its month is the period a restore check rates."""
    with unit_of_work(engine) as session:
        return session.scalar(select(func.max(models.TimeEntry.date)))


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL client tools "
            "(e.g. apt-get install postgresql-client) of the server's version"
        )
    return found


def _run(command: list[str], url: URL) -> None:
    """Run a PostgreSQL client tool against ``url``; the password goes through the
    environment, never the command line (which other users of the machine can read)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    host = url.host or url.query.get("host")
    for variable, value in (("PGHOST", host), ("PGPORT", url.port), ("PGUSER", url.username)):
        if value:
            env[variable] = str(value)
    result = subprocess.run(
        [*command, f"--dbname={url.database or ''}"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        tool = Path(command[0]).name
        reason = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"{tool} failed: {reason}")
