"""Several plans on the Imports and Billing pages: the plan_assignments file and each plan's
MIF / 834 imported from the page (the plan named for a plan's own file), and each plan's
Outreach Tracker and Return Transmission Files downloaded apart, of its own members. An
office with one plan sees none of it: the same choices and the same two downloads as always.

The two-plan world is test_plans.py's: Maria is with plan B from Oct 1 to Oct 20; Jose and
Rosa stay with the first plan ("Default plan")."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import Engine

from ecmbill.domain.plans import DEFAULT_PLAN, PlanSpan
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import unit_of_work
from tests.exchange.builders import mif_header, mif_row
from tests.web.conftest import Clients, csrf_of
from tests.web.test_imports import finished, text_of, upload
from tests.web.test_plans import JOSE, two_plans

ROSA = "93456789C"


def spans(engine: Engine, member: str) -> list[PlanSpan]:
    with unit_of_work(engine) as session:
        return stored_plans.spans_of(session, [member])


def test_a_one_plan_office_imports_as_always_with_no_plan_choice(clients: Clients) -> None:
    bill = clients.as_user("bill")
    page = bill.get("/imports").text
    assert 'name="plan"' not in page
    assert 'value="plan_assignments"' not in page
    refused = upload(bill, "plan_assignments", "plans.csv", b"member_id,plan,start_date\n")
    assert refused.status_code == 422
    assert "the office bills one plan: there is no plan to assign" in text_of(refused.text)


def test_a_two_plan_office_imports_a_plan_assignments_file_row_by_row(
    clients: Clients, world: Engine
) -> None:
    two_plans(world)
    bill = clients.as_user("bill")
    page = bill.get("/imports").text
    assert 'value="plan_assignments"' in page and 'id="f-plan"' in page
    rows = (
        "member_id,plan,start_date,end_date\n"
        f"{JOSE},b,2026-10-05,\n"
        f"{ROSA},zz,2026-10-01,\n"  # no such plan
    )
    words = text_of(finished(bill, upload(bill, "plan_assignments", "plans.csv", rows.encode())))
    assert "2 rows read: 1 accepted, 1 rejected." in words
    assert "3 plan plan is not a plan of this office" in words, words  # line 3, column plan
    assert spans(world, JOSE)[-1] == PlanSpan(JOSE, "b", date(2026, 10, 5), None)
    assert all(span.plan == DEFAULT_PLAN for span in spans(world, ROSA))


def test_a_plans_member_file_is_imported_for_the_plan_the_biller_names(
    clients: Clients, world: Engine
) -> None:
    two_plans(world)
    bill = clients.as_user("bill")
    mif = io.StringIO()
    writer = csv.writer(mif)
    writer.writerow(mif_header())
    writer.writerow(mif_row(JOSE, "Lopez", "Jose", "1980-03-04", assigned="2026-10-10"))
    content = mif.getvalue().encode()
    unnamed = upload(bill, "mif", "mif.csv", content)
    assert unnamed.status_code == 422
    assert "choose the plan that sent the file" in text_of(unnamed.text)
    unknown = upload(bill, "mif", "mif.csv", content, plan="zz")
    assert unknown.status_code == 422
    assert "choose the plan that sent the file" in text_of(unknown.text)
    wrong = upload(bill, "time", "time.csv", b"x\n", plan="b")
    assert wrong.status_code == 422
    assert "only the plan's member file (MIF) or 834 is imported for a plan" in text_of(wrong.text)
    words = text_of(finished(bill, upload(bill, "mif", "mif.csv", content, plan="b")))
    assert "1 rows read: 1 accepted, 0 rejected" in words, words
    assert spans(world, JOSE)[-1].plan == "b"
    assert all(span.plan == DEFAULT_PLAN for span in spans(world, ROSA))


def test_each_plan_has_its_own_tracker_files_of_its_own_members(
    clients: Clients, world: Engine
) -> None:
    two_plans(world)
    ana = clients.as_user("ana")
    token = csrf_of(ana.get("/outreach").text)
    attempt = {"member_id": ROSA, "date": "2026-10-09", "method": "phone"}
    extra = {"individualized": "true", "outcome": "not_reached", "csrf_token": token}
    assert ana.post("/outreach", data={**attempt, **extra}).status_code == 200
    bill = clients.as_user("bill")
    page = bill.get("/billing?period=2026-10").text
    assert re.findall(r'class="plan-download" data-plan="([^"]+)"', page) == [
        DEFAULT_PLAN, DEFAULT_PLAN, "b", "b"
    ]  # fmt: skip
    unnamed = bill.get("/billing/files/otf?period=2026-10")
    assert unnamed.status_code == 422 and "content-disposition" not in unnamed.headers
    assert "Choose whose Outreach Tracker File to download" in text_of(unnamed.text)
    assert bill.get("/billing/files/otf?period=2026-10&plan=zz").status_code == 400

    def rosa_in_tracker_of(plan: str) -> bool:
        otf = bill.get(f"/billing/files/otf?period=2026-10&plan={plan}")
        if otf.status_code == 409:
            assert "would be empty" in text_of(otf.text)
            return False
        assert otf.status_code == 200, text_of(otf.text)
        assert re.fullmatch(
            rf'attachment; filename="ecmbill-2026-10-otf-\d{{8}}T\d{{6}}-{plan}\.xlsx"',
            otf.headers["content-disposition"],
        )
        sheet = load_workbook(io.BytesIO(otf.content)).active
        assert sheet is not None
        return ROSA in {cell.value for row in sheet.iter_rows(min_row=2) for cell in row}

    assert (rosa_in_tracker_of(DEFAULT_PLAN), rosa_in_tracker_of("b")) == (True, False)
    with unit_of_work(world) as session:  # Rosa moves to plan B for the whole month
        stored_plans.assign(session, PlanSpan(ROSA, "b", date(2026, 10, 1), None), actor="t")
    assert (rosa_in_tracker_of(DEFAULT_PLAN), rosa_in_tracker_of("b")) == (False, True)


def test_a_one_plan_office_keeps_its_two_tracker_downloads(clients: Clients) -> None:
    page = clients.as_user("bill").get("/billing?period=2026-10").text
    assert 'class="plan-download"' not in page
    assert 'href="/billing/files/otf?period=2026-10"' in page
