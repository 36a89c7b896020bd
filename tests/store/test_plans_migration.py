"""A database made before plans (by commit 383c0b0, see tests/store/fixtures/README.md) opened
with today's code: every claim and claim line is kept, as the default plan's, and the month
rates exactly as the old code rated it, each line now saying it is the default plan's."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import MetaData, create_engine, select, text
from typer.testing import CliRunner

from ecmbill.cli import app
from ecmbill.domain.plans import DEFAULT_PLAN
from ecmbill.store.db import Engine, alembic_config, make_engine, open_store
from tests.postgres import PostgresServer

FIXTURES = Path(__file__).parent / "fixtures"
OLD_DATABASE = FIXTURES / "pre_plans.db"


@cache
def expected() -> dict[str, Any]:
    made: dict[str, Any] = json.loads((FIXTURES / "pre_plans_expected.json").read_text())
    return made


def comparable(value: Any) -> Any:
    """One form for a value however the database returns it: SQLite gives text and integers,
    PostgreSQL dates, aware timestamps and decimals."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)).normalize()
    return value


def rows(engine: Engine, table: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        result = conn.execute(text(f"SELECT * FROM {table} ORDER BY id"))
        return [{k: comparable(v) for k, v in row._mapping.items()} for row in result]


def as_stored(made: list[dict[str, Any]], **added: Any) -> list[dict[str, Any]]:
    return [{**{k: comparable(v) for k, v in row.items()}, **added} for row in made]


def copy_rows(source: SqlEngine, target: SqlEngine) -> None:
    """Every row of every table of ``source`` in place of the rows of the same tables of
    ``target`` (one schema revision), parents before children, then each serial counter past
    the copied ids."""
    old = MetaData()
    old.reflect(source)
    new = MetaData()
    new.reflect(target)
    assert set(old.tables) == set(new.tables)
    with source.connect() as read, target.begin() as write:
        # What the migrations seeded (the claim counters at zero) is in the old rows too.
        for table in reversed(new.sorted_tables):
            if table.name != "alembic_version" and write.scalar(select(table).exists().select()):
                write.execute(table.delete())
        for table in new.sorted_tables:
            if table.name == "alembic_version":
                continue
            stored = old.tables[table.name]
            found = [
                dict(r._mapping) for r in read.execute(select(stored).order_by(*stored.primary_key))
            ]
            if found:
                write.execute(table.insert(), found)
            for column in table.primary_key:
                sequence = write.scalar(
                    text("SELECT pg_get_serial_sequence(:t, :c)"),
                    {"t": table.name, "c": column.name},
                )
                if sequence and found:
                    top = f"SELECT max({column.name}) FROM {table.name}"
                    write.execute(text(f"SELECT setval('{sequence}', ({top}))"))


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """The old database opened with today's code: on SQLite a copy of the file; on
    PostgreSQL a database brought to the old revision (0018), filled with the file's rows."""
    if request.param == "sqlite":
        copy = tmp_path / "pre_plans.db"
        shutil.copyfile(OLD_DATABASE, copy)
        url = f"sqlite:///{copy}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.new_database()
        target = make_engine(url)
        config = alembic_config()
        with target.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, expected()["alembic_revision"])
        copy = tmp_path / "pre_plans.db"
        shutil.copyfile(OLD_DATABASE, copy)
        source = create_engine(f"sqlite:///{copy}")
        copy_rows(source, target)
        source.dispose()
        target.dispose()
    engine = open_store(url)
    yield url, engine
    engine.dispose()


def test_a_database_made_before_plans_keeps_every_claim_and_line_as_the_default_plans(
    migrated: tuple[str, Engine],
) -> None:
    # 34 claims of October 2026 (30 originals, 2 re-sent after a 277CA rejection, a
    # replacement and a void) and their 98 lines, as the code before plans wrote them.
    _, engine = migrated
    made = expected()
    assert (len(made["claims"]), len(made["claim_lines"])) == (34, 98)
    assert rows(engine, "claims") == as_stored(made["claims"], plan=DEFAULT_PLAN)
    assert rows(engine, "claim_lines") == as_stored(made["claim_lines"])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT key, position FROM plans")).all() == [(DEFAULT_PLAN, 1)]
        assert conn.scalar(text("SELECT count(*) FROM plan_assignments")) == 0
        eligibility = conn.execute(text("SELECT plan, count(*) FROM eligibility GROUP BY plan"))
        assert eligibility.all() == [(DEFAULT_PLAN, 60)]


def test_a_database_made_before_plans_rates_its_month_as_before_each_line_the_default_plans(
    migrated: tuple[str, Engine],
) -> None:
    url, _ = migrated
    made = expected()
    old = made["rating"]
    # 81 lines of 167 units and 13 entries that do not bill, in October 2026.
    assert (len(old["lines"]), len(old["not_billed"])) == (81, 13)
    assert sum(line["units"] for line in old["lines"]) == 167
    result = CliRunner().invoke(
        app, ["rate", "--period", made["period"], "--json", "--database", url]
    )
    assert result.exit_code == 0, result.output
    now = json.loads(result.stdout)
    assert now == {
        **old,
        "lines": [{**line, "plan": DEFAULT_PLAN} for line in old["lines"]],
    }
