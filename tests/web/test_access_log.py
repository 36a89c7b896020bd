"""The access log page (admin) with paging and filters, its CSV and XLSX exports through the
formula-safe writer, and the audit page's paging with a total and its exports within the
reader's scope (issue 14, issue 15)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import openpyxl
from sqlalchemy import Engine

from ecmbill.store import accounts as stored_accounts
from ecmbill.store import audit
from ecmbill.store.db import unit_of_work
from ecmbill.store.lookups import AuditFilter, audit_page
from tests.web.conftest import Clients
from tests.web.test_mfa import trail

FORMULA = '=HYPERLINK("http://evil.example","click")'


def downloads(world: Engine, username: str) -> list[str]:
    return [
        str(a["file"])
        for act, k, _, a in trail(world, "access")
        if act == "download" and k == username
    ]


def test_the_access_log_pages_with_a_total_and_filters_by_user_kind_and_dates(
    clients: Clients, world: Engine
) -> None:
    with unit_of_work(world) as session:
        for n in range(130):
            stored_accounts.record_access(
                session, username="ana", action="download", file=f"f{n}.csv",
                at=datetime(2026, 11, 1 + n % 30, 9, tzinfo=UTC),
            )  # fmt: skip
    ada = clients.as_user("ada")
    page = ada.get("/admin/access?user=ana&kind=download")
    assert page.status_code == 200
    assert '<p id="access-total"><strong>130</strong> entries, page 1 of 2.' in page.text
    assert page.text.count("<tr><td>2026-") == 100 and "older →" in page.text
    second = ada.get("/admin/access?user=ana&kind=download&page=2").text
    assert second.count("<tr><td>2026-") == 30 and "← newer" in second and "older" not in second
    # 1 to 3 November: 15 entries (days 1, 2, 3 in each of 5 rounds of 30).
    dated = ada.get("/admin/access?user=ana&kind=download&start=2026-11-01&end=2026-11-03").text
    assert "<strong>15</strong> entries" in dated
    # Logins of ada (this one), none of ana's downloads.
    logins = ada.get("/admin/access?kind=login&user=ADA").text
    assert "<strong>1</strong> entry" in logins and "f1.csv" not in logins
    assert "<strong>0</strong> entries" in ada.get("/admin/access?user=nobody").text
    assert ada.get("/admin/access?start=2026-13-01").status_code == 400
    assert ada.get("/admin/access?page=0").status_code == 422
    # The kinds offered are those in the log.
    assert '<option value="download"' in page.text and '<option value="login"' in page.text


def test_the_access_log_exports_as_csv_and_xlsx_formula_safe_and_logged(
    clients: Clients, world: Engine
) -> None:
    stored_accounts.log_access(world, username="ana", action="download", file=FORMULA)
    stored_accounts.log_access(world, username="@SUM(1+1)", action="failed", address="-1+2")
    ada = clients.as_user("ada")
    response = ada.get("/admin/access/export?fmt=csv")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith('attachment; filename="access-log-')
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["at (UTC)", "user", "action", "details"]
    users = {row[1] for row in rows[1:]}
    assert "'@SUM(1+1)" in users and "@SUM(1+1)" not in users
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    filtered = list(csv.reader(io.StringIO(ada.get("/admin/access/export?fmt=csv&user=ana").text)))
    assert {row[1] for row in filtered[1:]} == {"ana"}
    book = ada.get("/admin/access/export?fmt=xlsx&kind=failed")
    assert book.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    formula_like = [c for c in cells if str(c.value).startswith(("=", "@", "+", "-"))]
    assert formula_like and all(c.data_type == "s" and c.quotePrefix for c in formula_like)
    assert ada.get("/admin/access/export?fmt=pdf").status_code == 400
    # Each export is itself a download of a file with member data, in the access log.
    assert [name.rsplit(".", 1)[1] for name in downloads(world, "ada")] == ["csv", "csv", "xlsx"]


def test_the_audit_page_pages_with_a_total_and_exports_what_its_reader_sees(
    clients: Clients, world: Engine
) -> None:
    with unit_of_work(world) as session:
        for n in range(120):
            audit.record_change(
                session, actor="test", action="update", entity="members", key=f"M{n:03d}",
                after={"city": "=cmd|'/c calc'!A1" if n == 7 else "Brawley"},
            )  # fmt: skip
    bill = clients.as_user("bill")
    page = bill.get("/audit?entity=members").text
    total = audit_page(world, where=AuditFilter(entity="members")).total
    assert total >= 120
    pages = (total - 1) // 100 + 1
    assert f"<strong>{total}</strong> records, page 1 of {pages}." in page
    last = bill.get(f"/audit?entity=members&page={pages}").text
    assert last.count("<tr><td>") == total - 100 * (pages - 1)
    exported = bill.get("/audit/export?fmt=csv&entity=members")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert len(rows) == total + 1 and rows[0][:3] == ["at (UTC)", "who", "action"]
    assert any(row[6].startswith("{") and "=cmd" in row[6] for row in rows[1:])
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    book = openpyxl.load_workbook(io.BytesIO(bill.get("/audit/export?fmt=xlsx").content))
    assert book.active is not None and book.active.max_row > total
    # A supervisor's export holds only the team's part of the trail: no members, no ben.
    cleo = clients.as_user("cleo")
    theirs = list(csv.reader(io.StringIO(cleo.get("/audit/export?fmt=csv").text)))
    assert {row[3] for row in theirs[1:]} <= {
        "time",
        "time_approval",
        "outreach",
        "access",
        "users",
    }
    assert not any("ben" in row[4] for row in theirs[1:])
    assert "<strong>" in cleo.get("/audit").text
    assert downloads(world, "bill") and downloads(world, "cleo")
