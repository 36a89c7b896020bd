"""Billing in the web, issue 15: the file history (download again, same checksum), the close's
confirmation, an admin reopening a period, lists a page at a time with filters, sorting and
totals, the not-billed list as CSV/XLSX, and plain words.

The web world (tests/web/conftest.py): October has Maria (E1, 50 min) and Jose (E2, 30 min)
enrolled, so two claims; Rosa's time (E3) does not bill (not enrolled)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from html import unescape
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import Engine, select

from ecmbill.contract import Contract
from ecmbill.imports.service import import_file
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.claims.world import configure
from tests.conftest import TODAY
from tests.web.conftest import Clients, csrf_of
from tests.web.test_billing import OCTOBER, close, count, download


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_the_837p_downloads_again_from_the_file_history_with_the_same_checksum(
    clients: Clients, world: Engine
) -> None:
    configure(world)
    bill = clients.as_user("bill")
    close(bill)
    first = download(bill, "837p")
    assert first.status_code == 200
    name = re.search(r'filename="([^"]+)"', first.headers["content-disposition"])
    assert name is not None
    assert download(bill, "837p").status_code == 409  # "not yet sent" stays the default
    page = bill.get(f"/billing?period={OCTOBER}").text
    assert "Files produced for October 2026" in page and name[1] in page
    history = bill.get(f"/billing/history?period={OCTOBER}").text
    checksum = hashlib.sha256(first.content).hexdigest()
    assert checksum in history and "web:bill" in history
    (link,) = re.findall(r'href="(/billing/history/\d+)"', history)
    again = bill.get(link)
    assert again.status_code == 200
    assert again.headers["content-disposition"] == f'attachment; filename="{name[1]}"'
    assert hashlib.sha256(again.content).hexdigest() == checksum
    with unit_of_work(world) as session:
        trail = session.execute(
            select(models.AuditRecord.entity, models.AuditRecord.action, models.AuditRecord.after)
            .order_by(models.AuditRecord.id.desc())
            .limit(2)
        ).all()
        exports = session.scalars(select(models.ClaimExport)).all()
    # Taken again: audited and in the access log as a download of a file with PHI; nothing
    # more is recorded as sent.
    assert [(e, a) for e, a, _ in trail] == [("access", "download"), ("produced_file", "download")]
    assert "file history" in trail[0][2] and len(exports) == 2
    assert bill.get("/billing/history/999999").status_code == 404
    assert bill.get("/billing/history/x1").status_code == 404
    assert bill.get("/billing/history?kind=zip").status_code == 400
    assert clients.as_user("ana").get(link).status_code == 403


def test_close_asks_first_saying_what_it_will_close_and_an_empty_month_says_nothing_to_close(
    clients: Clients, world: Engine
) -> None:
    configure(world)
    bill = clients.as_user("bill")
    token = csrf_of(bill.get("/billing?period=2026-10").text)
    asked = bill.post("/billing/close", data={"csrf_token": token, "period": OCTOBER})
    assert asked.status_code == 200
    words = text_of(asked.text)
    # Maria 50 min and Jose 30 min: one unit each, 2 lines, 1 entry (Rosa's) does not bill.
    assert "Close October 2026?" in words
    assert re.search(r"2 claim line\(s\) from 2 time or outreach entries of 2 member\(s\): "
                     r"2 unit\(s\), \$[\d,]+\.\d\d expected", words)  # fmt: skip
    assert 'name="confirm" value="yes"' in asked.text
    assert count(world, models.PeriodClose) == 0  # asked, not closed
    empty = bill.post("/billing/close", data={"csrf_token": token, "period": "2026-09"})
    assert "Nothing to close: no time entry or outreach attempt of September 2026 bills" in (
        text_of(empty.text)
    )
    assert count(world, models.PeriodClose) == 0


def test_an_admin_reopens_a_period_closed_by_mistake_until_a_claim_of_it_is_sent(
    clients: Clients, world: Engine
) -> None:
    configure(world)
    bill, ada = clients.as_user("bill"), clients.as_user("ada")
    close(bill)
    assert "an admin can reopen October 2026" in text_of(bill.get("/billing?period=2026-10").text)
    assert "Reopen a closed period" in ada.get("/admin").text
    listed = ada.get("/billing/reopen").text
    assert 'href="/billing/reopen?period=2026-10"' in listed
    asked = ada.get("/billing/reopen?period=2026-10").text
    assert "Reopen 2026-10?" in asked and 'name="confirm" value="yes"' in asked
    token = csrf_of(asked)
    unconfirmed = ada.post("/billing/reopen", data={"csrf_token": token, "period": "2026-10"})
    assert "Reopen 2026-10?" in unconfirmed.text and count(world, models.PeriodClose) == 1
    done = ada.post(
        "/billing/reopen",
        data={"csrf_token": token, "period": "2026-10", "confirm": "yes", "reason": "too early"},
    )
    assert "2026-10 reopened: 2 claim(s) and 1 close(s) undone" in text_of(done.text)
    assert count(world, models.PeriodClose) == 0 and count(world, models.Claim) == 0
    with unit_of_work(world) as session:
        reopened = session.scalar(
            select(models.AuditRecord).where(models.AuditRecord.entity == "period_reopen")
        )
        assert reopened is not None and reopened.actor == "web:ada"
        assert reopened.reason == "too early"
    close(bill)
    download(bill, "csv")
    refused = ada.post(
        "/billing/reopen",
        data={"csrf_token": token, "period": "2026-10", "confirm": "yes", "reason": "again"},
    )
    assert refused.status_code == 409 and "already sent" in text_of(refused.text)
    assert count(world, models.PeriodClose) == 1


def add_not_billed_time(engine: Engine, contract: Contract, folder: Path, entries: int) -> None:
    """Rosa is not enrolled: each of her entries is one not-billed item."""
    rows = "\n".join(
        f"R{n:03d},S2,93456789C,2026-10-{1 + n % 28:02d},15,care_coordination,in_person,"
        for n in range(entries)
    )
    path = folder / "rosa.csv"
    path.write_text(
        "entry_id,staff_id,member_id,date,minutes,activity,modality,note\n" + rows + "\n",
        encoding="utf-8",
    )
    result = import_file(engine, "time", path, contract, actor="test", today=TODAY)
    assert result.exit_code == 0, result.rejections


def test_the_not_billed_list_pages_filters_sorts_and_exports_with_its_totals_above(
    clients: Clients, world: Engine, contract: Contract, tmp_path: Path
) -> None:
    add_not_billed_time(world, contract, tmp_path, 40)
    bill = clients.as_user("bill")
    page = bill.get("/billing?period=2026-10").text
    table = page.split('id="not-billed"')[1].split("</table>")[0]
    assert table.count("<tr>") == 1 + 10  # the heading and one page of 10
    assert "41 entries not billed" in text_of(page)  # E3 and Rosa's 40
    assert "1–10 of 41 · page 1 of 5" in text_of(page)
    last = bill.get("/billing?period=2026-10&n_page=5").text
    assert "41–41 of 41 · page 5 of 5" in text_of(last)
    assert last.split('id="not-billed"')[1].split("</table>")[0].count("<tr>") == 1 + 1
    past_the_end = bill.get("/billing?period=2026-10&n_page=9")
    assert "41–41 of 41 · page 5 of 5" in text_of(past_the_end.text)
    newest = bill.get("/billing?period=2026-10&n_sort=-date").text
    dates = re.findall(r"<tr><td>(2026-10-\d\d)</td>", newest.split('id="not-billed"')[1])
    assert dates == sorted(dates, reverse=True) and dates[0] == "2026-10-28"
    assert bill.get("/billing?period=2026-10&n_sort=colour").status_code == 400
    assert bill.get("/billing?period=2026-10&n_page=-1").status_code == 400
    assert bill.get("/billing?period=2026-10&l_kind=outreach").status_code == 200
    as_csv = bill.get("/billing/not-billed.csv?period=2026-10")
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert rows[0] == ["Date", "Member ID", "Member", "What", "Record", "Reason"]
    assert len(rows) == 42 and rows[1][3] == "Time entry" and rows[1][2] == "Nguyen, Rosa"
    as_xlsx = bill.get("/billing/not-billed.xlsx?period=2026-10&n_source=time")
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None and sheet.max_row == 42
    with unit_of_work(world) as session:
        last = session.scalar(select(models.AuditRecord).order_by(models.AuditRecord.id.desc()))
        assert last is not None and (last.entity, last.action) == ("access", "download")


def test_the_billing_page_shows_words_not_stored_values_and_says_when_a_month_is_empty(
    clients: Clients, world: Engine
) -> None:
    bill = clients.as_user("bill")
    page = text_of(bill.get("/billing?period=2026-10").text)
    assert "Minutes per unit" in page and "onesty" not in page
    assert "In person" in page or "Service" in page
    assert "in_person" not in page and "not_reached" not in page
    assert "ECM in person, clinical staff" in page  # the contract's words for G9008 U1
    empty = text_of(bill.get("/billing?period=2026-08").text)
    assert "Every entry bills" not in empty
    assert "No time entry or outreach attempt recorded in August 2026" in empty
    assert "Nothing to bill in August 2026 yet" in empty
    assert "No hours or units to compare in August 2026" in empty
