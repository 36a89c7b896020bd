"""Record-level scope, "minimum necessary" (issue 14): a supervisor sees only their team's
records on every page, the audit trail and the API included; an admin reads who did what on
the audit page, not what was written; staff find and open only the members on their caseload,
and open any other member only with a "break the glass" reason kept in the access log.

The small world (tests/web/conftest.py): team north is Ana (staff, S1) and Cleo (supervisor,
S3); team south is Ben (staff, S2). Ana recorded time with Garcia (91234567A), Ben with Lopez
(92345678B) and Nguyen (93456789C)."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import Engine

from ecmbill.store import members as stored_members
from ecmbill.store.db import unit_of_work
from ecmbill.store.lookups import audit_page
from ecmbill.web.accounts import CASELOAD_DAYS, log_in, visible_members
from tests.conftest import TODAY
from tests.web.conftest import PASSWORD, USERS, Clients, csrf_of

SOUTH = ("92345678B", "93456789C", "Lopez", "Nguyen", "Ben Road", "web:ben")
NOTE = "discussed insulin dose and a fall at home"


def access_log(world: Engine) -> list[tuple[str, str, dict[str, str]]]:
    lines = audit_page(world, entity="access", size=1000).lines
    return [(r.action, r.entity_key, json.loads(r.after or "{}")) for r in reversed(lines)]


def south_is_busy(clients: Clients) -> None:
    """Ben logs in and records time with a note: records of team south in every table."""
    ben = clients.as_user("ben")
    token = ben.get("/api/me").json()["csrf_token"]
    made = ben.post(
        "/api/time-entries",
        headers={"X-CSRF-Token": token},
        json={"member_id": "92345678B", "date": "2026-11-20", "minutes": "40",
              "activity": "care_coordination", "modality": "in_person", "note": NOTE},
    )  # fmt: skip
    assert made.status_code == 201, made.text


def test_a_supervisor_of_one_team_sees_nothing_of_another_team_on_any_page(
    clients: Clients,
) -> None:
    south_is_busy(clients)
    cleo = clients.as_user("cleo")
    pages = [
        "/time", "/time?start=2026-10-01&end=2026-11-30", "/outreach", "/members?q=%25",
        "/members?q=_", "/members?q=9", "/members?q=Lop", "/members?q=923",
        "/members/search?member_id=a",
        "/audit", "/audit?entity=time", "/audit?entity=access", "/audit?entity=users",
        "/audit?entity=members",
        "/api/time-entries?start=2026-10-01&end=2026-11-30", "/api/outreach",
        "/api/members?q=%25", "/api/members?q=_", "/api/members?q=Lop",
    ]  # fmt: skip
    for path in pages:
        response = cleo.get(path)
        assert response.status_code == 200, path
        for text in SOUTH:
            assert text not in response.text, (path, text)
    assert NOTE not in cleo.get("/audit").text
    # A south member's page and month: refused without a reason, and nothing of it shown.
    page = cleo.get("/members/92345678B?period=2026-10")
    assert page.status_code == 403 and "Lopez" not in page.text and "Open, and log" in page.text
    assert cleo.get("/api/members/92345678B").status_code == 403
    # Her own team's records are there.
    audit = cleo.get("/audit").text
    assert "E1" in audit and "web:cleo" in audit
    assert "Garcia" in cleo.get("/members?q=Gar").text


def test_the_audit_page_shows_an_admin_who_did_what_without_notes(clients: Clients) -> None:
    south_is_busy(clients)
    page = clients.as_user("ada").get("/audit?entity=time").text
    assert "web:ben" in page and "(hidden)" in page
    assert NOTE not in page
    assert "hidden" in clients.as_user("ada").get("/audit").text
    # A biller, who bills from these records, reads them whole.
    assert NOTE in clients.as_user("bill").get("/audit?entity=time").text


def test_staff_find_only_members_on_their_caseload(clients: Clients) -> None:
    ana = clients.as_user("ana")
    for q in ("%25", "_", "9", "a", "Lop", "923", "Ngu"):
        found = ana.get(f"/api/members?q={q}").json()
        assert {m["member_id"] for m in found} <= {"91234567A"}, q
        page = ana.get(f"/members?q={q}").text
        assert "Lopez" not in page and "Nguyen" not in page, q
        assert "Lopez" not in ana.get(f"/members/search?member_id={q}").text, q
    assert [m["member_id"] for m in ana.get("/api/members?q=Gar").json()] == ["91234567A"]
    assert ana.get("/members/91234567A?period=2026-10").status_code == 200


def test_staff_open_a_member_off_their_caseload_only_with_a_logged_reason(
    clients: Clients, world: Engine
) -> None:
    ana = clients.as_user("ana")
    asked = ana.get("/members/92345678B?period=2026-10")
    assert asked.status_code == 403
    assert "Lopez" not in asked.text and 'name="reason"' in asked.text
    assert ana.get("/api/members/92345678B").status_code == 403
    token = csrf_of(asked.text)
    short = ana.post("/members/92345678B/glass", data={"csrf_token": token, "reason": "need"})
    assert short.status_code == 422 and "Lopez" not in short.text
    assert not [e for e in access_log(world) if e[0] == "glass"]
    opened = ana.post(
        "/members/92345678B/glass",
        data={"csrf_token": token, "reason": "covering for Ben  today", "period": "2026-10"},
    )
    assert opened.status_code == 200 and "Lopez" in opened.text
    assert ("glass", "ana", {"member_id": "92345678B", "reason": "covering for Ben today"}) in (
        access_log(world)
    )
    # The reason opens that page once: the next visit asks again.
    assert ana.get("/members/92345678B").status_code == 403
    # A form without the session's token opens nothing.
    forged = ana.post("/members/92345678B/glass", data={"reason": "covering for Ben today"})
    assert forged.status_code == 403 and "Lopez" not in forged.text


def test_every_view_of_a_member_page_from_outside_the_members_team_is_logged(
    clients: Clients, world: Engine
) -> None:
    clients.as_user("ana").get("/members/91234567A")  # her own caseload: not logged
    bill = clients.as_user("bill")  # a biller belongs to no team
    assert bill.get("/members/92345678B?period=2026-10").status_code == 200
    assert bill.get("/api/members/93456789C").status_code == 200
    views = [(key, details) for action, key, details in access_log(world) if action == "view"]
    assert views == [("bill", {"member_id": "92345678B"}), ("bill", {"member_id": "93456789C"})]


def test_the_caseload_is_the_lead_or_time_in_the_last_90_days_of_the_team(
    world: Engine,
) -> None:
    def caseload(username: str, today: date) -> frozenset[str] | None:
        result = log_in(world, username, PASSWORD, "127.0.0.1")
        assert result.account is not None
        return visible_members(world, result.account, today)

    assert caseload("ana", TODAY) == {"91234567A"}
    assert caseload("cleo", TODAY) == {"91234567A"}  # her team's: Ana's
    assert caseload("ben", TODAY) == {"92345678B", "93456789C"}
    assert caseload("bill", TODAY) is None  # billers bill for every member
    assert caseload("ada", TODAY) == frozenset()
    # Time on 2026-10-05 keeps Garcia on the caseload for 90 days, not 91.
    last = date(2026, 10, 5) + timedelta(days=CASELOAD_DAYS)
    assert caseload("ana", last) == {"91234567A"}
    assert caseload("ana", last + timedelta(days=1)) == frozenset()
    # Leading a member's care puts them on the caseload of the lead's team, while it lasts.
    with unit_of_work(world) as session:
        stored_members.start_lead(
            session, "93456789C", "S1", date(2026, 11, 1), "test",
            end_previous_on=None, phone=None, email=None,
        )  # fmt: skip
    assert caseload("cleo", TODAY) == {"91234567A", "93456789C"}
    assert "93456789C" in (caseload("ana", last + timedelta(days=1)) or ())
    assert USERS["ben"][2] != USERS["ana"][2]  # the two teams of this world
