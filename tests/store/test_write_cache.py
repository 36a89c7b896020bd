"""A large write on SQLite keeps more of the database's pages in memory while it goes on
(``bulk.larger_page_cache``, around every ``records.upsert_streamed``), and gives the pooled
connection back with the page cache it had: the rows and audit records written are those of
the write without it (``tests/imports`` and ``test_bulk_new_records.py`` compare them)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from ecmbill.store import bulk, models, records
from ecmbill.store.db import unit_of_work


def _cache_size(session: Any) -> int:
    driver = session.connection().connection.driver_connection
    return int(driver.execute("PRAGMA cache_size").fetchone()[0])


def test_the_write_has_the_larger_cache_and_the_connection_gets_its_own_back(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("a SQLite page cache")
    seen: list[int] = []
    insert_rows = bulk.insert_rows

    def watched(session: Any, *args: Any, **kwargs: Any) -> int:
        seen.append(_cache_size(session))
        return insert_rows(session, *args, **kwargs)

    monkeypatch.setattr(bulk, "insert_rows", watched)
    staff = [
        ((f"S{n}",), {"staff_id": f"S{n}", "name": f"Staff {n}", "npi": None}) for n in range(5)
    ]
    with unit_of_work(engine) as session:
        before = _cache_size(session)
        written = records.upsert(session, models.Staff, ("staff_id",), staff, "test", "staff")
        after = _cache_size(session)
    assert written.added == 5
    assert seen and set(seen) == {-bulk.WRITE_CACHE_KIB}
    assert after == before != -bulk.WRITE_CACHE_KIB
    with unit_of_work(engine) as session:
        assert _cache_size(session) == before
