"""A close and an edit interleaved at the worst moments, by barriers rather than sleeps: the
edit is either in the claims or listed as unclaimed, never neither (issue 14, item 3). On
SQLite and PostgreSQL (the ``engine`` fixture)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from ecmbill.claims import close as claim_close
from ecmbill.claims.close import close_period, unclaimed_changes
from ecmbill.claims.views import list_claims
from ecmbill.contract import Contract
from ecmbill.rating.service import claim_lines_table
from ecmbill.store import audit, models
from ecmbill.store.db import unit_of_work
from tests.claims.world import OCTOBER, A, configure, load
from tests.conftest import TODAY

BOUND = 20  # seconds: only how long a broken test may hang, never a timing the test needs


@pytest.fixture
def october(engine: Engine, contract: Contract, tmp_path: Path) -> Engine:
    load(engine, tmp_path, contract)
    configure(engine)
    return engine


def units_of(engine: Engine, member: str) -> int:
    (claim,) = [
        c for c in list_claims(engine, OCTOBER) if c.member_id == member and c.status == "active"
    ]
    return sum(line.units for line in claim.lines)


def save_edit(
    engine: Engine,
    *,
    stamped: threading.Event | None = None,
    written: threading.Event | None = None,
    go: threading.Event | None = None,
) -> None:
    """An edit as the web and the imports save one: its time is taken first, then the row,
    then its audit record. ``stamped``/``written`` are set at those points; ``go`` holds the
    commit back."""
    with unit_of_work(engine) as session:
        at = audit.now()
        if stamped is not None:
            stamped.set()
        session.add(
            models.TimeEntry(
                entry_id="A-3", staff_id="S1", member_id=A, date=date(2026, 10, 25),
                minutes=120, activity="care_coordination", modality="in_person",
            )
        )  # fmt: skip
        session.flush()
        audit.record_change(
            session, actor="test", at=at, action="create", entity="time", key="A-3",
            after={"date": "2026-10-25", "minutes": 120},
        )  # fmt: skip
        if written is not None:
            written.set()
        if go is not None:
            assert go.wait(BOUND)


def test_an_edit_started_while_the_close_holds_its_lock_is_listed_as_unclaimed(
    october: Engine, contract: Contract
) -> None:
    """The edit takes its time before the close takes its own, and is held back by the lock
    until the close has committed: it is not claimed (50 minutes → 1 unit for A), and the
    close's page lists it, although its time is earlier than the close's."""
    stamped = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        edits: list[object] = []

        def start_edit() -> None:
            edits.append(pool.submit(save_edit, october, stamped=stamped))
            assert stamped.wait(BOUND)

        close_period(october, OCTOBER, contract, actor="test", today=TODAY, on_locked=start_edit)
        edits[0].result(BOUND)  # type: ignore[attr-defined]
    assert units_of(october, A) == 1
    assert unclaimed_changes(october, OCTOBER) == ["time/A-3"]
    again = close_period(october, OCTOBER, contract, actor="test", today=TODAY)
    assert [c.member_id for c in again.created] == [A]
    assert units_of(october, A) == 3  # 170 minutes, claimed by the replacement
    assert unclaimed_changes(october, OCTOBER) == []


def test_an_edit_being_saved_when_the_close_starts_is_waited_for_and_claimed(
    october: Engine, contract: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The edit has written its row but not committed when the close starts. The close must
    not rate before that commit: the edit is let go once the close has rated (the old order)
    or after the bound (the close waiting at its lock), and either way it is claimed."""
    written, go, rated = threading.Event(), threading.Event(), threading.Event()

    def rate_and_tell(*args: object, **kwargs: object) -> object:
        rating = claim_lines_table(*args, **kwargs)  # type: ignore[arg-type]
        rated.set()
        return rating

    monkeypatch.setattr(claim_close, "claim_lines_table", rate_and_tell)
    with ThreadPoolExecutor(2) as pool:
        edit = pool.submit(save_edit, october, written=written, go=go)
        assert written.wait(BOUND)
        closing = pool.submit(close_period, october, OCTOBER, contract, actor="test", today=TODAY)
        rated.wait(3)  # set at once by a close that rates before locking
        go.set()
        edit.result(BOUND)
        closing.result(BOUND)
    assert units_of(october, A) == 3  # 50 + 120 minutes
    assert unclaimed_changes(october, OCTOBER) == []


def test_the_claims_hold_the_rating_at_lock_time(october: Engine, contract: Contract) -> None:
    seen: list[int] = []

    def remember() -> None:
        with unit_of_work(october) as session:
            seen.append(sum(session.scalars(select(models.TimeEntry.minutes)).all()))

    close_period(october, OCTOBER, contract, actor="test", today=TODAY, on_locked=remember)
    assert seen == [245]
    assert units_of(october, A) == 1
