"""An import's memory does not grow with the file (issue 14, item 4; issue 19): rows are
streamed from the file, and beyond a few thousand records they wait in a temporary file."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ecmbill.contract import Contract
from ecmbill.imports import batch
from ecmbill.imports.service import import_file
from tests.builders import Ledger
from tests.conftest import TODAY

HEADER = "entry_id,staff_id,member_id,date,minutes,activity,modality\n"


STAFF = 60


def time_file(path: Path, rows: int) -> Path:
    """``rows`` one-minute entries of 60 staff members, spread over October."""
    with path.open("w") as out:
        out.write(HEADER)
        for n in range(rows):
            day = f"2026-10-{n // STAFF % 31 + 1:02d}"
            out.write(f"E-{n},S{n % STAFF},10000001A,{day},1,care_coordination,telephonic\n")
    return path


def peak_of_import(engine: Engine, contract: Contract, path: Path) -> int:
    tracemalloc.start()
    try:
        result = import_file(engine, "time", path, contract, actor="test", today=TODAY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.rejected == 0 and result.accepted == result.rows_read
    return peak


def test_the_peak_memory_of_an_import_does_not_grow_with_its_rows(
    engine: Engine, contract: Contract, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With 500 records kept in memory, 12,000 rows take less than 1.6 times the peak of 3,000
    (measured: 10.5 and 13.1 MiB; what grows is the keys seen)."""
    monkeypatch.setattr(batch, "KEPT_IN_MEMORY", 500)
    monkeypatch.setattr(batch, "CHECKED_TOGETHER", 500)
    book = Ledger(engine, contract, tmp_path).team()
    staff = "".join(f"S{n},Staff {n},clinical\n" for n in range(STAFF))
    assert book.load("staff", f"staff_id,name,role\n{staff}").rejected == 0
    small = peak_of_import(engine, contract, time_file(tmp_path / "small.csv", 3_000))
    large = peak_of_import(engine, contract, time_file(tmp_path / "large.csv", 12_000))
    print(f"peak {small / 2**20:.1f} MiB for 3,000 rows, {large / 2**20:.1f} MiB for 12,000")
    assert large < 1.6 * small


def test_the_cycles_the_database_library_leaves_are_collected_part_by_part(
    engine: Engine, contract: Contract, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The collector is off during an import, and each SQLAlchemy statement that looks stored
    records up is a reference cycle holding the keys it was given: uncollected, they held 130
    MiB of a 1,000,000-row import. Collected after each part, what is left in memory when the
    import ends (collected or not) hardly grows with the file: 12,000 rows leave fewer than
    1,200 objects more than 3,000 (measured: 425 on SQLite and 504 on PostgreSQL; without
    collecting, 2,321 and 2,597)."""
    monkeypatch.setattr(batch, "KEPT_IN_MEMORY", 500)
    monkeypatch.setattr(batch, "CHECKED_TOGETHER", 500)
    book = Ledger(engine, contract, tmp_path).team()
    staff = "".join(f"S{n},Staff {n},clinical\n" for n in range(STAFF))
    assert book.load("staff", f"staff_id,name,role\n{staff}").rejected == 0
    left: list[int] = []
    close = batch.Accepted.close

    def counting_close(self: batch.Accepted) -> None:
        assert not gc.isenabled()  # still inside the import
        left.append(len(gc.get_objects()))
        close(self)

    monkeypatch.setattr(batch.Accepted, "close", counting_close)
    for name, rows in (("small", 3_000), ("large", 12_000)):
        path = time_file(tmp_path / f"{name}.csv", rows)
        result = import_file(engine, "time", path, contract, actor="test", today=TODAY)
        assert result.accepted == rows
    small, large = left
    print(f"objects left: {small:,} after 3,000 rows, {large:,} after 12,000")
    assert large - small < 1_200
