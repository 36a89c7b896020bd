"""Shared fixtures: a real, migrated database per test, on SQLite and on PostgreSQL.

PostgreSQL is a real server: started once per test session with Debian's pg_ctl into a
temporary folder (see ``tests/postgres.py``). Without PostgreSQL installed, the PostgreSQL
half is skipped locally, but under CI (CI=true) a missing server is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ecmbill.contract import Contract, default_contract
from ecmbill.services import open_store
from tests.postgres import PostgresServer, find_pg_bin

# Rating tests use dates in October 2026; imports refuse dates in the future, so the tests'
# "today" is fixed after it.
TODAY = date(2026, 11, 25)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if find_pg_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed, and CI must test against it")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, migrated database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ecmbill.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.new_database()
    store = open_store(url)
    yield store
    store.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """For tests about behaviour that does not depend on the database."""
    store = open_store(f"sqlite:///{tmp_path / 'ecmbill.db'}")
    yield store
    store.dispose()


@pytest.fixture
def contract() -> Contract:
    return default_contract()
