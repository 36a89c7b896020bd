"""The fast write path of imports (rows and audit records by ``COPY`` or one prepared
``executemany``, written in chunks) stores exactly what the former path stored: the same
records, the same audit trail in the same order, the same rejects with line, column and reason.
The former path is kept here as the reference: SQLAlchemy inserts of the whole file at once."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Engine, MetaData, Table, insert, select, update
from sqlalchemy.orm import Session

from ecmbill.contract import Contract
from ecmbill.imports import batch
from ecmbill.imports.service import import_file
from ecmbill.store import audit, models, records
from ecmbill.store.db import open_store
from tests.builders import Ledger
from tests.conftest import TODAY
from tests.postgres import PostgresServer

BAD_FILES = Path(__file__).with_name("bad_files")


def reference_upsert(
    session: Session,
    model: type[models.Base],
    key_columns: tuple[str, ...],
    rows: list[records.Record],
    actor: str,
    entity: str,
) -> records.Written:
    """``records.upsert`` as it was before the fast path (verbatim but for names)."""
    written = records.Written()
    table = model.__table__
    first_key = table.c[key_columns[0]]
    existing: dict[tuple[Any, ...], dict[str, Any]] = {}
    keys = [key for key, _ in rows]
    for start in range(0, len(keys), 400):
        chunk = keys[start : start + 400]
        condition = first_key.in_(list(dict.fromkeys(k[0] for k in chunk)))
        for stored in session.execute(select(table).where(condition)).mappings():
            existing[tuple(stored[name] for name in key_columns)] = dict(stored)
    now = audit.now()
    inserts, updates, trail = [], [], []
    compare = [c.name for c in table.columns if c.name not in {"id", "import_batch_id"}]
    primary_key = [c.name for c in model.__mapper__.primary_key]
    visible = records._visible
    for key, values in rows:
        before = existing.get(key)
        entity_key = "/".join("" if part is None else str(part) for part in key)
        if before is None:
            inserts.append(values)
            trail.append(
                audit.audit_row(
                    actor=actor, at=now, action="create", entity=entity, key=entity_key,
                    before=None, after=visible(values),
                )
            )  # fmt: skip
        elif any(before.get(name) != values.get(name) for name in compare if name in values):
            updates.append({**values, **{name: before[name] for name in primary_key}})
            written.updated[key] = visible(before)
            trail.append(
                audit.audit_row(
                    actor=actor, at=now, action="update", entity=entity, key=entity_key,
                    before=visible(before), after=visible(values),
                )
            )  # fmt: skip
    if updates:
        session.execute(update(model), updates)
    named = {name for values in inserts for name in values}
    inserts = [{name: values.get(name) for name in named} for values in inserts]
    for start in range(0, len(inserts), 5000):
        session.execute(insert(cast(Table, table)), inserts[start : start + 5000])
    audit.record(session, trail)
    written.added = len(inserts)
    return written


# Files with good and bad rows, of every kind, imported in this order; then corrections.
FILES = [
    "staff__overlapping_role_periods.csv",
    "members__lowercase_cin.csv",
    "members__formula_in_name.csv",
    "enrollments__overlapping.csv",
    "eligibility__bad_boolean.csv",
    "time__duplicate_rows.csv",
    "time__conflicting_entry_id.csv",
    "time__day_over_24h_across_rows.csv",
    "time__unknown_member.csv",
    "time__bad_rows.xlsx",
    "outreach__bad_method_and_outcome.csv",
]
CHANGES = {
    "time__changes.csv": (
        "entry_id,staff_id,member_id,date,minutes,activity,modality,start_time,end_time,action\n"
        "E-1,C1,10000001A,2026-10-03,45,care_coordination,in_person,,,\n"
        "E-2,C1,10000001A,2026-10-03,30,care_coordination,in_person,,,\n"
        "E-1,C1,10000001A,2026-10-03,50,care_coordination,in_person,,,\n"
        ",C2,10000002B,2026-10-04,20,care_coordination,telephonic,09:00,09:20,\n"
        "E-9,C1,10000001A,2026-10-05,20,care_coordination,in_person,,,delete\n"
    ),
    "time__changes_again.csv": (
        "entry_id,staff_id,member_id,date,minutes,activity,modality,start_time,end_time,action\n"
        "E-1,C1,10000001A,2026-10-03,55,care_coordination,in_person,,,\n"
        "E-3,C1,10000001A,2026-10-06,30,care_coordination,video,,,\n"
        "E-2,C1,10000001A,2026-10-03,30,care_coordination,in_person,,,delete\n"
    ),
}


def run_imports(engine: Engine, contract: Contract, folder: Path) -> list[Any]:
    Ledger(engine, contract, folder).team()
    outcomes: list[Any] = []
    for name in FILES:
        path = folder / name
        shutil.copyfile(BAD_FILES / name, path)
        outcomes.append(_outcome(engine, contract, path))
    for name, text in CHANGES.items():
        path = folder / name
        path.write_text(text)
        outcomes.append(_outcome(engine, contract, path))
    return outcomes


def _outcome(engine: Engine, contract: Contract, path: Path) -> Any:
    kind = path.name.split("__")[0]
    result = import_file(engine, kind, path, contract, actor="test", today=TODAY)
    rejects = result.rejects_file.read_text() if result.rejects_file else None
    return (
        path.name, result.rows_read, result.accepted, result.changed, result.counts,
        [(r.line, r.column, r.reason) for r in result.rejections],
        [(r.line, r.column, r.reason) for r in result.notes], rejects,
    )  # fmt: skip


def contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in stored order (the audit trail in its order), but the
    clock: when a record was made."""
    meta = MetaData()
    meta.reflect(engine)
    clock = {"at", "imported_at", "created_at"}
    with engine.connect() as conn:
        found = {}
        for name, table in sorted(meta.tables.items()):
            if name == "alembic_version":
                continue
            columns = [c for c in table.columns if c.name not in clock]
            order = [c for c in table.primary_key.columns] or columns
            rows = conn.execute(select(*columns).order_by(*order))
            found[name] = [tuple(row) for row in rows]
    return found


@pytest.fixture
def second(engine: Engine, request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    """Another fresh database of the same kind as ``engine``."""
    if engine.dialect.name == "sqlite":
        url = f"sqlite:///{tmp_path / 'reference.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.new_database()
    return open_store(url)


def test_the_fast_import_path_stores_what_the_former_path_stored(
    engine: Engine,
    second: Engine,
    contract: Contract,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "fast").mkdir()
    (tmp_path / "reference").mkdir()
    fast = run_imports(engine, contract, tmp_path / "fast")
    with monkeypatch.context() as patched:
        patched.setattr(records, "upsert", reference_upsert)
        reference = run_imports(second, contract, tmp_path / "reference")
    second.dispose()
    assert fast == reference
    assert any(outcome[5] for outcome in fast), "the files have rejected rows"
    assert contents(engine) == contents(second)
    with engine.connect() as conn:
        actions = set(conn.scalars(select(models.AuditRecord.action)))
    assert {"create", "update", "delete"} <= actions


def test_a_file_kept_on_disk_and_checked_a_group_at_a_time_imports_exactly_the_same(
    engine: Engine,
    second: Engine,
    contract: Contract,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A large file's records wait in a temporary file and are checked a few staff members or
    members at a time (``batch.Accepted``); here every file is treated as large and checked one
    group at a time: the outcome, the stored records and the audit trail are those of the
    whole file checked at once."""
    (tmp_path / "memory").mkdir()
    (tmp_path / "disk").mkdir()
    in_memory = run_imports(engine, contract, tmp_path / "memory")
    with monkeypatch.context() as patched:
        patched.setattr(batch, "KEPT_IN_MEMORY", 0)
        patched.setattr(batch, "CHECKED_TOGETHER", 1)
        on_disk = run_imports(second, contract, tmp_path / "disk")
    second.dispose()
    assert on_disk == in_memory
    assert contents(engine) == contents(second)
