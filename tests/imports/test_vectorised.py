"""The rules applied a batch at a time (``imports.vectorised``) take only rows the one-row
reader takes, with the same values; every other row is left to the one-row reader, so an
import reads the same rows, refuses the same ones with the same line, column and reason,
stores the same records and writes the same audit trail either way."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from ecmbill.contract import Contract
from ecmbill.domain.checks import ROW_RULES, Known, RowProblem, row_reader
from ecmbill.imports import service
from ecmbill.imports.vectorised import batch_reader
from tests.builders import Ledger
from tests.conftest import TODAY
from tests.imports.test_fast_path import _outcome, contents, second

__all__ = ["second"]

STAFF = frozenset({"C1", "C2", "C3", "N1"})
MEMBERS = frozenset({"10000001A", "10000002B"})
ACTIVITIES = frozenset({"care_coordination", "assessment", "care_plan"})
KNOWN = {
    Known.STAFF: STAFF,
    Known.MEMBER: MEMBERS,
    Known.ACTIVITY: ACTIVITIES,
    Known.PLAN: frozenset({"main"}),
}

# Cells of each column of a time file: good ones, and the ways a cell goes wrong.
CELLS: dict[str, list[str]] = {
    "entry_id": [
        "",
        "E-1",
        "E-2",
        "T000000001",
        "e 1",
        "=E1",
        "E\u00a0",
        " E-3",
        "x" * 65,
        "x" * 64,
        "E\x01",
        "é-1",
        "-E",
        "E-\u2003",
    ],
    "staff_id": ["C1", "C2", "N1", "c1", "Z9", "", " C1", "C1 ", "=C1", "C\u00a01"],
    "member_id": [
        "10000001A",
        "10000002B",
        "10000001a",
        " 10000001A",
        "10000009Z",
        "1000001A",
        "",
        "10000001A\u00a0",
    ],
    "date": [
        "2026-10-03",
        "2026-10-31",
        "2026-1-3",
        "10/03/2026",
        "2026-02-30",
        "2026-11-26",
        "1899-12-31",
        "",
        " 2026-10-03",
        "2026-10-03T00:00",
        "0000-01-01",
        "2026-11-25",
    ],
    "minutes": [
        "",
        "30",
        "0",
        "1",
        "1440",
        "1441",
        "30.0",
        "30.5",
        "abc",
        "0030",
        "-5",
        " 45",
        "1e2",
    ],
    "activity": [
        "care_coordination",
        "Care_Coordination",
        "assessment",
        "unknown",
        "",
        " care_plan",
    ],
    "modality": ["in_person", "telephonic", "In_Person", "video", "", " telephonic"],
    "start_time": ["", "09:00", "9:00", "09:30", "25:00", "10:00", " 10:00", "09:60", "  "],
    "end_time": ["", "09:30", "10:00", "09:00", "24:00", "10:00:00", "9:45"],
    "note": ["", "called", "=cmd", "- called member", "a\x01b", "  ", "x" * 4001],
    "action": ["", "", "record", "delete", "bogus"],
    "source": ["", "", "ehr", "e h r", "=x"],
    "count": ["", "", "2", "0", "101", "1"],
}
COLUMNS = list(CELLS)


def one_by_one(rows: list[dict[str, str]]) -> list[dict[str, Any] | RowProblem]:
    read = row_reader(ROW_RULES["time"], TODAY)
    found: list[dict[str, Any] | RowProblem] = []
    for cells in rows:
        try:
            found.append(read(cells, KNOWN))
        except RowProblem as problem:
            found.append(problem)
    return found


cell_rows = st.lists(
    st.fixed_dictionaries({name: st.sampled_from(cells) for name, cells in CELLS.items()}),
    min_size=1,
    max_size=40,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=cell_rows, header=st.permutations(COLUMNS).flatmap(
    lambda names: st.integers(min_value=5, max_value=len(names)).map(lambda n: names[:n])
))  # fmt: skip
def test_a_row_taken_by_the_batch_is_read_exactly_as_alone(
    rows: list[dict[str, str]], header: list[str]
) -> None:
    """Whatever the cells and whichever columns the file has: a row the batch takes has the
    values (in the order) the one-row reader gives it; a row the one-row reader refuses is
    never taken by the batch."""
    cells = [{name: row[name] for name in header} for row in rows]
    alone = one_by_one(cells)
    read = batch_reader(ROW_RULES["time"], TODAY)
    batched = read(header, [tuple(row[name] for name in header) for row in cells], KNOWN)
    assert len(batched) == len(rows)
    for by_batch, by_row in zip(batched, alone, strict=True):
        if by_batch is None:
            continue
        assert not isinstance(by_row, RowProblem), (by_batch, by_row.reason)
        assert list(by_batch.items()) == list(by_row.items())


def test_the_batch_takes_the_ordinary_rows() -> None:
    """The point of it: plain rows are not left to the one-row reader."""
    header = ["entry_id", "staff_id", "member_id", "date", "minutes", "activity", "modality",
              "start_time", "end_time", "note"]  # fmt: skip
    rows = [
        ("E-1", "C1", "10000001A", "2026-10-03", "30", "care_coordination", "in_person", "", "",
         ""),
        ("", "C2", "10000002B", "2026-10-04", "", "assessment", "telephonic", "09:00", "09:45",
         "called"),
        ("E-3", "N1", "10000001a", "10/05/2026", "30.0", "Care_Plan", "In_Person", "", "", ""),
    ]  # fmt: skip
    read = batch_reader(ROW_RULES["time"], TODAY)
    found = read(header, rows, KNOWN)
    assert all(values is not None for values in found)
    assert found == one_by_one([dict(zip(header, row, strict=True)) for row in rows])
    assert found[1] is not None and found[1]["minutes"] == 45


def many_kinds_of_bad_rows(path: Path, rows: int, seed: int) -> None:
    """A time file of mostly good rows and rows with every fault of ``CELLS``, repeated ids
    and identical rows, rows of the wrong width and blank lines."""
    chance = random.Random(seed)
    header = [name for name in COLUMNS if name not in {"action", "source", "count"}]
    header += ["action", "count"]
    lines = [",".join(header)]
    for number in range(rows):
        row = {name: chance.choice(CELLS[name]) for name in header}
        if chance.random() < 0.7:  # a good row but for the faults drawn for a few columns
            clock = chance.random() < 0.3
            start = f"{8 + number % 10:02d}:{number % 4 * 15:02d}"
            good = {
                "entry_id": f"E{number}", "staff_id": chance.choice(["C1", "C2", "C3", "N1"]),
                "member_id": chance.choice(["10000001A", "10000002B"]),
                "date": f"2026-10-{1 + number % 31:02d}", "minutes": "" if clock else "20",
                "activity": chance.choice(sorted(ACTIVITIES)),
                "modality": chance.choice(["in_person", "telephonic"]),
                "start_time": start if clock else "",
                "end_time": f"{9 + number % 10:02d}:{number % 4 * 15:02d}" if clock else "",
                "note": "", "action": "", "count": "",
            }  # fmt: skip
            row = {name: good[name] if chance.random() < 0.95 else row[name] for name in header}
        if number % 7 == 0:
            row["entry_id"] = ""  # ids made from the row: identical rows repeat them
        if row["action"] == "delete" and chance.random() < 0.8:
            row["action"] = ""
        values = [row[name] for name in header]
        if number % 53 == 0:
            values = values[:-1]
        if number % 61 == 0:
            lines.append("")
        lines.append(",".join(_quoted(value) for value in values))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _quoted(value: str) -> str:
    if any(char in value for char in ',"\n\r') or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value


@pytest.mark.parametrize("rows", [300, 2600])
def test_an_import_read_by_batches_is_the_import_read_row_by_row(
    engine: Engine,
    second: Engine,
    contract: Contract,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rows: int,
) -> None:
    """The whole import, on a file with many kinds of bad rows (2,600 rows: more than one
    batch), then the same file again: the same results, rejects files, stored records and
    audit trail as reading every row alone."""
    outcomes = []
    for store, by_batch in ((engine, True), (second, False)):
        folder = tmp_path / ("batch" if by_batch else "alone")
        folder.mkdir()
        Ledger(store, contract, folder).team()
        path = folder / "time__many_faults.csv"
        many_kinds_of_bad_rows(path, rows, seed=rows)
        with monkeypatch.context() as patched:
            patched.setattr(service, "_READ_IN_BATCHES", by_batch)
            first = _outcome(store, contract, path)
            again = _outcome(store, contract, path)
        outcomes.append((first, again))
    second.dispose()
    (first, again), (first_alone, again_alone) = outcomes
    assert first == first_alone
    assert again == again_alone
    assert first[5], "the file has rejected rows"
    assert first[2] > rows // 3, "and accepted ones"
    assert again[3] == 0, "importing the same file again changes nothing"
    assert contents(engine) == contents(second)


def test_today_is_the_last_day_a_service_may_have() -> None:
    read = batch_reader(ROW_RULES["time"], date(2026, 10, 3))
    header = ["staff_id", "member_id", "date", "minutes", "activity", "modality"]
    rows = [
        ("C1", "10000001A", "2026-10-03", "30", "care_plan", "in_person"),
        ("C1", "10000001A", "2026-10-04", "30", "care_plan", "in_person"),
    ]
    found = read(header, rows, KNOWN)
    assert found[0] is not None and found[1] is None
