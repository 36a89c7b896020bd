"""The test session's default database is the kind ECMBILL_TEST_DATABASE names: CI relies on
this to run the whole suite on PostgreSQL. (The CLI and web fixtures get theirs from
``databases`` too.)"""

from __future__ import annotations

from sqlalchemy import Engine, make_url, select

from ecmbill.store import models
from ecmbill.store.db import open_store, unit_of_work
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
