"""A file of new records (a first import of time or outreach) is written without asking of each
record whether it is stored or changed (``records._insert_new``): its audit records go to the
insert as tuples, their JSON made a column at a time (``records._after_texts``). The text of
every audit record, the stored records and their order are those of the general path."""

from __future__ import annotations

import enum
import string
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, Table, insert, select

from ecmbill.contract import Contract
from ecmbill.imports import batch
from ecmbill.imports.service import import_file
from ecmbill.store import audit, bulk, models, records
from ecmbill.store.db import unit_of_work
from tests.builders import Ledger
from tests.conftest import TODAY
from tests.imports.test_fast_path import contents, second
from tests.imports.test_vectorised import many_kinds_of_bad_rows

__all__ = ["second"]  # the fixture


class Colour(enum.StrEnum):
    RED = "red"


def _audit_text(values: dict[str, Any]) -> str | None:
    """The JSON the audit record of a new record held before: ``audit.audit_row``'s."""
    made = audit.audit_row(
        actor="a", at=audit.now(), action="create", entity="e", key="k", before=None,
        after=records._visible(values),
    )  # fmt: skip
    return made["after"]  # type: ignore[no-any-return]


plain = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.text(alphabet=string.printable, max_size=6),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.dates(),
)
unusual = st.one_of(
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.datetimes(timezones=st.sampled_from([None, UTC])),
    st.just(Colour.RED),
    st.just(True),
)
names = st.lists(
    st.one_of(
        st.sampled_from(["id", "import_batch_id", "entry_id", "date", "a%s", "%", "é", "\n"]),
        st.text(max_size=5),
    ),
    unique=True,
    max_size=6,
)


@st.composite
def record_lists(draw: st.DrawFn) -> list[dict[str, Any]]:
    columns = draw(names)
    values = st.one_of(plain, unusual) if draw(st.booleans()) else plain
    found = [{name: draw(values) for name in columns} for _ in range(draw(st.integers(0, 8)))]
    if found and draw(st.booleans()):
        # A record naming other columns (or fewer) among them.
        found.append({name: draw(plain) for name in draw(names)})
    return found


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(found=record_lists())
def test_the_audit_json_made_by_column_is_the_audit_json_of_each_record(
    found: list[dict[str, Any]],
) -> None:
    assert records._after_texts(found) == [_audit_text(values) for values in found]


def test_the_usual_time_entry_is_made_by_column() -> None:
    entry = {
        "entry_id": "E-1", "staff_id": "C1", "member_id": "10000001A", "date": date(2026, 10, 3),
        "minutes": 45, "start_time": None, "end_time": "09:20", "activity": "care_coordination",
        "modality": "in_person", "note": "café \"x\"", "import_batch_id": 7,
    }  # fmt: skip
    assert records._after_texts([entry, entry]) == [_audit_text(entry)] * 2
    assert records._column_texts([date(2026, 1, 2), None, 3, "x"]) == [
        '"2026-01-02"',
        "null",
        "3",
        '"x"',
    ]
    with pytest.raises(records._Unusual):
        records._column_texts([1, True])
    with pytest.raises(records._Unusual):
        records._column_texts([datetime(2026, 1, 2, tzinfo=UTC)])


def _outcome(engine: Engine, contract: Contract, path: Path, kind: str) -> Any:
    result = import_file(engine, kind, path, contract, actor="test", today=TODAY)
    rejects = result.rejects_file.read_text() if result.rejects_file else None
    return (
        result.rows_read, result.accepted, result.changed, result.counts,
        [(r.line, r.column, r.reason) for r in result.rejections],
        [(r.line, r.column, r.reason) for r in result.notes], rejects,
    )  # fmt: skip


OUTREACH = (
    "attempt_id,staff_id,member_id,date,method,individualized,outcome\n"
    "A-1,C1,10000002B,2026-10-05,phone,true,reached\n"
    "A-2,C1,10000002B,2026-10-06,phone,false,not_reached\n"
    "A-2,C1,10000002B,2026-10-06,phone,false,not_reached\n"
    "A-3,C1,10000002B,2026-10-07,carrier_pigeon,true,not_reached\n"
)


@pytest.mark.parametrize("spilled", [False, True])
def test_a_first_import_of_new_records_stores_what_the_general_upsert_stores(
    engine: Engine,
    second: Engine,
    contract: Contract,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    spilled: bool,
) -> None:
    """On SQLite and PostgreSQL, kept in memory and spilled to the temporary file: the same
    results, rejects, stored records and audit trail as when every record is looked up (the
    general path of ``upsert_streamed``, which asks of each record whether it is stored)."""
    outcomes = []
    for store, general in ((engine, False), (second, True)):
        folder = tmp_path / ("general" if general else "new")
        folder.mkdir()
        Ledger(store, contract, folder).team()
        time_file = folder / "time__many_faults.csv"
        many_kinds_of_bad_rows(time_file, 900, seed=11)
        outreach_file = folder / "outreach__new.csv"
        outreach_file.write_text(OUTREACH)
        with monkeypatch.context() as patched:
            if spilled:
                patched.setattr(batch, "KEPT_IN_MEMORY", 41)
                patched.setattr(batch, "CHECKED_TOGETHER", 60)
                patched.setattr(batch, "_SPILL_CHUNK", 17)
            if general:
                patched.setattr(records, "_any_stored", lambda *_: True)
            found = [
                _outcome(store, contract, time_file, "time"),
                _outcome(store, contract, outreach_file, "outreach"),
                _outcome(store, contract, time_file, "time"),
            ]
        outcomes.append(found)
    second.dispose()
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0][2] > 300, "many records written"
    assert outcomes[0][1][2] > 0, "and outreach attempts"
    assert outcomes[0][2][2] == 0, "the same file again changes nothing"
    assert contents(engine) == contents(second)


def test_the_bulk_insert_stores_what_a_sqlalchemy_insert_stores(engine: Engine) -> None:
    """Values converted a column at a time, a date or time once per batch (``bulk``): the
    same stored rows as SQLAlchemy's own insert, from dicts or from tuples of the columns."""
    table = cast(Table, models.AuditRecord.__table__)
    at = [datetime(2026, 11, 25, 9, minute, tzinfo=UTC) for minute in (0, 0, 1)]
    rows = [
        audit.audit_row(
            actor="a",
            at=at[n % 3],
            action="create",
            entity="e",
            key=f"k{n}",
            before=None,
            after={"n": n, "on": date(2026, 10, 1 + n % 3)} if n % 4 else None,
            reason=None if n % 5 else "why",
        )
        for n in range(40)
    ]
    columns = list(rows[0])
    with unit_of_work(engine) as session:
        session.execute(insert(table), rows)
        bulk.insert_rows(session, table, rows)
        bulk.insert_rows(session, table, [tuple(row.values()) for row in rows], columns=columns)
    with engine.connect() as conn:
        stored = [
            tuple(found)
            for found in conn.execute(
                select(*(table.c[name] for name in columns)).order_by(table.c.id)
            )
        ]
    assert stored[:40] == stored[40:80] == stored[80:]
    assert len({found[0] for found in stored}) == 2, "two times, each converted once a batch"
