"""The web app in a real browser: Playwright drives Debian's chromium (no browser download)
against the app served by uvicorn. Screenshots of the main pages are saved in
``test-artifacts/screenshots/`` for a person to look at, or in the folder that
``ECMBILL_DOC_SCREENSHOTS`` names (``docs/images`` refreshes the guide's pictures)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import Engine

from ecmbill.claims.settings import provider_settings
from ecmbill.demo.payer_835 import write_simulated_835
from ecmbill.domain.period import Period
from ecmbill.store.db import open_store
from ecmbill.web import accounts
from tests.claims.world import configure
from tests.claims.x12check import x12_errors
from tests.conftest import TODAY, Databases
from tests.web.conftest import PASSWORD, next_mfa_code
from tests.web.serving import serving

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# ECMBILL_DOC_SCREENSHOTS=docs/images writes them where the guide shows them instead.
SHOTS = Path(
    os.environ.get("ECMBILL_DOC_SCREENSHOTS")
    or Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
)
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def served(seeded_database: str, databases: Databases) -> Iterator[tuple[str, Engine]]:
    """The app on a free port, over a copy of the web world with claims settings filled in."""
    engine = open_store(databases.copy_of(seeded_database))
    configure(engine)
    with serving(engine) as url:
        yield url, engine
    engine.dispose()


@pytest.fixture(scope="module")
def base_url(served: tuple[str, Engine]) -> str:
    return served[0]


@pytest.fixture(scope="module")
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


def new_page(browser: object, base_url: str, viewport: dict[str, int]):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=viewport, base_url=base_url)  # type: ignore[attr-defined]
    context.set_default_timeout(15_000)
    return context.new_page()


# Users whose test sets MFA up itself, step by step.
ENROL_IN_THE_TEST = {"bea"}


def log_in(page, username: str, engine: Engine | None = None) -> None:  # type: ignore[no-untyped-def]
    """``engine``: for a user with MFA, to type the next code not yet used (each is accepted
    once: the same user may have logged in within the last 30 seconds)."""
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    if "/login/code" in page.url:  # a biller or admin: the MFA code next
        assert engine is not None, "a user with MFA: give the engine"
        page.get_by_label("Code from your authenticator app").fill(next_mfa_code(engine, username))
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
    elif "/account/mfa" in page.url and username not in ENROL_IN_THE_TEST:
        # A biller or admin added without MFA: set it up as they would, on the page.
        secret = page.locator("#mfa-secret").inner_text().strip()
        page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Turn on").click()
        page.get_by_role("link", name="I have kept them: go on").click()
        page.wait_for_load_state()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def detail(page, selector: str, name: str) -> None:  # type: ignore[no-untyped-def]
    """One part of the page at full size: a full-page phone shot is too tall to read."""
    page.locator(selector).screenshot(path=str(SHOTS / f"{name}.png"))


def test_staff_records_time_on_a_phone_and_sees_it_in_the_members_month(
    browser: object, base_url: str
) -> None:
    page = new_page(browser, base_url, PHONE)
    page.goto("/time")
    assert page.url.endswith("/login?next=/time")
    shot(page, "01-login-phone")
    log_in(page, "ana")
    assert page.url.endswith("/time")

    member = page.get_by_label("Member (name or CIN)")
    member.press_sequentially("Garc", delay=30)
    # htmx fetched suggestions for the field's list.
    page.wait_for_selector("#member-options option", state="attached")
    assert page.locator("#member-options option").first.get_attribute("value") == (
        "91234567A — Garcia, Maria"
    )
    member.fill("91234567A — Garcia, Maria")
    assert page.get_by_label("Date").input_value() == TODAY.isoformat()
    page.get_by_label("Minutes").fill("35")
    page.get_by_label("Activity").select_option("care_coordination")
    page.get_by_label("In person").check()
    page.get_by_label("Note (optional)").fill("Home visit")
    shot(page, "02-time-form-phone")
    page.get_by_role("button", name="Save time").click()
    page.wait_for_load_state()
    # Saved, with the rating's answer for the entry (issue 16: "will this bill?" on save).
    saved = page.get_by_role("status").inner_text()
    assert saved.startswith("Saved.") and "Will bill: G9008 U1" in saved
    today = page.locator("section", has=page.locator("#today"))
    assert "Garcia, Maria" in today.inner_text()
    assert f"{TODAY.isoformat()} · 35 min" in today.inner_text()
    shot(page, "03-time-saved-phone")

    page.goto(f"/members/91234567A?period={TODAY:%Y-%m}")
    entries = page.locator("section", has=page.locator("#entries"))
    assert TODAY.isoformat() in entries.inner_text()
    assert "35" in entries.inner_text()
    shot(page, "04-member-month-phone")
    page.context.close()


def test_a_bad_value_is_shown_next_to_its_field_in_the_browser(
    browser: object, base_url: str
) -> None:
    page = new_page(browser, base_url, PHONE)
    log_in(page, "ana")
    page.get_by_label("Member (name or CIN)").fill("Lopez")
    page.get_by_label("Minutes").fill("an hour")
    page.get_by_label("Activity").select_option("care_coordination")
    page.get_by_label("Phone, video, text or e-mail").check()
    page.get_by_role("button", name="Save time").click()
    page.wait_for_load_state()
    minutes = page.get_by_label("Minutes")
    assert minutes.input_value() == "an hour"
    assert minutes.get_attribute("aria-invalid") == "true"
    assert page.locator("#e-minutes").inner_text() == "minutes is not a number"
    assert page.get_by_label("Member (name or CIN)").input_value() == "Lopez"
    assert page.get_by_label("Phone, video, text or e-mail").is_checked()
    shot(page, "05-time-error-phone")
    page.context.close()


def test_biller_previews_the_period_with_lines_reasons_and_chart(
    browser: object, served: tuple[str, Engine]
) -> None:
    base_url, engine = served
    page = new_page(browser, base_url, DESK)
    log_in(page, "bill", engine)
    assert "/billing" in page.url
    page.get_by_role("textbox", name="Period").fill("2026-10")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_load_state()
    # Issue 15: the month in words, and money at a glance instead of a one-line summary.
    assert page.locator("h1").inner_text() == "Billing: October 2026"
    assert "Expected before close" in page.locator("#glance").inner_text()
    assert page.locator("#claim-lines tbody tr").count() >= 2
    assert "not enrolled in ECM" in page.locator("#not-billed").inner_text()
    chart = page.locator("figure.chart img")
    chart.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('figure.chart img').naturalWidth > 0")
    shot(page, "06-billing-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "07-billing-phone")
    page.set_viewport_size(DESK)
    page.goto("/members/92345678B?period=2026-10")
    shot(page, "08-member-desktop")
    page.goto("/audit")
    shot(page, "09-audit-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "09-audit-phone")
    page.context.close()


def test_staff_cannot_open_billing_pages_or_another_staff_members_entry(
    browser: object, base_url: str
) -> None:
    page = new_page(browser, base_url, PHONE)
    log_in(page, "ana")
    assert page.get_by_role("link", name="Billing").count() == 0
    for path in ("/billing", "/billing?period=2026-10", "/remittances", "/time/E2"):
        response = page.goto(path)
        assert response is not None and response.status == 403, path
        assert page.locator("h1").inner_text() == "Not allowed"
    shot(page, "10-forbidden-phone")
    page.context.close()


def test_staff_records_an_outreach_attempt_and_sees_what_unable_to_reach_still_needs(
    browser: object, base_url: str
) -> None:
    page = new_page(browser, base_url, PHONE)
    log_in(page, "ben")
    page.goto("/outreach")
    page.get_by_label("Member (name or CIN)").first.fill("93456789C")
    page.get_by_label("Method").select_option("text")
    page.get_by_label("Outcome").select_option("not_reached")
    page.get_by_role("button", name="Save attempt").click()
    page.wait_for_load_state()
    # Saved, with the rating's answer for the attempt (issue 16: "will this bill?" on save).
    saved = page.get_by_role("status").inner_text()
    assert saved.startswith("Attempt saved.") and "Will bill: G9012 U8 GQ" in saved
    assert (
        "Attempts that count: 1."
        in page.locator("section", has=page.locator("#lookup")).inner_text()
    )
    assert "2 more outreach attempts needed" in page.content()
    shot(page, "11-outreach-phone")
    page.context.close()


def test_admin_page_on_a_phone(browser: object, served: tuple[str, Engine]) -> None:
    base_url, engine = served
    page = new_page(browser, base_url, PHONE)
    log_in(page, "ada", engine)
    assert page.url.endswith("/admin")
    assert "ana" in page.locator("#users-table").inner_text()
    shot(page, "12-admin-phone")
    page.context.close()


def test_a_new_biller_sets_up_mfa_then_logs_in_with_a_code_on_a_phone(
    browser: object, served: tuple[str, Engine]
) -> None:
    base_url, engine = served
    accounts.add_user(
        engine, username="bea", password=PASSWORD, role=accounts.UserRole.BILLER, actor="test"
    )
    page = new_page(browser, base_url, PHONE)
    log_in(page, "bea")
    assert page.url.endswith("/account/mfa")  # before any page
    page.goto("/billing")
    assert page.url.endswith("/account/mfa")
    page.get_by_text("Address for the app").click()
    shot(page, "13-mfa-setup-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    secret = page.locator("#mfa-secret").inner_text().strip()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    assert page.locator("#recovery-codes li").count() == 10
    shot(page, "14-mfa-recovery-codes-phone")
    page.get_by_role("link", name="I have kept them: go on").click()
    assert "/billing" in page.url
    page.context.close()
    again = new_page(browser, base_url, PHONE)
    again.goto("/login")
    again.get_by_label("Username").fill("bea")
    again.get_by_label("Password").fill(PASSWORD)
    again.get_by_role("button", name="Log in").click()
    assert "/login/code" in again.url
    shot(again, "15-login-code-phone")
    assert again.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The code that confirmed the setup is used: the next one the app shows.
    again.get_by_label("Code from your authenticator app").fill(
        next_mfa_code(engine, "bea", secret)
    )
    again.get_by_role("button", name="Log in").click()
    again.wait_for_load_state()
    assert "/billing" in again.url
    again.goto("/account")
    assert "Recovery codes left: 10" in again.locator("#mfa-status").inner_text()
    shot(again, "16-account-phone")
    again.context.close()


def test_biller_closes_the_month_downloads_the_837p_and_posts_the_payers_835(
    browser: object, served: tuple[str, Engine], tmp_path: Path
) -> None:
    base_url, engine = served
    page = new_page(browser, base_url, DESK)
    log_in(page, "bill", engine)
    page.get_by_role("textbox", name="Period").fill("2026-10")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_load_state()
    assert "Open." in page.locator("#close-state").inner_text()
    page.get_by_role("button", name="Close October 2026").click()
    page.wait_for_load_state()
    # Closing asks first, saying what it will close (issue 15).
    assert "2 claim line(s)" in page.locator("#close-summary").inner_text()
    page.get_by_role("button", name="Yes, close October 2026").click()
    page.wait_for_load_state()
    result = page.get_by_role("status")
    assert "October 2026 closed: 2 original, 0 replacement and 0 void" in result.inner_text()
    assert page.locator("#close-state").inner_text().startswith("Closed on")
    page.locator("#close-section").scroll_into_view_if_needed()
    shot(page, "14-billing-closed-desktop")
    detail(page, "#close-section", "14-billing-close-desktop-detail")
    page.set_viewport_size(PHONE)
    shot(page, "15-billing-closed-phone")
    detail(page, "#close-section", "15-billing-close-phone-detail")
    page.set_viewport_size(DESK)

    with page.expect_download() as info:
        page.get_by_role("button", name="837P claims (X12)").click()
    download = info.value
    assert download.suggested_filename.startswith("ecmbill-2026-10-837p-")
    claims_file = tmp_path / download.suggested_filename
    download.save_as(claims_file)
    assert x12_errors(claims_file) == []
    assert claims_file.read_text().count("CLM*ECM") == 2
    # The close answered a POST: go back to the billing page itself, not a resubmission.
    page.goto("/billing?period=2026-10")
    assert "837P" in page.locator("#claims-table").inner_text()
    # The same file again from the file history: byte for byte (issue 15).
    with page.expect_download() as info:
        page.locator("#history-table").get_by_role("link", name="Download").first.click()
    again = tmp_path / "again.837"
    info.value.save_as(again)
    assert again.read_bytes() == claims_file.read_bytes()
    for size, name in (
        ({"width": 390, "height": 844}, "phone"),
        ({"width": 1280, "height": 800}, "desktop"),
    ):
        page.set_viewport_size(size)
        shot(page, f"billing-closed-{name}-{size['width']}x{size['height']}")
    page.set_viewport_size(DESK)

    answer = tmp_path / "payer-october.835"
    moment = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    write_simulated_835(engine, Period(2026, 10), provider_settings(engine), answer, moment)
    page.set_viewport_size(DESK)
    page.get_by_role("link", name="Remittances").click()
    page.wait_for_load_state()
    page.get_by_label("835 file from the plan").set_input_files(answer)
    page.get_by_role("button", name="Upload and post").click()
    page.wait_for_load_state()
    assert "TRN DEMO-2026-10 posted" in page.get_by_role("status").inner_text()
    table = page.locator("#reconciliation").inner_text()
    assert "ECM000000001" in table and "ECM000000002" in table
    assert "no answer yet" in table and "partial" in table
    assert "2 claim(s): 0 paid, 1 partial" in page.locator("#counts").inner_text()
    shot(page, "16-remittances-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "17-remittances-phone")
    detail(page, "#reconciliation", "17-reconciliation-phone-detail")
    page.context.close()

    # October is closed: in the field, Ana's October entry can no longer be changed.
    phone = new_page(browser, base_url, PHONE)
    log_in(phone, "ana")
    phone.goto("/time/E1")
    assert "October 2026 is closed: a biller records late changes" in (
        phone.get_by_role("alert").inner_text()
    )
    assert phone.get_by_role("button", name="Save changes").count() == 0
    shot(phone, "18-closed-entry-phone")
    phone.context.close()
