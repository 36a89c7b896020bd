"""My team (supervisor): the month per person by name, one person's week or month, and
"approve all shown", within the supervisor's team only."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from ecmbill.contract import default_contract
from ecmbill.imports.service import import_file
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from ecmbill.web import create_app
from tests.conftest import TODAY
from tests.web.conftest import Clients, csrf_of, log_in

TIME = "entry_id,staff_id,member_id,date,minutes,activity,modality"


def add_time(engine: Engine, folder: Path, rows: str) -> None:
    path = folder / "more-time.csv"
    path.write_text(f"{TIME}\n{rows}\n", encoding="utf-8")
    result = import_file(engine, "time", path, default_contract(), actor="test", today=TODAY)
    assert result.exit_code == 0, result.rejections


def approvals(engine: Engine) -> list[tuple[str, str]]:
    record = models.AuditRecord
    with unit_of_work(engine) as session:
        rows = session.execute(
            select(record.entity_key, record.action)
            .where(record.entity == "time_approval")
            .order_by(record.id)
        )
        return [(key, action) for key, action in rows]


def test_the_team_month_shows_names_hours_units_awaiting_and_why_time_will_not_bill(
    clients: Clients, world: Engine, tmp_path: Path
) -> None:
    # Ana: E1 50 min for Garcia (enrolled) and 30 min for Nguyen, who is not enrolled.
    add_time(world, tmp_path, "E4,S1,93456789C,2026-10-08,30,care_coordination,in_person")
    cleo = clients.as_user("cleo")
    page = cleo.get("/team?period=2026-10").text
    assert "Ana Field" in page and "staff S1" not in page
    assert "Ben Road" not in page  # another team
    assert "Cleo Lead" not in page  # her own time is approved by someone else
    assert "1:20 hours · 1 units · 2 entries" in page
    assert "2 awaiting approval" in page
    assert "Will not bill: 1 member not enrolled in ECM on the date" in page


def test_a_supervisor_approves_all_entries_shown_of_one_persons_week(
    clients: Clients, world: Engine, tmp_path: Path
) -> None:
    add_time(
        world,
        tmp_path,
        "E5,S1,91234567A,2026-10-07,20,care_coordination,in_person\n"
        "E6,S1,91234567A,2026-10-14,25,care_coordination,in_person",
    )
    cleo = clients.as_user("cleo")
    month = cleo.get("/team/S1?period=2026-10").text
    assert 'href="/team/S1?week=2026-10-05"' in month
    week = cleo.get("/team/S1?week=2026-10-07").text  # any day of the week: its Monday
    assert "Week of 2026-10-05 to 2026-10-11 · 2 entries" in week
    assert "Approve all 2 shown" in week
    token = csrf_of(week)
    done = cleo.post(
        "/team/S1/approve",
        data={"csrf_token": token, "entry_id": ["E1", "E5"], "week": "2026-10-05"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/team/S1?week=2026-10-05&approved=2"
    after = cleo.get(done.headers["location"]).text
    assert "Approved 2 entries." in after
    assert "Approve all" not in after
    assert approvals(world) == [("E1", "create"), ("E5", "create")]  # one record per entry
    entry = cleo.get("/time/E5").text
    assert "Time entry of Ana Field" in entry and 'href="/team/S1?week=2026-10-07"' in entry
    # The next week's entry was not shown, and is not approved.
    assert "1 awaiting approval" in cleo.get("/team?period=2026-10").text


def test_approving_is_refused_outside_the_supervisors_team_and_without_the_token(
    clients: Clients, world: Engine
) -> None:
    cleo = clients.as_user("cleo")
    token = csrf_of(cleo.get("/team/S1?period=2026-10").text)
    assert cleo.get("/team/S2?period=2026-10").status_code == 403  # Ben: south team
    assert cleo.get("/team/S3?period=2026-10").status_code == 403  # herself
    assert cleo.get("/team/NOPE").status_code == 403
    # Ben's entry slipped into Ana's list: the whole request is refused.
    mixed = cleo.post("/team/S1/approve", data={"csrf_token": token, "entry_id": ["E1", "E2"]})
    assert mixed.status_code == 403
    other = cleo.post("/team/S2/approve", data={"csrf_token": token, "entry_id": "E2"})
    assert other.status_code == 403
    no_token = cleo.post("/team/S1/approve", data={"entry_id": "E1"})
    assert no_token.status_code == 403
    ana = clients.as_user("ana")
    assert ana.get("/team").status_code == 403
    own = csrf_of(ana.get("/time").text)
    assert (
        ana.post("/team/S1/approve", data={"csrf_token": own, "entry_id": "E1"}).status_code == 403
    )
    assert approvals(world) == []


@pytest.mark.parametrize(
    "path",
    [
        "/team/S1?week=not-a-date",
        "/team/S1?week=0001-01-01",
        "/team/S1?page=many",
        "/team?period=9999-12",
    ],
)
def test_bad_parameters_are_answered_4xx(clients: Clients, path: str) -> None:
    status = clients.as_user("cleo").get(path).status_code
    assert 400 <= status < 500, (path, status)


def test_a_long_month_is_shown_a_page_of_50_at_a_time(
    clients: Clients, world: Engine, tmp_path: Path
) -> None:
    rows = "\n".join(
        f"P{n:02d},S1,91234567A,2026-10-{1 + n % 28:02d},5,care_coordination,in_person"
        for n in range(60)
    )
    add_time(world, tmp_path, rows)
    cleo = clients.as_user("cleo")
    first = cleo.get("/team/S1?period=2026-10").text
    assert "61 entries" in first and "Page 1 of 2" in first
    assert "Approve all 50 shown" in first
    second = cleo.get("/team/S1?period=2026-10&page=2").text
    assert "Page 2 of 2" in second and "Approve all 11 shown" in second
    assert cleo.get("/team/S1?period=2026-10&page=99").status_code == 200  # the last page


def test_with_require_approval_the_dashboard_counts_unapproved_time_as_not_billing(
    world: Engine,
) -> None:
    requiring = default_contract().model_copy(update={"require_approval": True})
    app: FastAPI = create_app(world, requiring, today=lambda: TODAY)
    cleo = log_in(TestClient(app), "cleo")
    page = cleo.get("/team?period=2026-10").text
    assert "The contract requires your approval" in page
    assert "1:20 hours" not in page and "0:50 hours · 0 units · 1 entry" in page
    assert "Will not bill: 1 awaiting approval" in page
    person = cleo.get("/team/S1?period=2026-10").text
    assert "awaiting a supervisor&#39;s approval" in person
    token = csrf_of(person)
    cleo.post("/team/S1/approve", data={"csrf_token": token, "entry_id": "E1"})
    assert "0:50 hours · 1 units · 1 entry" in cleo.get("/team?period=2026-10").text


def test_billing_lists_the_time_awaiting_approval_before_close_when_the_contract_requires_it(
    clients: Clients, world: Engine
) -> None:
    plain = clients.as_user("bill").get("/billing?period=2026-10").text
    assert "Awaiting a supervisor" not in plain  # the default contract: nothing waits
    requiring = default_contract().model_copy(update={"require_approval": True})
    app: FastAPI = create_app(world, requiring, today=lambda: TODAY)
    bill = log_in(TestClient(app), "bill")
    page = bill.get("/billing?period=2026-10").text
    assert "Awaiting a supervisor's approval" in page
    # E1 (Ana, 50 min) and E2 (Ben, 30 min); E3 does not bill anyway (not enrolled).
    assert "2 time entries do not bill yet (NOT_APPROVED)" in page
    assert "<td>Ana Field</td>" in page and "<td>Ben Road</td>" in page
    cleo = log_in(TestClient(app), "cleo")
    token = csrf_of(cleo.get("/team/S1?period=2026-10").text)
    cleo.post("/team/S1/approve", data={"csrf_token": token, "entry_id": "E1"})
    after = bill.get("/billing?period=2026-10").text
    assert "1 time entry does not bill yet" in after
    assert "<td>Ana Field</td>" not in after and "<td>Ben Road</td>" in after
