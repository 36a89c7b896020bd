"""A large file's records wait in a temporary file (``batch.Accepted``), encoded as plain
tuples, their keys looked up a batch of rows at a time: an import that spills early, writes
the keys it has seen out mid-batch and reads its records back in small chunks gives exactly
what the same file kept in memory gives (results, rejects file, stored records, audit trail),
with repeated ids and identical rows on both sides of every boundary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from ecmbill.contract import Contract
from ecmbill.imports import batch
from ecmbill.imports.kinds import Options
from ecmbill.imports.service import import_file
from tests.builders import Ledger
from tests.conftest import TODAY
from tests.imports.test_fast_path import contents, second
from tests.imports.test_vectorised import many_kinds_of_bad_rows

__all__ = ["second"]  # the fixture


def _outcome(engine: Engine, contract: Contract, path: Path, options: Options) -> Any:
    result = import_file(engine, "time", path, contract, actor="test", today=TODAY, options=options)
    rejects = result.rejects_file.read_text() if result.rejects_file else None
    return (
        result.rows_read, result.accepted, result.changed, result.counts,
        [(r.line, r.column, r.reason) for r in result.rejections],
        [(r.line, r.column, r.reason) for r in result.notes], rejects,
    )  # fmt: skip


@pytest.mark.parametrize("distinct", [False, True])
@pytest.mark.parametrize("chunk", [1, 7])
def test_a_spilled_import_with_repeats_across_every_boundary_is_the_import_kept_in_memory(
    engine: Engine,
    second: Engine,
    contract: Contract,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    distinct: bool,
    chunk: int,
) -> None:
    options = Options(distinct_rows=distinct)
    outcomes = []
    for store, spilled in ((engine, False), (second, True)):
        folder = tmp_path / ("disk" if spilled else "memory")
        folder.mkdir()
        Ledger(store, contract, folder).team()
        path = folder / "time__many_faults.csv"
        many_kinds_of_bad_rows(path, 1200, seed=7)
        # Every 13th line again further down and every 29th right after itself: repeated ids,
        # and identical rows without one (copies with --distinct-rows).
        header, *lines = path.read_text().splitlines()
        twice = [line for n, line in enumerate(lines) for _ in range(2 if n % 29 == 0 else 1)]
        path.write_text("\n".join([header, *twice, *lines[::13]]) + "\n")
        with monkeypatch.context() as patched:
            if spilled:
                # Spill after 37 records; keys written out every ``chunk`` (mid-batch, between
                # a row and its repeat), rows read 100 at a time, records checked ~50
                # together and read back ``chunk`` at a time.
                patched.setattr(batch, "KEPT_IN_MEMORY", 37)
                patched.setattr(batch, "CHECKED_TOGETHER", 50)
                patched.setattr(batch, "_SPILL_CHUNK", chunk)
                patched.setattr(batch, "_LOOKED_UP_TOGETHER", 11)
                patched.setattr(batch, "READ_TOGETHER", 100)
            else:
                patched.setattr(batch, "KEPT_IN_MEMORY", 10**9)
            first = _outcome(store, contract, path, options)
            again = _outcome(store, contract, path, options)
        outcomes.append((first, again))
    second.dispose()
    (first, again), (first_disk, again_disk) = outcomes
    assert first_disk == first
    assert again_disk == again
    assert any("duplicate of" in reason for _, _, reason in first[4]), "repeats were refused"
    assert first[2] > 300, "and many rows written"
    assert again[2] == 0, "importing the same file again changes nothing"
    assert contents(engine) == contents(second)


def test_a_record_read_back_from_the_temporary_file_has_its_values_of_the_same_types() -> None:
    """Dates wait in the temporary file as day numbers: each comes back a ``date`` equal to
    it, while a ``datetime`` (a kind of date), a number, an empty cell and a record with other
    names come back as they were; the group order of the checks and the write pass agree."""
    from datetime import date, datetime

    accepted = batch.Accepted(lambda row: row.values["staff_id"])
    usual = ("entry_id", "staff_id", "date", "when", "minutes", "start_time")
    made = []
    for n in range(60):
        values: dict[str, Any] = {
            "entry_id": f"T{n}",
            "staff_id": f"S{n % 7}",
            "date": date(2026, 10, 1 + n % 28) if n % 5 else None,
            "when": datetime(2026, 10, 2, 8, n % 60) if n % 3 else date(2026, 1, 1 + n % 9),
            "minutes": n if n % 4 else date(1, 1, 1),
            "start_time": None,
        }
        if n == 45:
            values = {"entry_id": "T45", "staff_id": "S3", "date": date(2026, 12, 31)}
        made.append(batch.Row(n + 2, (values["entry_id"],), dict(values)))
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(batch, "KEPT_IN_MEMORY", 5)
        patched.setattr(batch, "CHECKED_TOGETHER", 10)
        patched.setattr(batch, "_SPILL_CHUNK", 4)
        for row in made:
            accepted.add([batch.Row(row.line, row.key, dict(row.values))], ("x",))
        checked = [row for part in accepted.partitions() for row in part]
        written = [values for chunk in accepted.recorded() for _, values in chunk]
    accepted.close()
    assert tuple(made[0].values) == usual

    def typed(values: dict[str, Any]) -> list[tuple[str, type, Any]]:
        return [(name, type(value), value) for name, value in values.items()]

    assert sorted((row.line, typed(row.values)) for row in checked) == [
        (row.line, typed(row.values)) for row in made
    ]
    assert [typed(values) for values in written] == [typed(row.values) for row in made]
    # Within a group, file order; groups whole.
    groups = [row.values["staff_id"] for row in checked]
    assert all(groups.index(g) + groups.count(g) - 1 == len(groups) - 1 - groups[::-1].index(g)
               for g in groups)  # fmt: skip
    for g in set(groups):
        lines = [row.line for row in checked if row.values["staff_id"] == g]
        assert lines == sorted(lines)
