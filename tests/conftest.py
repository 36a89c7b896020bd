"""Shared fixtures: a real, migrated database per test, on SQLite and on PostgreSQL.

PostgreSQL is a real server: started once per test session with Debian's pg_ctl into a
temporary folder (see ``tests/postgres.py``).

Two kinds of database fixture:
- ``engine`` is parametrized: every test using it runs on SQLite AND on PostgreSQL.
- ``databases`` / ``store_engine`` give the test session's default database, chosen by
  ``ECMBILL_TEST_DATABASE=sqlite`` (the default) or ``postgresql``; CI runs the suite once
  with each, so every store-backed test runs on both.

Without PostgreSQL installed, the PostgreSQL half of ``engine`` is skipped locally; under CI
(CI=true) or ECMBILL_TEST_DATABASE=postgresql a missing server is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url

from ecmbill.contract import Contract, default_contract
from ecmbill.store.db import open_store
from tests.postgres import PostgresServer, find_pg_bin

# Rating tests use dates in October 2026; imports refuse dates in the future, so the tests'
# "today" is fixed after it.
TODAY = date(2026, 11, 25)

TEST_DATABASES = ("sqlite", "postgresql")
TEST_DATABASE = os.environ.get("ECMBILL_TEST_DATABASE", "sqlite")


def pytest_configure(config: pytest.Config) -> None:
    if TEST_DATABASE not in TEST_DATABASES:
        raise pytest.UsageError(
            f"ECMBILL_TEST_DATABASE={TEST_DATABASE!r}: use one of {', '.join(TEST_DATABASES)}"
        )


def pytest_report_header() -> str:
    return f"ecmbill test database: {TEST_DATABASE} (ECMBILL_TEST_DATABASE)"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if find_pg_bin() is None:
        if os.environ.get("CI") or TEST_DATABASE == "postgresql":
            pytest.fail("PostgreSQL is not installed, and this run must test against it")
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


class Databases:
    """Fresh databases of the kind this test session runs on (ECMBILL_TEST_DATABASE)."""

    def __init__(self, folders: pytest.TempPathFactory, server: PostgresServer | None) -> None:
        self._folders = folders
        self._server = server

    def new_url(self) -> str:
        """The URL of a new, empty database (not migrated: ``open_store`` migrates)."""
        if self._server is not None:
            return self._server.new_database()
        return f"sqlite:///{self._folders.mktemp('db') / 'ecmbill.db'}"

    def copy_of(self, url: str) -> str:
        """A new database with the contents of ``url``, which must have no open connections
        (``engine.dispose()`` first): a cheap way to start many tests from one prepared state."""
        if self._server is not None:
            template = make_url(url).database
            assert template is not None
            return self._server.new_database(template=template)
        source = make_url(url).database
        assert source is not None
        copy = self._folders.mktemp("db") / "ecmbill.db"
        shutil.copyfile(source, copy)
        return f"sqlite:///{copy}"


@pytest.fixture(scope="session")
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Databases:
    server = request.getfixturevalue("postgres_server") if TEST_DATABASE == "postgresql" else None
    return Databases(tmp_path_factory, server)


@pytest.fixture
def store_engine(databases: Databases) -> Iterator[Engine]:
    """A fresh, migrated database of the test session's default kind (ECMBILL_TEST_DATABASE),
    for tests whose behaviour does not depend on the database."""
    store = open_store(databases.new_url())
    yield store
    store.dispose()


@pytest.fixture
def contract() -> Contract:
    return default_contract()
