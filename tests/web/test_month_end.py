"""A month end done only in the web, on a fresh install: the admin enters the provider and
payer settings, the biller imports the month's files on the Imports page (a rejected row seen
with its reason and downloaded as the rejects CSV), closes the month and downloads the 837P.
Screenshots at a phone's and a desktop's size go to test-artifacts/screenshots/month-end-*."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ecmbill.store.db import open_store
from ecmbill.web import accounts
from ecmbill.web.accounts import UserRole
from tests.claims.world import SETTINGS
from tests.claims.x12check import x12_errors
from tests.conftest import Databases
from tests.web.conftest import FILES, PASSWORD
from tests.web.serving import serving
from tests.web.test_browser import ARGS, CHROMIUM, DESK, PHONE, SHOTS, log_in, new_page

sync_api = pytest.importorskip("playwright.sync_api")

# The month's time file with one row a care manager typed wrong.
TIME = FILES["time"] + "E4,S1,91234567A,2026-10-08,an hour,care_coordination,in_person,\n"
CHOICES = {"rendering_npi_on_line": "yes", "usage": "T"}


@pytest.fixture
def fresh(databases: Databases) -> Iterator[Engine]:
    """An empty database with only the two users an installer makes first."""
    engine = open_store(databases.new_url())
    for username, role in (("ada", UserRole.ADMIN), ("bill", UserRole.BILLER)):
        accounts.add_user(engine, username=username, password=PASSWORD, role=role, actor="test")
    yield engine
    engine.dispose()


@pytest.fixture
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed, and CI must run the browser tests")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def shots(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """The page at desktop and phone size (full length), then back at desktop size."""
    for size, viewport in (("desktop", DESK), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.screenshot(path=str(SHOTS / f"month-end-{name}-{size}.png"), full_page=True)
    page.set_viewport_size(DESK)


def import_file(page, kind: str, name: str, content: str) -> str:  # type: ignore[no-untyped-def]
    page.get_by_role("link", name="Imports").click()
    page.get_by_label("What the file holds").select_option(kind)
    page.get_by_label("File (.csv or .xlsx; the 834 as the plan sent it)").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content.encode()}]
    )
    if kind == "staff":
        shots(page, "04-imports-form")
    page.get_by_role("button", name="Upload and import").click()
    counts = page.locator("#import-counts")
    counts.wait_for()
    return str(counts.inner_text())


def test_a_month_end_done_only_in_the_web_on_a_fresh_install(
    browser: object, fresh: Engine, tmp_path: Path
) -> None:
    with serving(fresh) as url:
        admin = new_page(browser, url, DESK)
        log_in(admin, "ada", fresh)
        admin.get_by_role("link", name="Settings").click()
        assert admin.locator("#e-billing_npi").inner_text() == "missing"
        shots(admin, "01-settings-empty")
        for name, value in SETTINGS.items():
            field = admin.locator(f"#f-{name}")
            if name in CHOICES:
                field.select_option(value)
            else:
                field.fill(value)
        admin.locator("#f-billing_npi").fill("1245319598")  # one digit wrong
        admin.get_by_role("button", name="Save settings").click()
        assert "valid NPI" in admin.locator("#e-billing_npi").inner_text()
        shots(admin, "02-settings-bad-npi")
        admin.locator("#f-billing_npi").fill(SETTINGS["billing_npi"])
        admin.get_by_role("button", name="Save settings").click()
        assert admin.get_by_role("status").inner_text().startswith("Settings saved")
        assert admin.locator(".error").count() == 0
        shots(admin, "03-settings-saved")
        admin.context.close()

        page = new_page(browser, url, DESK)
        log_in(page, "bill", fresh)
        for kind in ("staff", "members", "eligibility", "enrollments"):
            counts = import_file(page, kind, f"{kind}.csv", FILES[kind])
            assert "0 rejected" in counts, (kind, counts)
        counts = import_file(page, "time", "october-time.csv", TIME)
        assert counts == "4 rows read: 3 accepted, 1 rejected."
        rejected = page.locator("#rejects tbody tr")
        assert rejected.count() == 1
        assert rejected.first.locator("td").nth(0).inner_text() == "5"
        assert rejected.first.locator("td").nth(1).inner_text() == "minutes"
        reason = rejected.first.locator("td").nth(2).inner_text()
        shots(page, "05-import-rejected-row")
        with page.expect_download() as info:
            page.get_by_role("link", name="Download the rejected rows (CSV)").click()
        rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text("utf-8"))))
        assert rows[0][:4] == ["line", "column", "reason", "entry_id"]
        assert rows[1][:4] == ["5", "minutes", reason, "E4"]

        page.get_by_role("link", name="Billing").click()
        page.goto("/billing?period=2026-10")
        assert page.locator("text=Claims need complete provider and payer settings").count() == 0
        page.get_by_role("button", name="Close October 2026").click()
        page.wait_for_load_state()
        shots(page, "06-billing-confirm-close")
        page.get_by_role("button", name="Yes, close October 2026").click()
        page.wait_for_load_state()
        assert "October 2026 closed: 2 original" in page.get_by_role("status").inner_text()
        shots(page, "06-billing-closed")
        with page.expect_download() as info:
            page.get_by_role("button", name="837P claims (X12)").click()
        claims_file = tmp_path / info.value.suggested_filename
        info.value.save_as(claims_file)
        assert x12_errors(claims_file) == []
        assert claims_file.read_text().count("CLM*ECM") == 2
        page.context.close()
