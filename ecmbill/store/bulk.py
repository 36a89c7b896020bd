"""Rows written straight into the tables, in batches: set-up at plan scale for tests and
benchmarks that are not about importing. No checks and no audit records: this is not billing
work, and it must not pass for it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert

from ecmbill.store import models
from ecmbill.store.db import Engine

BATCH = 5000


def bulk_insert(engine: Engine, rows: Mapping[str, Sequence[dict[str, Any]]]) -> None:
    """Insert each table's rows (tables in the order given, so foreign keys hold), all in one
    transaction."""
    with engine.begin() as conn:
        for table, table_rows in rows.items():
            target = models.Base.metadata.tables[table]
            for start in range(0, len(table_rows), BATCH):
                conn.execute(insert(target), list(table_rows[start : start + BATCH]))
