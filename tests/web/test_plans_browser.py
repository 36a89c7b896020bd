"""Several plans in the browser: a biller reads Maria's plan spans, gives Jose plan B from a
date with the member page's form, and narrows Billing to plan B with its Plan choice; each
changed page (member, members list, Billing by plan) has no serious accessibility violation
at a phone's size and a desktop's (axe-core, as tests/web/test_accessibility.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tests.conftest import TODAY
from tests.web.serving import serving
from tests.web.test_accessibility import DESK, PHONE, serious_violations
from tests.web.test_browser import ARGS, CHROMIUM, log_in, new_page
from tests.web.test_plans import JOSE, MARIA, two_plans

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed, and CI must run the browser tests")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def no_serious_violation(page) -> None:  # type: ignore[no-untyped-def]
    for viewport in (PHONE, DESK):
        page.set_viewport_size(viewport)
        assert serious_violations(page) == {}, (page.url, viewport)


def test_a_biller_reads_plan_spans_gives_a_plan_and_filters_billing_by_plan(
    browser: object, world: Engine
) -> None:
    two_plans(world)
    with serving(world, today=lambda: TODAY) as url:
        page = new_page(browser, url, PHONE)
        log_in(page, "bill", world)

        page.goto(f"/members/{MARIA}?period=2026-10")
        assert "Plan B: 2026-10-01 to 2026-10-20" in page.locator("#plan-spans").inner_text()
        no_serious_violation(page)

        page.goto(f"/members/{JOSE}?period=2026-10")
        page.get_by_label("Plan", exact=True).select_option("b")
        page.get_by_label("From").fill("2026-10-16")
        page.get_by_role("button", name="Give this plan").click()
        page.wait_for_load_state()
        assert "Plan B: 2026-10-16 to open" in page.locator("#plan-spans").inner_text()

        page.goto("/members?q=lopez")
        assert "plan today: Plan B" in page.locator("main").inner_text()
        no_serious_violation(page)

        page.goto("/billing?period=2026-10")
        page.get_by_label("Plan (minutes per unit, claim lines, not billed)").select_option("b")
        page.locator("#plan-filter").get_by_role("button", name="Show").click()
        page.wait_for_load_state()
        assert "plan=b" in page.url
        lines = page.locator("#claim-lines").inner_text()
        # Jose's only October time (Oct 6) was with the first plan: plan B bills Maria's.
        assert "Garcia" in lines and "Lopez" not in lines
        no_serious_violation(page)
        page.context.close()
