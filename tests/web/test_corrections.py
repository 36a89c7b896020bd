"""Issue 12, items 1-3 through the web: a biller corrects an enrollment span and a role period
and deletes an entry and an attempt recorded in error, after the month was closed. On SQLite
and PostgreSQL, with the rating before and after and the claims of the next close."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from ecmbill.contract import Contract
from ecmbill.domain.claims import Action
from ecmbill.web import create_app
from tests.conftest import TODAY
from tests.members.desk import Desk
from tests.web.conftest import csrf_of, log_in, seed

A, B, C = "91234567A", "92345678B", "93456789C"


@pytest.fixture
def desk(engine: Engine, contract: Contract, tmp_path: Path) -> Desk:
    """The web tests' provider on SQLite and PostgreSQL, with claim settings."""
    seed(engine, contract, tmp_path)
    desk = Desk(engine, tmp_path)
    from tests.claims.world import configure

    configure(engine)
    return desk


def biller(engine: Engine) -> TestClient:
    return log_in(TestClient(create_app(engine, today=lambda: TODAY)), "bill")


def post(client: TestClient, path: str, **form: str) -> str:
    token = csrf_of(client.get("/corrections").text)
    response = client.post(path, data={**form, "csrf_token": token})
    assert response.status_code == 200, response.text
    return unescape(response.text)


def test_1_an_enrollment_start_date_can_be_corrected_on_the_web(desk: Desk) -> None:
    desk.load("enrollments", f"member_id,start_date,end_date\n{C},2026-10-10,")
    desk.load("time", f"entry_id,staff_id,member_id,date,minutes,activity,modality\n"
                      f"E4,S2,{C},2026-10-12,30,care_coordination,in_person")  # fmt: skip
    before = [line for line in desk.lines() if line[0] == C]
    assert before == [(C, "G9012", "U2", 30, 1)]
    assert desk.not_billed() == {"E3": "NOT_ENROLLED"}
    assert desk.close() == {A: Action.ORIGINAL, B: Action.ORIGINAL, C: Action.ORIGINAL}

    bill = biller(desk.engine)
    page = bill.get(f"/corrections?member_id={C}").text
    assert 'name="start" value="2026-10-10"' in page
    member_page = bill.get(f"/members/{C}?period=2026-10").text
    assert f'href="/corrections?member_id={C}"' in member_page
    done = post(
        bill, "/corrections/span", member_id=C, start="2026-10-10", new_start="2026-10-01",
        new_end="", reason="keyed 10-10 for 10-01",
    )  # fmt: skip
    assert "Corrected: enrollment span from 2026-10-10 to open: now from 2026-10-01 to open" in done
    assert re.search(r"G9012 U2 ×1</td>\s*<td>G9012 U2 ×1</td>\s*<td>closed: close 2026-10", done)

    assert [line for line in desk.lines() if line[0] == C] == [(C, "G9012", "U2", 50, 1)]
    assert desk.not_billed() == {}
    assert desk.close() == {C: Action.REPLACEMENT}  # the first date of service moved
    assert desk.audit("enrollments")[-1] == ("update", f"{C}/2026-10-10", "keyed 10-10 for 10-01")


def test_2_a_role_start_date_can_be_corrected_on_the_web(desk: Desk) -> None:
    desk.load("staff", "staff_id,name,role,npi,effective_from,effective_to\n"
                       "S4,Sam New,clinical,,2026-10-10,")  # fmt: skip
    desk.load("time", "entry_id,staff_id,member_id,date,minutes,activity,modality\n"
                      f"E5,S4,{A},2026-10-02,30,care_coordination,in_person")  # fmt: skip
    assert [line for line in desk.lines() if line[0] == A] == [(A, "G9008", "U1", 50, 1)]
    assert desk.not_billed()["E5"] == "NO_ROLE"
    assert desk.close()[A] is Action.ORIGINAL

    bill = biller(desk.engine)
    assert 'name="start" value="2026-10-10"' in bill.get("/corrections?staff_id=S4").text
    token = csrf_of(bill.get("/corrections").text)
    refused = bill.post(
        "/corrections/role",
        data={"staff_id": "S4", "start": "2026-10-10", "new_from": "2026-10-01",
              "role": "clinical", "reason": " ", "csrf_token": token},
    )  # fmt: skip
    assert refused.status_code == 422 and "give a reason" in refused.text
    done = post(
        bill, "/corrections/role", staff_id="S4", start="2026-10-10", new_from="2026-10-01",
        new_to="", role="clinical", reason="started on the 1st",
    )  # fmt: skip
    assert "now clinical from 2026-10-01 to open" in done
    assert "G9008 U1 ×2" in done

    assert [line for line in desk.lines() if line[0] == A] == [(A, "G9008", "U1", 80, 2)]
    assert "E5" not in desk.not_billed()
    assert desk.close() == {A: Action.REPLACEMENT}


def test_3_an_entry_recorded_in_error_can_be_deleted_on_the_web_after_the_close(
    desk: Desk,
) -> None:
    desk.load("outreach", "attempt_id,staff_id,member_id,date,method,individualized,outcome\n"
                          f"O1,S1,{C},2026-10-08,phone,true,not_reached")  # fmt: skip
    assert desk.lines() == [
        (A, "G9008", "U1", 50, 1), (B, "G9012", "U2 GQ", 30, 1), (C, "G9008", "U8 GQ", 0, 1),
    ]  # fmt: skip
    assert desk.close() == {A: Action.ORIGINAL, B: Action.ORIGINAL, C: Action.ORIGINAL}

    # The care manager can no longer change her closed month; the biller can.
    ana = log_in(TestClient(create_app(desk.engine, today=lambda: TODAY)), "ana")
    token = csrf_of(ana.get("/time").text)
    assert ana.post("/time/E1/delete", data={"csrf_token": token}).status_code == 409
    bill = biller(desk.engine)
    done = post(bill, "/corrections/delete", kind="time", record_id="E1",
                reason="visit never happened")  # fmt: skip
    assert "Corrected: time entry E1: deleted" in done and "nothing billed" in done
    done = post(bill, "/corrections/delete", kind="outreach", record_id="O1",
                reason="wrong member")  # fmt: skip
    assert "outreach attempt O1: deleted" in done

    assert desk.lines() == [(B, "G9012", "U2 GQ", 30, 1)]
    assert desk.close() == {A: Action.VOID, C: Action.VOID}
    assert desk.audit("time")[-1] == ("delete", "E1", "visit never happened")
    assert desk.audit("outreach")[-1] == ("delete", "O1", "wrong member")
