"""The test session's default database is the kind ECMBILL_TEST_DATABASE names: CI relies on
this to run the whole suite on PostgreSQL. (The CLI and web fixtures get theirs from
``databases`` too.)"""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, make_url, select

from ecmbill.store import models
from ecmbill.store.db import alembic_config, open_store, unit_of_work
from tests.conftest import TEST_DATABASE, Databases


def test_store_engine_is_the_selected_database(store_engine: Engine) -> None:
    assert store_engine.dialect.name == TEST_DATABASE


def test_new_databases_and_copies_are_the_selected_kind(databases: Databases) -> None:
    url = databases.new_url()
    assert make_url(url).get_backend_name() == TEST_DATABASE
    original = open_store(url)
    with unit_of_work(original) as session:
        session.add(models.Staff(staff_id="S1", name="Ana"))
    original.dispose()
    copy = open_store(databases.copy_of(url))
    try:
        assert copy.dialect.name == TEST_DATABASE
        assert copy.url != make_url(url)
        with unit_of_work(copy) as session:
            assert session.scalars(select(models.Staff.staff_id)).all() == ["S1"]
    finally:
        copy.dispose()


def test_a_migrated_copy_is_a_fresh_database_at_the_newest_schema(databases: Databases) -> None:
    # Store-backed tests start from a copy of a database migrated once per session; the copy
    # must be what migrating a new database gives: the newest revision, the rows the
    # migrations themselves write, and nothing a test wrote into another copy.
    used = databases.migrated_url()
    engine = open_store(used)
    with unit_of_work(engine) as session:
        session.add(models.Staff(staff_id="S1", name="Ana"))
    engine.dispose()
    copy, fresh = open_store(databases.migrated_url()), open_store(databases.new_url())
    try:
        for engine in (copy, fresh):
            with engine.connect() as connection:
                assert MigrationContext.configure(connection).get_current_heads() == (
                    ScriptDirectory.from_config(alembic_config()).get_current_head(),
                )
        with unit_of_work(copy) as session, unit_of_work(fresh) as fresh_session:
            assert session.scalars(select(models.Staff.staff_id)).all() == []
            for table in models.Base.metadata.sorted_tables:
                assert session.execute(select(func.count()).select_from(table)).scalar() == (
                    fresh_session.execute(select(func.count()).select_from(table)).scalar()
                ), table.name
    finally:
        copy.dispose()
        fresh.dispose()
        databases.drop(used)
