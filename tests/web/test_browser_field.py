"""The care manager's day in a real browser on a 390×844 phone: a visit recorded from "my
caseload" in at most four taps and the minutes; the "will not bill" warning for a member not
enrolled, shown before saving; and a visit for a closed month sent as a late change and
accepted by the biller. Playwright with Debian's chromium, as in ``test_browser.py``."""

from __future__ import annotations

from sqlalchemy import Engine, select

from ecmbill.claims.close import close_period
from ecmbill.contract import default_contract
from ecmbill.domain.period import Period
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.conftest import TODAY
from tests.web.test_browser import (  # noqa: F401  (fixtures)
    PHONE,
    base_url,
    browser,
    log_in,
    new_page,
    served,
    shot,
)


def _entries(engine: Engine, staff_id: str) -> list[models.TimeEntry]:
    with unit_of_work(engine) as session:
        return list(
            session.scalars(select(models.TimeEntry).where(models.TimeEntry.staff_id == staff_id))
        )


def _save_in_view(page) -> None:  # type: ignore[no-untyped-def]
    box = page.get_by_role("button", name="Save time").bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


def test_a_visit_from_my_caseload_takes_four_taps_and_the_minutes(
    browser: object,  # noqa: F811
    base_url: str,  # noqa: F811
    served: tuple[str, Engine],  # noqa: F811
) -> None:
    engine = served[1]
    page = new_page(browser, base_url, PHONE)
    log_in(page, "ana")
    # A first visit, chosen in full: the activity and the way of meeting are remembered.
    page.goto("/time?member=91234567A")
    page.get_by_label("Minutes", exact=True).fill("20")
    page.get_by_label("Activity").select_option("care_coordination")
    page.get_by_label("In person").check()
    page.get_by_role("button", name="Save time").click()
    page.wait_for_load_state()
    before = len(_entries(engine, "S1"))

    taps = 0
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    taps += 1
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="My caseload (1)").is_visible()
    shot(page, "phone-my-caseload")
    page.get_by_role("link", name="Record time for Garcia, Maria").click()
    taps += 1
    page.wait_for_load_state()
    _save_in_view(page)
    page.get_by_label("Minutes", exact=True).fill("35")  # the minutes
    page.get_by_role("button", name="Save time").click()
    taps += 1
    page.wait_for_load_state()
    assert taps <= 4
    status = page.get_by_role("status").first
    assert "Saved." in status.inner_text()
    assert "Will bill" in status.inner_text() and "G9008 U1" in status.inner_text()
    shot(page, "phone-visit-saved")
    after = _entries(engine, "S1")
    assert len(after) == before + 1
    assert any(e.minutes == 35 and e.activity == "care_coordination" for e in after)


def test_the_not_enrolled_warning_appears_before_saving(
    browser: object,  # noqa: F811
    base_url: str,  # noqa: F811
    served: tuple[str, Engine],  # noqa: F811
) -> None:
    engine = served[1]
    page = new_page(browser, base_url, PHONE)
    log_in(page, "ana")
    page.goto("/time")
    before = len(_entries(engine, "S1"))
    # Rosa Nguyen is eligible but not enrolled in ECM: typed by CIN, a first visit.
    page.get_by_label("Member (name or CIN)").fill("93456789C")
    page.get_by_label("Minutes", exact=True).fill("30")
    page.get_by_label("Activity").select_option("care_coordination")
    page.get_by_label("In person").check()
    warning = page.locator("#verdict .verdict-answer")
    warning.wait_for()
    assert warning.get_attribute("data-reason") == "NOT_ENROLLED"
    assert "not enrolled in ECM on 2026-11-25" in warning.inner_text()
    assert "not saved yet" in warning.inner_text()
    _save_in_view(page)
    shot(page, "phone-not-enrolled-warning")
    assert len(_entries(engine, "S1")) == before  # nothing saved


def test_a_late_change_is_sent_and_accepted(
    browser: object,  # noqa: F811
    base_url: str,  # noqa: F811
    served: tuple[str, Engine],  # noqa: F811
) -> None:
    engine = served[1]
    close_period(engine, Period(2026, 10), default_contract(), actor="test", today=TODAY)
    page = new_page(browser, base_url, PHONE)
    log_in(page, "ana")
    page.goto("/time?member=91234567A")
    page.get_by_label("Date", exact=True).fill("2026-10-29")
    page.get_by_label("Minutes", exact=True).fill("25")
    page.get_by_label("Activity").select_option("care_coordination")
    page.get_by_label("In person").check()
    page.get_by_role("button", name="Save time").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Send to the biller as a late change").click()
    page.wait_for_load_state()
    assert "Sent to the biller as a late change" in page.get_by_role("status").first.inner_text()

    biller = new_page(browser, base_url, PHONE)
    log_in(biller, "bill", engine)
    biller.goto("/billing?period=2026-10")
    assert biller.get_by_role("heading", name="Late changes waiting (1)").is_visible()
    shot(biller, "phone-late-change-waiting")
    biller.get_by_role("button", name="Accept into 2026-10").click()
    biller.wait_for_load_state()
    assert biller.locator("#unclaimed").is_visible()
    with unit_of_work(engine) as session:
        accepted = session.scalars(
            select(models.TimeEntry).where(models.TimeEntry.entry_id.like("LATE-%"))
        ).one()
        assert (accepted.minutes, accepted.date.isoformat()) == (25, "2026-10-29")
