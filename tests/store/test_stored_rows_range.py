"""The checks of an import look up their rows' ids among the stored records
(``records.stored_rows``); on SQLite only the ids between the least and the greatest stored id
are asked for (``records._within_stored``). What is found is what asking for every id finds:
ids of any letters (accents, letters beyond the first 65,536 code points, upper and lower
case, digits), below, among, between and above the stored ones, and none stored at all."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from ecmbill.contract import Contract
from ecmbill.store import models, records
from ecmbill.store.db import unit_of_work
from tests.builders import Ledger

LETTERS = "09AZaz_-:.é\u00ff\u0100\u4e2d\U0001d518 "


def _ids(chance: random.Random, count: int) -> list[str]:
    return [
        "".join(chance.choice(LETTERS) for _ in range(chance.randint(1, 6))) for _ in range(count)
    ]


def _every_id_asked(engine: Engine, keys: list[str]) -> dict[str, dict[str, object]]:
    """What ``stored_rows`` found before: every id asked for, none left out."""
    table = models.TimeEntry.__table__
    with unit_of_work(engine) as session:
        found = session.execute(select(table).where(table.c.entry_id.in_(keys))).mappings()
        return {row["entry_id"]: dict(row) for row in found}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_stored_rows_found_are_those_of_every_id_asked(
    engine: Engine, contract: Contract, tmp_path: Path, seed: int
) -> None:
    Ledger(engine, contract, tmp_path).team()
    chance = random.Random(seed)
    asked = sorted(set(_ids(chance, 400)))
    with unit_of_work(engine) as session:
        assert records.stored_rows(session, models.TimeEntry, "entry_id", asked) == {}
    stored = chance.sample(asked, 120) + _ids(chance, 60)
    rows = [
        {"entry_id": entry_id, "staff_id": "C1", "member_id": "10000001A",
         "date": date(2026, 10, 1), "minutes": 20, "activity": "care_coordination",
         "modality": "in_person"}
        for entry_id in sorted(set(stored))
    ]  # fmt: skip
    with unit_of_work(engine) as session:
        session.execute(insert(models.TimeEntry), rows)
    for keys in (asked, asked[: len(asked) // 3], asked[-5:], [min(stored)], [max(stored)]):
        with unit_of_work(engine) as session:
            found = records.stored_rows(session, models.TimeEntry, "entry_id", keys)
        assert found == _every_id_asked(engine, keys)
    assert len(_every_id_asked(engine, asked)) >= 120
