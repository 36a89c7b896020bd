"""Shared fixtures: a real, migrated database per test, on SQLite and on PostgreSQL.

PostgreSQL is a real server: started once per test session with Debian's pg_ctl into a
temporary folder (see ``tests/postgres.py``).

Two kinds of database fixture:
- ``databases`` / ``store_engine`` give the test session's database, chosen by
  ``ECMBILL_TEST_DATABASE=sqlite`` (the default) or ``postgresql``; CI runs the suite once
  with each, so every store-backed test runs on both.
- ``engine`` is parametrized by database, so a test's id names it (``[sqlite]``,
  ``[postgresql]``); each pass keeps the half of its own database (the other is deselected).

Every test gets a new database: a copy of one migrated once per session (migrations are
tested from empty databases in tests/store); PostgreSQL's are dropped when the test ends.

Without PostgreSQL installed, the few SQLite-pass tests that start it are skipped locally;
under CI (CI=true) or ECMBILL_TEST_DATABASE=postgresql a missing server is a failure.
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test on ``engine`` runs on the pass's own database only. CI's two passes already run
    it once on each; running both halves in both passes ran every such test twice on each
    database (about 250 tests, several minutes of each pass) for no more coverage."""
    kept, other = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        database = callspec.params.get("engine") if callspec is not None else None
        (other if database not in (None, TEST_DATABASE) else kept).append(item)
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = kept


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


class MigratedTemplates:
    """One database per kind migrated once per test session; a test's fresh database is a
    copy of it. Migrating a new database costs 0.2 s on SQLite and 0.5 s on PostgreSQL, a
    copy 0.02 s and 0.13 s; over a thousand store-backed tests that is minutes of CI. The
    migrations themselves are tested from empty databases (``Databases.new_url``,
    tests/store)."""

    def __init__(self, folders: pytest.TempPathFactory) -> None:
        self._folders = folders
        self._sqlite: Path | None = None
        self._postgresql: str | None = None

    def sqlite_copy(self, path: Path) -> str:
        if self._sqlite is None:
            self._sqlite = self._folders.mktemp("template") / "ecmbill.db"
            open_store(f"sqlite:///{self._sqlite}").dispose()
        shutil.copyfile(self._sqlite, path)
        return f"sqlite:///{path}"

    def postgresql_copy(self, server: PostgresServer) -> str:
        if self._postgresql is None:
            url = server.new_database()
            open_store(url).dispose()  # PostgreSQL copies only a template nobody is connected to
            self._postgresql = make_url(url).database
        return server.new_database(template=self._postgresql)


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> MigratedTemplates:
    return MigratedTemplates(tmp_path_factory)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_templates: MigratedTemplates
) -> Iterator[Engine]:
    """A fresh, migrated database: a SQLite file, or a new PostgreSQL database."""
    server: PostgresServer | None = None
    if request.param == "sqlite":
        url = migrated_templates.sqlite_copy(tmp_path / "ecmbill.db")
    else:
        server = request.getfixturevalue("postgres_server")
        url = migrated_templates.postgresql_copy(server)
    store = open_store(url)
    yield store
    store.dispose()
    if server is not None:
        server.drop_database(url)


class Databases:
    """Fresh databases of the kind this test session runs on (ECMBILL_TEST_DATABASE)."""

    def __init__(
        self,
        folders: pytest.TempPathFactory,
        server: PostgresServer | None,
        templates: MigratedTemplates,
    ) -> None:
        self._folders = folders
        self._server = server
        self._templates = templates

    def new_url(self) -> str:
        """The URL of a new, empty database (not migrated: ``open_store`` migrates)."""
        if self._server is not None:
            return self._server.new_database()
        return f"sqlite:///{self._folders.mktemp('db') / 'ecmbill.db'}"

    def migrated_url(self) -> str:
        """The URL of a new database already at the newest schema, with no data."""
        if self._server is not None:
            return self._templates.postgresql_copy(self._server)
        return self._templates.sqlite_copy(self._folders.mktemp("db") / "ecmbill.db")

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

    def drop(self, url: str) -> None:
        """Drop a database a test is done with (PostgreSQL; SQLite files go with pytest's
        temporary folders)."""
        if self._server is not None:
            self._server.drop_database(url)


@pytest.fixture(scope="session")
def databases(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    migrated_templates: MigratedTemplates,
) -> Databases:
    server = request.getfixturevalue("postgres_server") if TEST_DATABASE == "postgresql" else None
    return Databases(tmp_path_factory, server, migrated_templates)


@pytest.fixture
def store_engine(databases: Databases) -> Iterator[Engine]:
    """A fresh, migrated database of the test session's default kind (ECMBILL_TEST_DATABASE),
    for tests whose behaviour does not depend on the database."""
    url = databases.migrated_url()
    store = open_store(url)
    yield store
    store.dispose()
    databases.drop(url)


@pytest.fixture
def contract() -> Contract:
    return default_contract()
