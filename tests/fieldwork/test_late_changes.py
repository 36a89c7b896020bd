"""Late changes: with October closed, a care manager's October visit is not refused outright:
it goes to the biller, waits on Billing, and once accepted is one of October's unclaimed
changes, which the next close claims (a replacement claim). Refusing records nothing. Each
step is in the audit trail. On SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.fieldwork.test_closed_period import VISIT, october_closed  # noqa: F401
from tests.web.conftest import csrf_of, log_in

LATE_VISIT = {**VISIT, "date": "2026-10-28", "minutes": "45"}


def audited(engine: Engine, entity: str) -> list[models.AuditRecord]:
    with unit_of_work(engine) as session:
        return list(
            session.scalars(select(models.AuditRecord).where(models.AuditRecord.entity == entity))
        )


def test_a_late_visit_waits_for_the_biller_and_the_next_close_claims_it(
    october_closed: tuple[Engine, TestClient],  # noqa: F811
) -> None:
    engine, ana = october_closed
    token = csrf_of(ana.get("/time").text)
    refused = ana.post("/time", data={**LATE_VISIT, "csrf_token": token})
    assert refused.status_code == 422
    assert "Send to the biller as a late change" in refused.text
    sent = ana.post(
        "/time", data={**LATE_VISIT, "late": "1", "csrf_token": token}, follow_redirects=False
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/time?late=sent"
    with unit_of_work(engine) as session:
        assert session.get(models.TimeEntry, "LATE-1") is None  # nothing billed yet

    bill = log_in(TestClient(ana.app), "bill")
    billing = bill.get("/billing?period=2026-10").text
    assert "Late changes waiting (1)" in billing and "45 min" in billing
    accepted = bill.post(
        "/billing/late/1/accept",
        data={"csrf_token": csrf_of(billing), "period": "2026-10"},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    with unit_of_work(engine) as session:
        entry = session.get(models.TimeEntry, "LATE-1")
        assert entry is not None and (entry.staff_id, entry.minutes) == ("S1", 45)
    after = bill.get("/billing?period=2026-10").text
    assert "Late changes waiting" not in after
    assert 'id="unclaimed"' in after  # the after-close change the next close claims
    closed_again = bill.post(
        "/billing/close",
        data={"csrf_token": csrf_of(after), "period": "2026-10", "confirm": "yes"},
    )
    assert "replacement" in closed_again.text.lower()
    assert [r.action for r in audited(engine, "late_change")] == ["create", "update"]
    # Accepting twice records it once.
    again = bill.post(
        "/billing/late/1/accept", data={"csrf_token": csrf_of(after), "period": "2026-10"}
    )
    assert again.status_code == 409


def test_a_refused_late_change_records_nothing(
    october_closed: tuple[Engine, TestClient],  # noqa: F811
) -> None:
    engine, ana = october_closed
    token = csrf_of(ana.get("/time").text)
    ana.post("/time", data={**LATE_VISIT, "late": "1", "csrf_token": token})
    bill = log_in(TestClient(ana.app), "bill")
    page = bill.get("/billing?period=2026-10").text
    refused = bill.post(
        "/billing/late/1/refuse",
        data={"csrf_token": csrf_of(page), "period": "2026-10", "reason": "visit was in November"},
        follow_redirects=False,
    )
    assert refused.status_code == 303
    with unit_of_work(engine) as session:
        assert session.get(models.TimeEntry, "LATE-1") is None
    (update,) = [r for r in audited(engine, "late_change") if r.action == "update"]
    assert update.reason == "visit was in November"
