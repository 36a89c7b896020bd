"""Connecting to the database and bringing its schema up to date."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "DEFAULT_URL",
    "Engine",
    "StoreUnavailable",
    "alembic_config",
    "database_url",
    "make_engine",
    "migrate",
    "open_store",
    "serialise",
    "session_factory",
    "unit_of_work",
]

DEFAULT_URL = "sqlite:///ecmbill.db"
MIGRATIONS = Path(__file__).with_name("migrations")


def database_url() -> str:
    return os.environ.get("ECMBILL_DATABASE_URL") or DEFAULT_URL


def make_engine(url: str | None = None) -> Engine:
    # hide_parameters keeps member identifiers and names out of error messages and logs.
    engine = create_engine(url or database_url(), hide_parameters=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "handle_error", _without_row_values)
    return engine


def _without_row_values(context: ExceptionContext) -> None:
    """PostgreSQL's error DETAIL repeats the offending values ("Key (member_id)=(...) already
    exists"); they may be PHI, and hide_parameters does not cover them. Keep the primary
    message, which names the constraint, and drop the detail."""
    original = context.original_exception
    diag = getattr(original, "diag", None)
    if diag is None or not diag.message_detail:
        return
    original.args = (diag.message_primary or type(original).__name__,)
    wrapped = context.sqlalchemy_exception
    if wrapped is not None:
        # SQLAlchemy copied the driver's text into its own message when it wrapped it.
        kind = f"{type(original).__module__}.{type(original).__name__}"
        wrapped.args = (f"({kind}) {original.args[0]}",)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent).

    On SQLite, foreign keys are off while the migrations run: a migration that changes a table
    other tables point at (0019 adds ``claims.plan``) rebuilds it, and SQLite refuses to drop
    the old table while claim lines refer to it. The references are checked before the
    migrations commit; the pragma can only change outside a transaction."""
    config = alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, "heads")
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise RuntimeError("the migrations left rows pointing at missing rows")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


class StoreUnavailable(Exception):
    """The database cannot be opened: a bad URL, a missing folder, a server that is down."""


def open_store(url: str | None = None) -> Engine:
    """The database, migrated to the newest schema."""
    try:
        engine = make_engine(url)
        migrate(engine)
    except (OperationalError, ArgumentError) as err:
        reason = getattr(err, "orig", None) or err
        raise StoreUnavailable(f"cannot open the database: {reason}".splitlines()[0]) from err
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends normally, rolled back on any error."""
    with session_factory(engine)() as session, session.begin():
        yield session


def serialise(session: Session, name: str) -> None:
    """Make concurrent transactions that call this with the same name run one after another,
    from here to their commit, so what one reads next is what the other wrote.

    PostgreSQL: a transaction-scoped advisory lock. SQLite allows one writer at a time; a write
    (that changes nothing) takes the write lock now instead of at the first real write.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})
    else:
        session.execute(text("UPDATE settings SET value = value WHERE 1 = 0"))
