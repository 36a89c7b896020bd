"""My caseload and member search (issue 16), and what a care manager reads of a member's
month (issue 14, minimum necessary). Over the web world of tests/web/conftest.py."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from ecmbill.contract import default_contract
from ecmbill.domain.units import minutes_to_next_unit
from ecmbill.fieldwork import caseload
from ecmbill.fieldwork.members import read_query
from ecmbill.imports.service import import_file
from tests.conftest import TODAY
from tests.web.conftest import Clients, csrf_of

MORE_MEMBERS = """member_id,first_name,last_name,birth_date
94567890D,Maria,Demo-Lopez,1980-07-08
95678901E,Elena,Lopez,1990-09-10
"""


def _load(engine: Engine, tmp_path: Path, kind: str, text: str) -> None:
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    result = import_file(engine, kind, path, default_contract(), actor="test", today=TODAY)
    assert result.exit_code == 0, result.rejections


def test_minutes_to_next_unit_is_the_rest_of_the_last_hour() -> None:
    assert [minutes_to_next_unit(m) for m in (0, 1, 40, 59, 60, 61, 125)] == [
        0, 59, 20, 1, 0, 59, 55,
    ]  # fmt: skip


def test_a_search_reads_name_parts_in_any_order_and_a_birth_date() -> None:
    assert read_query("Lopez, Elena") == read_query("Lopez,Elena")
    assert read_query("elena lopez").name_parts == ("elena", "lopez")
    assert read_query("Demo-Lopez, Maria").name_parts == ("Demo-Lopez", "Maria")
    found = read_query("garcia 01/02/1950")
    assert found.name_parts == ("garcia",) and found.birth_date.isoformat() == "1950-01-02"  # type: ignore[union-attr]


def test_members_are_found_by_any_order_of_name_parts_cin_or_birth_date(
    world: Engine, tmp_path: Path
) -> None:
    _load(world, tmp_path, "members", MORE_MEMBERS)

    def names(text: str) -> list[str]:
        return [m.name for m in caseload.find(world, text, within=None)[0]]

    assert names("elena lopez") == ["Lopez, Elena"]
    assert names("Lopez, Elena") == ["Lopez, Elena"]
    assert names("Demo-Lopez, Maria") == ["Demo-Lopez, Maria"]
    assert names("maria") == ["Demo-Lopez, Maria", "Garcia, Maria"]
    assert names("91234567") == ["Garcia, Maria"]
    assert names("1980-07-08") == ["Demo-Lopez, Maria"]
    assert names("lopez 09/10/1990") == ["Lopez, Elena"]
    # LIKE's wildcards typed are letters: they match nobody (issue 14).
    assert names("%") == [] and names("_") == [] and names("") == []
    page, total = caseload.find(world, "lopez", within=None, limit=1, offset=1)
    assert total == 3 and [m.name for m in page] == ["Lopez, Elena"]  # Demo-Lopez; Lopez x2
    assert caseload.find(world, "lopez", within=frozenset({"95678901E"}))[1] == 1


def test_my_caseload_shows_the_month_so_far_and_masks_the_cin_for_staff(
    clients: Clients, world: Engine
) -> None:
    ana = clients.as_user("ana")
    token = csrf_of(ana.get("/time").text)
    visit = {"date": "2026-11-20", "activity": "care_coordination", "modality": "in_person"}
    for member, minutes in (("91234567A", "40"), ("93456789C", "15")):
        saved = ana.post(
            "/time", data={**visit, "member_id": member, "minutes": minutes, "csrf_token": token},
            follow_redirects=False,
        )  # fmt: skip
        assert saved.status_code == 303
    page = ana.get("/members").text
    assert "My caseload (2)" in page
    garcia, nguyen = page.split("Garcia, Maria", 1)[1].split("Nguyen, Rosa", 1)
    assert "40 min · 1 unit · 20 min left in the last unit" in garcia
    assert "enrolled · eligible this month" in garcia and "CIN •••••567A" in garcia
    assert "born 1950-01-02" in garcia
    assert 'href="/time?member=91234567A"' in garcia
    # Rosa is not enrolled: her time does not bill, and outreach counts toward unable to reach.
    assert "0 min · 0 units" in nguyen and "not enrolled · eligible this month" in nguyen
    assert "outreach: 0 of 3 attempts for unable to reach" in nguyen
    assert "93456789C</span>" not in page
    # A biller has no caseload and reads whole CINs in a search.
    bill = clients.as_user("bill")
    assert "CIN 91234567A" in bill.get("/members?q=garcia").text
    assert bill.get("/members?page=0").status_code == 400


def test_a_care_manager_reads_only_their_own_entries_on_a_members_page(
    clients: Clients, world: Engine, tmp_path: Path
) -> None:
    _load(
        world, tmp_path, "time",
        "entry_id,staff_id,member_id,date,minutes,activity,modality,note\n"
        "E9,S2,91234567A,2026-10-09,30,care_coordination,in_person,Private note of Ben\n",
    )  # fmt: skip
    ana = clients.as_user("ana").get("/members/91234567A?period=2026-10").text
    assert "80 (30 by other staff)" in ana
    assert "Ben Road" not in ana and "2026-10-09" not in ana
    assert "Your time entries" in ana and "2026-10-05" in ana
    # The projected lines still count every minute: Ben's (non-clinical) as G9012's total.
    assert 'G9012 U2</td><td>service</td><td class="num">30</td><td class="num">1</td>' in ana
    # A supervisor of the team, and a biller, read every entry.
    assert "Ben Road" in clients.as_user("bill").get("/members/91234567A?period=2026-10").text


def test_the_api_create_response_says_whether_the_entry_will_bill(clients: Clients) -> None:
    ana = clients.as_user("ana")
    token = ana.get("/api/me").json()["csrf_token"]
    entry = {"date": "2026-11-20", "minutes": "30", "activity": "care_coordination",
             "modality": "telephonic"}  # fmt: skip
    bills = ana.post(
        "/api/time-entries", json={**entry, "member_id": "91234567A"},
        headers={"X-CSRF-Token": token},
    ).json()  # fmt: skip
    assert bills["minutes"] == 30 and bills["entry_id"].startswith("W-")
    assert {k: bills[k] for k in ("bills", "code", "modifiers", "reason_code", "reason")} == {
        "bills": True, "code": "G9008", "modifiers": ["U1", "GQ"], "reason_code": None,
        "reason": None,
    }  # fmt: skip
    refused = ana.post(
        "/api/time-entries", json={**entry, "member_id": "93456789C"},
        headers={"X-CSRF-Token": token},
    ).json()  # fmt: skip
    assert (refused["bills"], refused["reason_code"]) == (False, "NOT_ENROLLED")
    assert refused["reason"] == "not billable: member not enrolled in ECM on 2026-11-20"


def test_the_form_shows_every_error_at_once_and_remembers_the_last_visit(
    clients: Clients,
) -> None:
    ana = clients.as_user("ana")
    token = csrf_of(ana.get("/time").text)
    wrong = ana.post(
        "/time",
        data={"member_id": "nobody", "date": "someday", "minutes": "-5", "activity": "",
              "modality": "", "csrf_token": token},
    )  # fmt: skip
    assert wrong.status_code == 422
    for field in ("member_id", "date", "minutes", "activity", "modality"):
        assert f'id="e-{field}"' in wrong.text, field
    assert "Please correct 5 things" in wrong.text
    saved = ana.post(
        "/time",
        data={"member_id": "91234567A", "date": "2026-11-20", "minutes": "30",
              "activity": "health_promotion", "modality": "telephonic", "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.cookies.get("ecmbill_last_visit") == "health_promotion|telephonic"
    form = ana.get("/time").text
    assert '<option value="health_promotion" selected>' in form
    assert 'value="telephonic" checked' in form
    # Activities in groups, by ECM component, the unbillable ones last.
    assert form.index('label="Outreach and engagement"') < form.index('label="Not billable"')


def test_the_answer_before_saving_is_a_partial_for_the_form(clients: Clients) -> None:
    ana = clients.as_user("ana")
    token = csrf_of(ana.get("/time").text)
    partial = ana.post(
        "/time/verdict",
        data={"member_id": "93456789C", "date": "2026-11-20", "activity": "care_coordination",
              "modality": "in_person", "csrf_token": token},
    ).text  # fmt: skip
    assert 'data-reason="NOT_ENROLLED"' in partial and "<html" not in partial
    unknown = ana.post("/time/verdict", data={"member_id": "", "csrf_token": token})
    assert unknown.status_code == 200 and "verdict-answer" not in unknown.text
    outreach = ana.post(
        "/outreach/verdict",
        data={"member_id": "93456789C", "date": "2026-11-20", "method": "mail",
              "individualized": "true", "csrf_token": token},
    ).text  # fmt: skip
    assert 'data-reason="NOT_REIMBURSABLE"' in outreach
