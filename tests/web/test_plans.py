"""Several plans on the web: plan spans on the member page, the plan today in the members list,
the plan on Billing's lists and the Billing filter by plan, "will this bill?" under the member's
plan, and a biller giving a member a plan from the member page (audited; refused for staff).
An office with one plan sees none of it.

The two-plan world: plan B bills clinical in-person time as G9008 U1 HE at $120.00 (the first
plan: U1 at $100.00). Maria is with plan B from Oct 1 to Oct 20 and has no plan after; Jose and
Rosa stay with the first plan ("Default plan")."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

from sqlalchemy import Engine, select

from ecmbill.domain.plans import DEFAULT_PLAN, PlanSpan
from ecmbill.store import models
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import unit_of_work
from tests.rating.test_plans import plan_b_toml
from tests.web.conftest import Clients, csrf_of

MARIA, JOSE = "91234567A", "92345678B"


def two_plans(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        stored_plans.add_plan(session, "b", "Plan B", plan_b_toml(), {}, actor="test")
        stored_plans.assign(
            session, PlanSpan(MARIA, "b", date(2026, 10, 1), date(2026, 10, 20)), actor="test"
        )
        stored_plans.end_plan(session, MARIA, date(2026, 10, 20), actor="test")
        for month in ("2026-10", "2026-11"):
            session.add(models.Eligibility(member_id=MARIA, month=month, plan="b", eligible=True))


def text_of(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(table|ul|section)>', html, re.S)
    assert match, f"no #{element_id} on the page"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match[1])).split())


def test_the_member_page_shows_the_members_plan_spans_in_a_two_plan_office(
    clients: Clients, world: Engine
) -> None:
    two_plans(world)
    page = clients.as_user("bill").get(f"/members/{MARIA}?period=2026-10").text
    assert text_of(page, "plan-spans") == (
        "Default plan: from the first day on file to 2026-09-30 Plan B: 2026-10-01 to 2026-10-20"
    )
    assert 'id="plan-form"' in page  # a biller may give a plan


def test_an_office_with_one_plan_sees_no_plan_on_the_member_page_and_lists(
    clients: Clients,
) -> None:
    bill = clients.as_user("bill")
    assert "Health plan" not in bill.get(f"/members/{MARIA}?period=2026-10").text
    assert "plan today" not in bill.get("/members?q=garcia").text
    billing = bill.get("/billing?period=2026-10").text
    assert 'id="plan-filter"' not in billing and "<th>Plan</th>" not in billing


def test_the_members_list_shows_each_members_plan_today(clients: Clients, world: Engine) -> None:
    # Today (the tests' clock) is after Oct 20: Maria has no plan, Jose the first plan.
    two_plans(world)
    bill = clients.as_user("bill")
    assert "no plan today" in bill.get("/members?q=garcia").text
    assert "plan today: Default plan" in bill.get("/members?q=lopez").text


def test_billing_filtered_by_plan_shows_only_that_plans_lines_at_its_rates(
    clients: Clients, world: Engine
) -> None:
    # Maria's 50 clinical in-person minutes on Oct 5 bill to plan B: 1 unit of G9008 U1 HE at
    # $120.00. Jose's 30 telephonic minutes bill to the first plan as G9012 U2 GQ.
    two_plans(world)
    bill = clients.as_user("bill")
    every = bill.get("/billing?period=2026-10").text
    lines = text_of(every, "claim-lines")
    assert "Garcia" in lines and "Lopez" in lines and "Plan B" in lines
    assert "G9008 U1 HE" in lines and "Default plan" in lines
    money = text_of(every, "money-by-code")
    assert "G9008 U1 HE" in money and "$120.00" in money

    only_b = bill.get("/billing?period=2026-10&plan=b").text
    lines = text_of(only_b, "claim-lines")
    assert "Garcia" in lines and "Lopez" not in lines and "Default plan" not in lines
    assert "1 line(s) matching: 50 minutes, 1 unit(s)" in only_b
    # The minutes per unit of plan B alone.
    assert "Service time: 50 minutes worked, 1 units billed" in only_b
    only_first = bill.get(f"/billing?period=2026-10&plan={DEFAULT_PLAN}").text
    lines = text_of(only_first, "claim-lines")
    assert "Lopez" in lines and "Garcia" not in lines
    assert bill.get("/billing?period=2026-10&plan=nosuch").status_code == 400


def test_will_this_bill_from_the_api_rates_under_the_members_plan(
    clients: Clients, world: Engine
) -> None:
    two_plans(world)
    ana = clients.as_user("ana")
    token = ana.get("/api/me").json()["csrf_token"]
    visit = {"member_id": MARIA, "minutes": "25", "activity": "care_coordination",
             "modality": "in_person"}  # fmt: skip
    with_b = ana.post(
        "/api/time-entries", json={**visit, "date": "2026-10-10"}, headers={"X-CSRF-Token": token}
    )
    assert with_b.status_code == 201
    assert (with_b.json()["code"], with_b.json()["modifiers"]) == ("G9008", ["U1", "HE"])
    no_plan = ana.post(
        "/api/time-entries", json={**visit, "date": "2026-10-25"}, headers={"X-CSRF-Token": token}
    )
    assert no_plan.status_code == 201
    assert (no_plan.json()["bills"], no_plan.json()["reason_code"]) == (False, "NO_PLAN")


def test_a_biller_gives_a_member_a_plan_from_the_member_page_audited(
    clients: Clients, world: Engine
) -> None:
    two_plans(world)
    bill = clients.as_user("bill")
    token = csrf_of(bill.get(f"/members/{JOSE}?period=2026-10").text)
    given = bill.post(
        f"/members/{JOSE}/plan",
        data={"csrf_token": token, "plan": "b", "start": "2026-10-16", "end": "",
              "period": "2026-10"},
        follow_redirects=False,
    )  # fmt: skip
    assert given.status_code == 303
    assert given.headers["location"] == f"/members/{JOSE}?period=2026-10#plans"
    with unit_of_work(world) as session:
        assert stored_plans.spans_of(session, [JOSE])[-2:] == [
            PlanSpan(JOSE, DEFAULT_PLAN, date(1900, 1, 1), date(2026, 10, 15)),
            PlanSpan(JOSE, "b", date(2026, 10, 16)),
        ]
        trail = session.scalars(
            select(models.AuditRecord).where(
                models.AuditRecord.entity == "plan_assignments",
                models.AuditRecord.actor == "web:bill",
            )
        ).all()
    assert sorted(row.action for row in trail) == ["create", "update"]
    page = bill.get(f"/members/{JOSE}?period=2026-10").text
    assert "Plan B: 2026-10-16 to open" in text_of(page, "plan-spans")

    refused = bill.post(
        f"/members/{JOSE}/plan",
        data={"csrf_token": token, "plan": "b", "start": "2026-11-10", "end": "2026-11-01"},
    )
    assert refused.status_code == 422
    # The import's rule, in the import's words: the form and a file refuse it alike.
    assert (
        "end_date: end_date is before start_date: a plan span ends on or after the day it starts"
        in refused.text
    )


def test_staff_may_not_give_a_member_a_plan(clients: Clients, world: Engine) -> None:
    two_plans(world)
    ana = clients.as_user("ana")
    page = ana.get(f"/members/{MARIA}?period=2026-10").text
    assert 'id="plan-spans"' in page and 'id="plan-form"' not in page
    token = csrf_of(page)
    refused = ana.post(
        f"/members/{MARIA}/plan",
        data={"csrf_token": token, "plan": DEFAULT_PLAN, "start": "2026-10-21"},
    )
    assert refused.status_code == 403
    with unit_of_work(world) as session:
        assert [s.plan for s in stored_plans.spans_of(session, [MARIA])] == [DEFAULT_PLAN, "b"]
