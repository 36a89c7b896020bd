"""Working with no network: the field page opens offline after one visit online, keeps what is
recorded on the phone (IndexedDB) across closing the page, and sends each entry exactly once
when the network is back. Playwright drives Debian's chromium at phone size."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.conftest import TODAY
from tests.web import test_browser as browser_world
from tests.web.test_browser import PHONE, detail, log_in, new_page, shot, sync_api

# The browser tests' fixtures: chromium, and the app served over a copy of the web world.
browser = browser_world.browser
served = browser_world.served

# Sends every entry kept on the phone again, with its own key, as a lost answer would make
# the phone do; answers each send's status and record id.
RESEND = """async () => {
  const sent = [];
  for (const entry of await window.ecmbillField.all()) {
    const url = entry.kind === "time" ? "/api/time-entries" : "/api/outreach";
    const response = await fetch(url, {
      method: "POST",
      headers: {"Content-Type": "application/json", "Idempotency-Key": entry.key,
                "X-CSRF-Token": document.getElementById("field").dataset.csrf},
      body: JSON.stringify(entry.body),
    });
    const answer = await response.json();
    sent.push([response.status, answer.entry_id || answer.attempt_id,
               entry.answer.entry_id || entry.answer.attempt_id]);
  }
  return sent;
}"""
expect = sync_api.expect
OUTBOX = "section[aria-labelledby=outbox-title]"


def recorded_today(engine: Engine) -> tuple[list[tuple[str, int]], list[str]]:
    """Ana's visits (member, minutes) and outreach attempts (member) on the test's today."""
    with unit_of_work(engine) as session:
        visits = session.execute(
            select(models.TimeEntry.member_id, models.TimeEntry.minutes).where(
                models.TimeEntry.staff_id == "S1", models.TimeEntry.date == TODAY
            )
        ).all()
        attempts = session.scalars(
            select(models.OutreachAttempt.member_id).where(
                models.OutreachAttempt.staff_id == "S1", models.OutreachAttempt.date == TODAY
            )
        ).all()
    return sorted((m, int(n)) for m, n in visits), sorted(attempts)


def waiting(page) -> int:  # type: ignore[no-untyped-def]
    return page.locator("#outbox li", has_text="Waiting to send").count()


def test_entries_recorded_offline_are_kept_and_sent_once_when_the_network_returns(
    browser: object, served: tuple[str, Engine]
) -> None:
    base, engine = served
    before = recorded_today(engine)
    page = new_page(browser, base, PHONE)
    context = page.context
    log_in(page, "ana")
    page.goto("/field")
    # The first visit installs the service worker; the page it then controls is kept.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    assert page.evaluate("caches.open('ecmbill-pages').then(c => c.match('/field')).then(r => !!r)")

    context.set_offline(True)
    page.goto("/field")  # opens from the phone, with no network
    expect(page.locator("#network")).to_contain_text("No network")
    visit = page.locator("#visit-form")
    for minutes in ("45", "30"):
        visit.get_by_label("Member (CIN)").fill("91234567A")
        visit.get_by_label("Minutes").fill(minutes)
        visit.get_by_label("Activity").select_option("care_coordination")
        visit.get_by_role("button", name="Save visit").click()
    outreach = page.locator("#outreach-form")
    outreach.get_by_label("Member (CIN)").fill("93456789C")
    outreach.get_by_label("How").select_option("phone")
    outreach.get_by_role("button", name="Save attempt").click()
    expect(page.locator("#outbox li.outbox-waiting")).to_have_count(3)
    shot(page, "20-field-offline-phone")
    detail(page, OUTBOX, "20-field-offline-phone-detail")
    page.close()

    again = context.new_page()
    again.goto("/field")  # still offline: the page and the three entries come from the phone
    expect(again.locator("#outbox li.outbox-waiting")).to_have_count(3)
    assert waiting(again) == 3
    assert (
        "Visit · Garcia, Maria (91234567A) · 2026-11-25 · 45 min"
        in again.locator("#outbox").inner_text()
    )
    assert recorded_today(engine) == before  # nothing reached the server

    context.set_offline(False)  # the "online" event sends them
    expect(again.locator("#outbox li.outbox-sent")).to_have_count(3)
    assert waiting(again) == 0
    shot(again, "21-field-sent-phone")
    detail(again, OUTBOX, "21-field-sent-phone-detail")
    visits, attempts = recorded_today(engine)
    assert visits == sorted([*before[0], ("91234567A", 45), ("91234567A", 30)])
    assert attempts == sorted([*before[1], "93456789C"])

    # Sent again with the same keys (an answer lost on the way back): the first records answer.
    resent = again.evaluate(RESEND)
    assert [status for status, _, _ in resent] == [200, 200, 200]
    assert all(now == first for _, now, first in resent)
    again.evaluate("window.ecmbillField.sync()")
    again.reload()
    expect(again.locator("#outbox li.outbox-sent")).to_have_count(3)
    assert recorded_today(engine) == (visits, attempts)
    context.close()


def test_a_refused_entry_shows_why_and_goes_back_into_its_form(
    browser: object, served: tuple[str, Engine]
) -> None:
    base, _ = served
    page = new_page(browser, base, PHONE)
    log_in(page, "ana")
    page.goto("/field")
    visit = page.locator("#visit-form")
    visit.get_by_label("Member (CIN)").fill("91234567A")
    visit.get_by_label("Minutes").fill("an hour")
    visit.get_by_label("Activity").select_option("care_coordination")
    visit.get_by_role("button", name="Save visit").click()
    refused = page.locator("#outbox li.outbox-refused")
    expect(refused).to_have_count(1)
    assert "Not saved: minutes is not a number" in refused.inner_text()
    refused.get_by_role("button", name="Correct it").click()
    assert visit.get_by_label("Minutes").input_value() == "an hour"
    expect(page.locator("#outbox li.outbox-refused")).to_have_count(0)
    page.context.close()


def test_the_field_page_has_no_serious_accessibility_problem_at_phone_size(
    browser: object, served: tuple[str, Engine]
) -> None:
    axe = pytest.importorskip("axe_playwright_python.sync_playwright")
    base, _ = served
    page = new_page(browser, base, PHONE)
    log_in(page, "ana")
    page.goto("/field")
    expect(page.locator("#outbox li")).not_to_have_count(0)
    results = axe.Axe().run(page)
    serious = [
        (v["id"], v["impact"])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
    page.context.close()
