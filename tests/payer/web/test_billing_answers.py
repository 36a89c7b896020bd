"""The payer's answers in the web: a 277CA uploaded on the Billing page, the work list, a
claim's page with its timeline, the month's 270 as a download. The web world
(tests/web/conftest.py): October's claims are ECM000000001 (Maria) and ECM000000002 (Jose)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from ecmbill.x12.validation import envelope_errors
from tests.claims.world import configure
from tests.web.conftest import Clients, csrf_of

FIXTURES = Path(__file__).parents[1] / "fixtures"
OCTOBER = "2026-10"


def token(client: TestClient) -> str:
    return csrf_of(client.get(f"/billing?period={OCTOBER}").text)


def upload(client: TestClient, name: str, content: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        "/billing/answers",
        data={"csrf_token": token(client), "period": OCTOBER},
        files={"file": (name, content, "application/edi-x12")},
    )


def test_a_277ca_uploaded_on_billing_puts_a_rejected_claim_on_the_work_list_and_its_page(
    world: Engine, clients: Clients
) -> None:
    configure(world)
    bill = clients.as_user("bill")
    closed = bill.post(
        "/billing/close", data={"csrf_token": token(bill), "period": OCTOBER, "confirm": "yes"}
    )
    assert closed.status_code == 200
    sent = bill.post("/billing/export/837p", data={"csrf_token": token(bill), "period": OCTOBER})
    assert sent.status_code == 200
    page = upload(bill, "claims.277", (FIXTURES / "claims.277").read_bytes())
    assert page.status_code == 200
    assert "5 claim answer(s), 3 accepted, 2 rejected; 1 claim(s) of ours now on" in page.text
    assert "ECM999999999 rejected (no claim of ours has this number)" in page.text
    assert 'id="rejected-table"' in page.text and "Diagnosis code" in page.text
    again = upload(bill, "claims.277", (FIXTURES / "claims.277").read_bytes())
    assert "imported before: nothing changed" in again.text
    claim = bill.get("/billing/claims/ECM000000001")
    assert claim.status_code == 200
    for step in ("created", "sent", "claim rejected"):
        assert f"<strong>{step}</strong>" in claim.text
    assert bill.get("/billing/claims/ECM000000999").status_code == 404


def test_a_bad_answer_is_refused_with_the_reason(world: Engine, clients: Clients) -> None:
    bill = clients.as_user("bill")
    refused = upload(bill, "x.277", (FIXTURES / "truncated.277").read_bytes())
    assert refused.status_code == 422
    assert "was not imported; nothing changed" in refused.text and "truncated" in refused.text


def test_the_months_270_downloads_from_billing(world: Engine, clients: Clients) -> None:
    configure(world)
    bill = clients.as_user("bill")
    response = bill.post(
        "/billing/eligibility/270", data={"csrf_token": token(bill), "period": OCTOBER}
    )
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("ascii")
    assert "*005010X279A1~" in text and envelope_errors(text) == []
