"""A closed period refuses field changes whatever spelling of the date reaches it.

The bug: with a month closed, a time entry dated ``2026-10-30`` was refused but the same day
typed ``10/30/2026`` was recorded, because the closed-period check read only ISO dates while the
import's parser also reads MM/DD/YYYY. The field now reads the date once, with the import's
parser, and checks the closed period on that day. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from ecmbill.contract import Contract
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from ecmbill.web import create_app
from tests.claims.world import configure
from tests.conftest import TODAY
from tests.web.conftest import csrf_of, log_in, seed

MESSAGE = "October 2026 is closed: a biller records late changes"
# The same October day, as a user or a client program may type it.
SPELLINGS = ["2026-10-30", "10/30/2026", " 10/30/2026 ", "2026-10-30 "]
VISIT = {
    "member_id": "91234567A",
    "minutes": "30",
    "activity": "care_coordination",
    "modality": "in_person",
}
ATTEMPT = {
    "member_id": "93456789C",
    "method": "phone",
    "individualized": "true",
    "outcome": "not_reached",
}


@pytest.fixture
def october_closed(engine: Engine, contract: Contract, tmp_path: Path) -> tuple[Engine, TestClient]:
    """The web world with October closed by a biller; Ana, a care manager, logged in."""
    seed(engine, contract, tmp_path)
    configure(engine)
    app = create_app(engine, today=lambda: TODAY)
    bill = log_in(TestClient(app), "bill")
    token = csrf_of(bill.get("/billing?period=2026-10").text)
    closed = bill.post(
        "/billing/close", data={"csrf_token": token, "period": "2026-10", "confirm": "yes"}
    )
    assert "October 2026 closed" in closed.text
    return engine, log_in(TestClient(app), "ana")


def recorded(engine: Engine, table: type) -> int:
    with unit_of_work(engine) as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_a_closed_period_refuses_a_field_entry_whatever_date_spelling_reaches_it(
    october_closed: tuple[Engine, TestClient],
) -> None:
    engine, ana = october_closed
    entries = recorded(engine, models.TimeEntry)
    token = csrf_of(ana.get("/time").text)
    for typed in SPELLINGS:
        form = ana.post("/time", data={**VISIT, "date": typed, "csrf_token": token})
        assert form.status_code == 422, typed
        assert MESSAGE in form.text, typed
        outreach = ana.post("/outreach", data={**ATTEMPT, "date": typed, "csrf_token": token})
        assert outreach.status_code == 422, typed
        assert MESSAGE in outreach.text, typed
        api = ana.post(
            "/api/time-entries", json={**VISIT, "date": typed}, headers={"X-CSRF-Token": token}
        )
        assert api.status_code == 422, typed
        assert api.json() == {"field": "date", "detail": MESSAGE}, typed
    assert recorded(engine, models.TimeEntry) == entries
    assert recorded(engine, models.OutreachAttempt) == 0


def test_an_open_month_still_takes_the_us_spelling_of_a_date(
    october_closed: tuple[Engine, TestClient],
) -> None:
    engine, ana = october_closed
    token = csrf_of(ana.get("/time").text)
    november = ana.post(
        "/time",
        data={**VISIT, "date": "11/20/2026", "csrf_token": token},
        follow_redirects=False,
    )
    assert november.status_code == 303
    api = ana.post(
        "/api/time-entries",
        json={**VISIT, "date": "11/21/2026"},
        headers={"X-CSRF-Token": token},
    )
    assert api.status_code == 201, api.text
    outreach = ana.post(
        "/outreach",
        data={**ATTEMPT, "date": "11/02/2026", "csrf_token": token},
        follow_redirects=False,
    )
    assert outreach.status_code == 303
    assert recorded(engine, models.OutreachAttempt) == 1
