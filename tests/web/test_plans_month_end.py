"""Month end on the web in an office with several plans: the close's confirmation says each
plan's expected dollars at its own rates, the close claims every plan, and the Billing page
offers one claims file per payer, named after its plans and payer, each holding only that
payer's claims (pyx12-clean). An office with one plan downloads one file as always.

The two-plan world (tests/web/test_plans.py): Maria is with plan B (its own payer,
SECONDPLAN) from Oct 1 to Oct 20; her 50 clinical in-person minutes on Oct 5 bill plan B as
1 unit of G9008 U1 HE at $120.00. Jose stays with the first plan ("Default plan", payer
TESTPLAN): his 30 telephonic minutes bill 1 unit of G9012 U2 GQ at $75.00."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

from sqlalchemy import Engine, select

from ecmbill.claims.settings import plan_settings, set_plan_payer
from ecmbill.claims.views import list_claims
from ecmbill.demo.payer_835 import payer_835
from ecmbill.domain.period import Period
from ecmbill.domain.plans import DEFAULT_PLAN
from ecmbill.remit.post import import_835
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.claims.test_plans import PLAN_B_PAYER, segments
from tests.claims.world import configure
from tests.claims.x12check import x12_errors
from tests.web.conftest import Clients, csrf_of
from tests.web.test_billing import OCTOBER, close
from tests.web.test_plans import JOSE, MARIA, two_plans


def words(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def two_payers(engine: Engine) -> None:
    configure(engine)
    two_plans(engine)
    set_plan_payer(engine, "b", PLAN_B_PAYER, actor="test")


def download_for(client, fmt: str, plan: str | None):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get(f"/billing?period={OCTOBER}").text)
    data = {"csrf_token": token, "period": OCTOBER}
    if plan is not None:
        data["plan"] = plan
    return client.post(f"/billing/export/{fmt}", data=data)


def file_name(response) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r'filename="([^"]+)"', response.headers["content-disposition"])
    assert found is not None
    return found[1]


def test_the_close_confirmation_says_each_plans_expected_dollars_at_its_own_rates(
    clients: Clients, world: Engine
) -> None:
    two_payers(world)
    bill = clients.as_user("bill")
    token = csrf_of(bill.get(f"/billing?period={OCTOBER}").text)
    asked = bill.post("/billing/close", data={"csrf_token": token, "period": OCTOBER})
    assert asked.status_code == 200
    text = words(asked.text)
    # $120.00 (plan B's U1 HE) + $75.00 (the first plan's U2 GQ) = $195.00.
    assert "2 claim line(s)" in text and "2 unit(s), $195.00 expected" in text
    by_plan = re.search(r'id="close-by-plan">(.*?)</ul>', asked.text, re.S)
    assert by_plan is not None
    assert words(by_plan[1]) == (
        "Default plan: 1 claim line(s), 1 unit(s), $75.00 expected at its contract's rates "
        "Plan B: 1 claim line(s), 1 unit(s), $120.00 expected at its contract's rates"
    )


def test_a_one_plan_office_confirms_the_close_without_a_plan_list(
    clients: Clients, world: Engine
) -> None:
    configure(world)
    bill = clients.as_user("bill")
    token = csrf_of(bill.get(f"/billing?period={OCTOBER}").text)
    asked = bill.post("/billing/close", data={"csrf_token": token, "period": OCTOBER})
    assert asked.status_code == 200 and 'id="close-by-plan"' not in asked.text


def test_a_two_plan_month_closed_on_the_web_downloads_one_clean_837p_per_payer(
    clients: Clients, world: Engine, tmp_path: Path
) -> None:
    two_payers(world)
    bill = clients.as_user("bill")
    assert close(bill).status_code == 200
    with unit_of_work(world) as session:
        claims = {
            c.member_id: (c.plan, c.patient_control_number)
            for c in session.scalars(select(models.Claim))
        }
    assert {member: plan for member, (plan, _) in claims.items()} == {
        JOSE: DEFAULT_PLAN,
        MARIA: "b",
    }
    page = bill.get(f"/billing?period={OCTOBER}").text
    offered = re.findall(
        r'<li class="payer-download" data-payer="(\w+)">.*?name="plan" value="(\w+)">'
        r"\s*<button[^>]*>([^<]+)</button>\s*<small>([^<]+)</small>",
        page,
        re.S,
    )
    assert [(payer, plan, unescape(label), unescape(note)) for payer, plan, label, note in
            offered[::3]] == [
        ("TESTPLAN", DEFAULT_PLAN, "837P claims (X12), Default plan",
         "to Test Health Plan (TESTPLAN): 1 claim(s) not yet sent in this format"),
        ("SECONDPLAN", "b", "837P claims (X12), Plan B",
         "to Second Health Plan (SECONDPLAN): 1 claim(s) not yet sent in this format"),
    ]  # fmt: skip
    assert len(offered) == 6  # 837P, CSV and XLSX for each payer

    for plan, payer, member in ((DEFAULT_PLAN, "TESTPLAN", JOSE), ("b", "SECONDPLAN", MARIA)):
        got = download_for(bill, "837p", plan)
        assert got.status_code == 200
        name = file_name(got)
        assert re.fullmatch(rf"ecmbill-2026-10-837p-\d{{8}}T\d{{6}}-{plan}-{payer}\.txt", name)
        path = tmp_path / name
        path.write_bytes(got.content)
        assert x12_errors(path) == [], name
        assert {s[9] for s in segments(path) if s[:2] == ["NM1", "PR"]} == {payer}
        assert [s[1] for s in segments(path) if s[0] == "CLM"] == [claims[member][1]]
        # Sent: the same payer's next 837P has nothing new; the other payer's is untouched.
        assert download_for(bill, "837p", plan).status_code == 409
    page = bill.get(f"/billing?period={OCTOBER}").text
    assert "1 claim(s) not yet sent in this format" in page  # the invoices are still to send
    assert "SECONDPLAN.txt" in page and "TESTPLAN.txt" in page  # both in the file history


def test_a_two_plan_download_must_name_a_known_plan(clients: Clients, world: Engine) -> None:
    two_payers(world)
    bill = clients.as_user("bill")
    close(bill)
    missing = download_for(bill, "837p", None)
    assert missing.status_code == 422
    assert "Choose whose claims to download: each payer has its own file." in missing.text
    assert download_for(bill, "837p", "nosuch").status_code == 400
    with unit_of_work(world) as session:
        assert session.scalars(select(models.ClaimExport)).all() == []


def test_a_one_plan_office_downloads_one_file_as_always(clients: Clients, world: Engine) -> None:
    configure(world)
    bill = clients.as_user("bill")
    close(bill)
    page = bill.get(f"/billing?period={OCTOBER}").text
    assert 'class="payer-download"' not in page
    got = download_for(bill, "837p", None)
    assert got.status_code == 200
    assert re.fullmatch(r"ecmbill-2026-10-837p-\d{8}T\d{6}\.txt", file_name(got))


def answered_by_both_payers(engine: Engine, folder: Path) -> None:
    """Each payer pays 80% of its claim's first line (CO 45 for the rest): one denial item a
    plan, Jose's of the first plan and Maria's of plan B. (The demo payer never answers the
    first claim it is given, so each claim is given twice.)"""
    views = {claim.member_id: claim for claim in list_claims(engine, Period.parse(OCTOBER))}
    for plan, member in ((DEFAULT_PLAN, JOSE), ("b", MARIA)):
        text = payer_835([views[member], views[member]], plan_settings(engine, plan),
                         datetime(2026, 11, 20, tzinfo=UTC), f"TRN-{plan}")  # fmt: skip
        path = folder / f"{plan}.835"
        path.write_text(text, encoding="ascii")
        assert import_835(engine, path, actor="test").posted


def denied_members(html: str) -> list[str]:
    table = re.search(r'id="denial-list".*?<tbody>(.*?)</tbody>', html, re.S)
    assert table is not None
    return re.findall(r"<small>(\d{8}[A-Z])</small>", table[1])


def test_the_denial_list_filters_by_plan_and_offers_the_choice_only_with_several_plans(
    clients: Clients, world: Engine, tmp_path: Path
) -> None:
    two_payers(world)
    bill = clients.as_user("bill")
    close(bill)
    answered_by_both_payers(world, tmp_path)
    every = bill.get("/remittances/denials").text
    assert 'id="f-plan"' in every
    assert sorted(denied_members(every)) == sorted([JOSE, MARIA])
    only_b = bill.get("/remittances/denials?plan=b").text
    assert denied_members(only_b) == [MARIA]
    assert "1 denial(s) open of Plan B" in words(only_b)
    assert "plan=b" in re.search(r'href="(/remittances/denials/export.csv[^"]*)"', only_b)[1]
    assert denied_members(bill.get(f"/remittances/denials?plan={DEFAULT_PLAN}").text) == [JOSE]
    exported = bill.get("/remittances/denials/export.csv?plan=b&status=all")
    assert exported.status_code == 200
    assert MARIA in exported.text and JOSE not in exported.text
    assert bill.get("/remittances/denials?plan=nosuch").status_code == 400
    assert bill.get("/remittances/denials/export.csv?plan=nosuch").status_code == 400


def test_a_one_plan_office_has_no_plan_choice_on_the_denial_list(
    clients: Clients, world: Engine
) -> None:
    bill = clients.as_user("bill")
    assert 'id="f-plan"' not in bill.get("/remittances/denials").text
    assert bill.get(f"/remittances/denials?plan={DEFAULT_PLAN}").status_code == 200
    assert bill.get("/remittances/denials?plan=nosuch").status_code == 400


def test_the_remittances_page_and_its_export_filter_by_plan(
    clients: Clients, world: Engine, tmp_path: Path
) -> None:
    # Maria's plan B claim: 1 unit at $120.00, paid 80% = $96.00 (CO 45 $24.00). Jose's first
    # plan claim: 1 unit at $75.00, paid $60.00 (CO 45 $15.00).
    two_payers(world)
    bill = clients.as_user("bill")
    close(bill)
    answered_by_both_payers(world, tmp_path)
    every = bill.get("/remittances").text
    assert 'id="f-plan"' in every
    assert words(every).count("2 claim(s):") == 1
    only_b = bill.get("/remittances?plan=b").text
    assert (
        "1 claim(s) of Plan B: 0 paid, 1 partial, 0 denied, 0 reversed, 0 no answer yet."
        in words(only_b)
    )
    money = re.search(r'id="money-h">.*?</table>', only_b, re.S)
    assert money is not None
    assert "Money, Plan B" in words(money[0])
    assert "2026-10 1 120.00 96.00 24.00 0.00 0.00 0.00" in words(money[0])
    assert "Garcia, Maria" in only_b and "Lopez" not in only_b
    first = words(bill.get(f"/remittances?plan={DEFAULT_PLAN}").text)
    assert "2026-10 1 75.00 60.00 15.00 0.00 0.00 0.00" in first
    exported = bill.get("/remittances/export.csv?plan=b")
    assert exported.status_code == 200
    with unit_of_work(world) as session:
        pcn = {c.member_id: c.patient_control_number for c in session.scalars(select(models.Claim))}
    assert pcn[MARIA] in exported.text and pcn[JOSE] not in exported.text
    assert bill.get("/remittances?plan=nosuch").status_code == 400
    assert bill.get("/remittances/export.csv?plan=nosuch").status_code == 400


def test_a_one_plan_office_has_no_plan_choice_on_the_remittances_page(
    clients: Clients, world: Engine
) -> None:
    bill = clients.as_user("bill")
    assert 'id="f-plan"' not in bill.get("/remittances").text
    assert bill.get("/remittances?plan=nosuch").status_code == 400
