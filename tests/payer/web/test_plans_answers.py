"""The payer's answers on the Billing page of an office with several plans: one 270 a plan,
to its payer, about its members; a 271 applied as the eligibility of the plan whose payer
sent it, or of the plan the biller chooses when the file cannot say. The web world is
tests/web/test_plans.py's: Maria is with plan B (payer PLANBPAY) from Oct 1 to Oct 20."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine

from ecmbill.claims.settings import set_plan_payer
from ecmbill.domain.plans import DEFAULT_PLAN
from ecmbill.x12.validation import envelope_errors
from tests.claims.world import configure
from tests.payer.test_plans_eligibility import answer_from
from tests.payer.web.test_billing_answers import OCTOBER, token, upload
from tests.web.conftest import Clients
from tests.web.test_imports import text_of
from tests.web.test_plans import MARIA, two_plans


def test_each_plan_has_its_own_270_and_a_271_is_its_payers_plans(
    world: Engine, clients: Clients, tmp_path: Path
) -> None:
    configure(world)
    two_plans(world)
    set_plan_payer(world, "b", {"payer_id": "PLANBPAY", "payer_name": "PLAN B"}, "test")
    bill = clients.as_user("bill")
    page = bill.get(f"/billing?period={OCTOBER}").text
    assert re.findall(r'class="inline plan-270" data-plan="([^"]+)"', page) == [DEFAULT_PLAN, "b"]
    ask = {"csrf_token": token(bill), "period": OCTOBER}
    unnamed = bill.post("/billing/eligibility/270", data=ask)
    assert unnamed.status_code == 422 and "content-disposition" not in unnamed.headers
    assert "Choose whose 270 to download" in text_of(unnamed.text)
    response = bill.post("/billing/eligibility/270", data={**ask, "plan": "b"})
    assert response.status_code == 200
    assert re.search(r'filename="ecmbill-2026-10-270-\d{8}T\d{6}-b\.txt"',
                     response.headers["content-disposition"])  # fmt: skip
    text = response.content.decode("ascii")
    assert envelope_errors(text) == []
    assert "NM1*PR*2*PLAN B*****PI*PLANBPAY~" in text and f"*MI*{MARIA}~" in text
    assert text.count("NM1*IL*") == 1

    stranger = answer_from("THIRDPAY", tmp_path)
    refused = upload(bill, stranger.name, stranger.read_bytes())
    assert refused.status_code == 422
    assert "it is none of the plans' payers" in text_of(refused.text)
    theirs = answer_from("PLANBPAY", tmp_path)
    applied = upload(bill, theirs.name, theirs.read_bytes())
    assert applied.status_code == 200
    assert "271 (Plan B):" in text_of(applied.text)
    chosen = bill.post(
        "/billing/answers",
        data={"csrf_token": token(bill), "period": OCTOBER, "plan": "b"},
        files={"file": (stranger.name, stranger.read_bytes(), "application/edi-x12")},
    )
    assert chosen.status_code == 200 and "271 (Plan B):" in text_of(chosen.text)
