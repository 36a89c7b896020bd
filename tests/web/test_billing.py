"""Billing in the web: closing a period through the claims service, the files a biller
downloads (837P, invoice, OTF, RTF), and a closed period refusing changes from the field.

The web world (tests/web/conftest.py): October has Maria (E1, 50 min) and Jose (E2, 30 min)
enrolled, so two claims; Rosa's time (E3) does not bill (not enrolled)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from html import unescape
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select

from ecmbill.contract import Contract
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from ecmbill.web import create_app
from tests.claims.world import configure
from tests.claims.world import write_csv as write_rows
from tests.claims.x12check import x12_errors
from tests.conftest import TODAY
from tests.web.conftest import Clients, csrf_of, log_in

OCTOBER = "2026-10"
EDIT_E1 = {
    "member_id": "91234567A",
    "date": "2026-10-05",
    "minutes": "65",
    "activity": "care_coordination",
    "modality": "in_person",
}


def close(client: TestClient, period: str = OCTOBER, **extra: str):  # type: ignore[no-untyped-def]
    """Close, confirmed (the confirmation page is tested on its own)."""
    token = csrf_of(client.get(f"/billing?period={period}").text)
    data = {"csrf_token": token, "period": period, "confirm": "yes", **extra}
    return client.post("/billing/close", data=data)


def download(client: TestClient, fmt: str, period: str = OCTOBER):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get(f"/billing?period={period}").text)
    return client.post(f"/billing/export/{fmt}", data={"csrf_token": token, "period": period})


def count(engine: Engine, table: type) -> int:
    with unit_of_work(engine) as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def problem_text(html: str) -> str:
    match = re.search(r'<div class="problem" role="alert" id="problem">(.*?)</div>', html, re.S)
    assert match, "the page shows no problem"
    return unescape(re.sub(r"<[^>]+>", " ", match[1]))


def test_closing_without_settings_names_each_bad_field_and_writes_nothing(
    clients: Clients, world: Engine
) -> None:
    configure(world)
    with unit_of_work(world) as session:
        session.delete(session.get(models.Setting, "claims.payer_id"))
        # A value stored before the checks were stricter: the close checks every field again.
        stored = session.get(models.Setting, "claims.billing_npi")
        assert stored is not None
        stored.value = "1234567890"
    response = close(clients.as_user("bill"))
    assert response.status_code == 422
    problem = problem_text(response.text)
    assert "2026-10 was not closed" in problem
    assert "billing_npi" in problem and "payer_id" in problem
    assert count(world, models.PeriodClose) == 0 and count(world, models.Claim) == 0


def test_the_biller_closes_october_and_sees_the_claims_made_then_nothing_new(
    clients: Clients, world: Engine
) -> None:
    configure(world)
    bill = clients.as_user("bill")
    response = close(bill)
    assert response.status_code == 200
    result = unescape(re.sub(r"\s+", " ", response.text))
    assert "October 2026 closed: 2 original, 0 replacement and 0 void claim(s) created" in result
    assert "ECM000000001" in result and "Garcia, Maria" in result
    assert "<strong>Closed</strong> on" in result and "Close October 2026 again" in result
    with unit_of_work(world) as session:
        (closed,) = session.scalars(select(models.PeriodClose)).all()
        assert (closed.actor, closed.claims_created) == ("web:bill", 2)
    again = unescape(close(bill).text)
    assert "Nothing new to claim for October 2026" in again
    assert count(world, models.Claim) == 2


def test_a_close_without_the_csrf_token_is_refused_and_closes_nothing(
    clients: Clients, world: Engine
) -> None:
    configure(world)
    bill = clients.as_user("bill")
    assert bill.post("/billing/close", data={"period": OCTOBER}).status_code == 403
    forged = bill.post("/billing/close", data={"period": OCTOBER, "csrf_token": "forged"})
    assert forged.status_code == 403
    assert bill.post("/billing/export/837p", data={"period": OCTOBER}).status_code == 403
    assert count(world, models.PeriodClose) == 0 and count(world, models.Claim) == 0


def test_a_period_that_has_not_ended_cannot_be_closed(clients: Clients, world: Engine) -> None:
    configure(world)
    bill = clients.as_user("bill")
    page = bill.get("/billing?period=2026-11").text
    assert "November 2026 can be closed after its last day" in page
    assert 'action="/billing/close"' not in page
    response = close(bill, "2026-11")
    assert response.status_code == 422
    assert "2026-11 has not ended yet" in problem_text(response.text)
    assert count(world, models.PeriodClose) == 0


def test_lines_near_or_past_the_timely_filing_limit_are_warned_about_on_close(
    world: Engine, contract: Contract
) -> None:
    configure(world)
    strict = contract.model_copy(update={"timely_filing_days": 40})
    bill = log_in(TestClient(create_app(world, strict, today=lambda: TODAY)), "bill")
    page = unescape(close(bill).text)
    # Maria's line starts 2026-10-05: 40 days later is 2026-11-14, before today.
    assert "Timely filing: 2 line(s) are past the filing limit (earliest deadline 2026-11-14)" in (
        page
    )


def test_the_837p_download_is_a_valid_x12_attachment_and_is_not_offered_twice(
    clients: Clients, world: Engine, tmp_path: Path
) -> None:
    configure(world)
    bill = clients.as_user("bill")
    close(bill)
    response = download(bill, "837p")
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="ecmbill-2026-10-837p-[0-9T]{15}\.txt"', disposition)
    saved = tmp_path / "october.837"
    saved.write_bytes(response.content)
    assert x12_errors(saved) == []
    assert response.text.count("CLM*ECM") == 2
    with unit_of_work(world) as session:
        exports = session.scalars(
            select(models.AuditRecord).where(models.AuditRecord.action == "export")
        ).all()
        assert {e.actor for e in exports} == {"web:bill"} and len(exports) == 2
    # As with `ecmbill claims export`, the claims are now sent: a second download has nothing.
    second = download(bill, "837p")
    assert second.status_code == 409
    assert "content-disposition" not in second.headers
    assert "No claim of 2026-10 is waiting to be written as 837p" in problem_text(second.text)
    # The format in words (issue 15): "sent as: 837P".
    assert "sent as: 837P" in bill.get("/billing?period=2026-10").text.split('id="claims-table"')[1]


def test_the_invoice_downloads_as_csv_and_xlsx_one_row_per_claim_line(
    clients: Clients, world: Engine, tmp_path: Path
) -> None:
    configure(world)
    bill = clients.as_user("bill")
    close(bill)
    as_csv = download(bill, "csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {row["member_id"] for row in rows} == {"91234567A", "92345678B"}
    as_xlsx = download(bill, "xlsx")
    assert as_xlsx.headers["content-disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None and sheet.max_row == len(rows) + 1


def test_a_claims_download_before_the_close_answers_with_a_message_not_an_empty_file(
    clients: Clients, world: Engine
) -> None:
    configure(world)
    response = download(clients.as_user("bill"), "837p")
    assert response.status_code == 409
    assert "content-disposition" not in response.headers
    assert "close the period first" in problem_text(response.text)


def test_the_tracker_files_download_as_xlsx_kept_in_the_file_history_and_the_access_log(
    clients: Clients, world: Engine, contract: Contract, tmp_path: Path
) -> None:
    bill = clients.as_user("bill")
    empty = bill.get("/billing/files/otf?period=2026-10")
    assert empty.status_code == 409 and "content-disposition" not in empty.headers
    assert "Outreach Tracker File for 2026-10 would be empty" in problem_text(empty.text)
    ana = clients.as_user("ana")
    token = csrf_of(ana.get("/outreach").text)
    attempt = {"member_id": "93456789C", "date": "2026-10-09", "method": "phone"}
    extra = {"individualized": "true", "outcome": "not_reached", "csrf_token": token}
    assert ana.post("/outreach", data={**attempt, **extra}).status_code == 200
    before = count(world, models.AuditRecord)
    otf = bill.get("/billing/files/otf?period=2026-10")
    assert otf.status_code == 200
    assert re.fullmatch(
        r'attachment; filename="ecmbill-2026-10-otf-\d{8}T\d{6}\.xlsx"',
        otf.headers["content-disposition"],
    )
    sheet = load_workbook(io.BytesIO(otf.content)).active
    assert sheet is not None and sheet.max_row == 2
    assert "93456789C" in [cell.value for cell in sheet[2]]
    assert "would be empty" in problem_text(bill.get("/billing/files/rtf?period=2026-10").text)
    # Nothing of the billing records changes; the file is kept in the file history
    # (issue 15) and the download itself is in the access log (issue 14: every download of a
    # file with PHI is recorded). An empty file, never delivered, is not kept.
    with unit_of_work(world) as session:
        added = session.scalars(
            select(models.AuditRecord).order_by(models.AuditRecord.id).offset(before)
        ).all()
        assert [(r.entity, r.action) for r in added] == [
            ("produced_file", "produce"),
            ("access", "download"),
        ]
    assert count(world, models.ProducedFile) == 1
    assert bill.get("/billing/files/mif?period=2026-10").status_code == 404


def test_a_closed_period_refuses_changes_from_the_field_with_the_reason(
    clients: Clients, world: Engine
) -> None:
    configure(world)
    ana = clients.as_user("ana")
    token = csrf_of(ana.get("/time").text)
    assert "Save changes" in ana.get("/time/E1").text  # open: she may still correct it
    close(clients.as_user("bill"))
    message = "October 2026 is closed: a biller records late changes"

    edit = ana.post("/time/E1", data={**EDIT_E1, "csrf_token": token})
    assert edit.status_code == 422 and message in edit.text
    assert "Save changes" not in ana.get("/time/E1").text
    late = ana.post("/time", data={**EDIT_E1, "date": "2026-10-30", "csrf_token": token})
    assert late.status_code == 422
    assert re.search(rf'id="e-date" role="alert">{message}', late.text)
    assert 'value="2026-10-30"' in late.text  # what she typed is kept
    deleted = ana.post("/time/E1/delete", data={"csrf_token": token})
    assert deleted.status_code == 409 and message in deleted.text
    outreach = ana.post(
        "/outreach",
        data={"member_id": "93456789C", "date": "2026-10-09", "method": "phone",
              "individualized": "true", "outcome": "not_reached", "csrf_token": token},
    )  # fmt: skip
    assert outreach.status_code == 422 and message in outreach.text
    api = ana.post(
        "/api/time-entries",
        json={**EDIT_E1, "date": "2026-10-30"},
        headers={"X-CSRF-Token": token},
    )
    assert api.status_code == 422 and message in api.text
    with unit_of_work(world) as session:
        entry = session.get(models.TimeEntry, "E1")
        assert entry is not None and (entry.minutes, entry.date) == (50, date(2026, 10, 5))
        assert session.scalar(select(func.count()).select_from(models.OutreachAttempt)) == 0
    # November is still open.
    november = ana.post(
        "/time",
        data={**EDIT_E1, "date": "2026-11-20", "csrf_token": token},
        follow_redirects=False,
    )
    assert november.status_code == 303


def test_a_late_change_a_biller_imports_is_flagged_and_claimed_by_closing_again(
    clients: Clients, world: Engine, contract: Contract, tmp_path: Path
) -> None:
    from ecmbill.imports.service import import_file

    configure(world)
    bill = clients.as_user("bill")
    close(bill)
    late = write_rows(
        tmp_path / "late.csv",
        ["entry_id", "staff_id", "member_id", "date", "minutes", "activity", "modality"],
        [["L1", "S1", "91234567A", "2026-10-28", "60", "care_coordination", "in_person"]],
    )
    assert import_file(world, "time", late, contract, actor="bill", today=TODAY).exit_code == 0
    waiting = unescape(re.sub(r"\s+", " ", bill.get("/billing?period=2026-10").text))
    assert "1 time or outreach record(s) changed since the last close: close again" in waiting
    page = unescape(re.sub(r"\s+", " ", close(bill).text))
    assert "0 original, 1 replacement and 0 void claim(s) created" in page
    assert "1 time or outreach record(s) of October 2026 changed after it was first closed" in page
    assert 'id="unclaimed"' not in bill.get("/billing?period=2026-10").text
