"""The supervisor's day in a real browser at phone size (390×844): from My team to one
person's week, approved in one tap, and the rating then bills exactly that week's time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ecmbill.contract import default_contract
from ecmbill.domain.period import Period
from ecmbill.domain.reasons import ReasonCode
from ecmbill.imports.service import import_file
from ecmbill.rating.service import rate
from ecmbill.store.db import open_store
from tests.conftest import TODAY, Databases
from tests.web.serving import serving
from tests.web.test_browser import PHONE, browser, log_in, new_page, shot

__all__ = ["browser"]  # the fixture, shared with tests/web/test_browser.py

REQUIRING = default_contract().model_copy(update={"require_approval": True})
# Ana's week of 5 October: E1 (in the web world) and E5; E6 is in the week after.
MORE_TIME = """entry_id,staff_id,member_id,date,minutes,activity,modality
E5,S1,91234567A,2026-10-07,20,care_coordination,in_person
E6,S1,91234567A,2026-10-14,25,care_coordination,in_person
"""


@pytest.fixture(scope="module")
def served(
    seeded_database: str, databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Engine]]:
    """The web world under a contract that requires approval, served on a free port."""
    engine = open_store(databases.copy_of(seeded_database))
    path = tmp_path_factory.mktemp("team") / "time.csv"
    path.write_text(MORE_TIME, encoding="utf-8")
    assert import_file(engine, "time", path, REQUIRING, actor="test", today=TODAY).exit_code == 0
    with serving(engine, contract=REQUIRING) as url:
        yield url, engine
    engine.dispose()


def not_approved(engine: Engine) -> set[str]:
    rating = rate(engine, Period(2026, 10), REQUIRING)
    return {i.id for i in rating.not_billed if i.reason_code is ReasonCode.NOT_APPROVED}


def test_the_supervisor_approves_a_persons_week_from_the_dashboard_on_a_phone(
    browser: object, served: tuple[str, Engine], tmp_path: Path
) -> None:
    base_url, engine = served
    assert not_approved(engine) == {"E1", "E2", "E5", "E6"}
    page = new_page(browser, base_url, PHONE)
    log_in(page, "cleo")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My team").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="← 2026-10").click()
    page.wait_for_load_state()
    ana = page.get_by_role("list", name="Team members").get_by_role("listitem").first
    assert "Ana Field" in ana.inner_text()
    assert "3 awaiting approval" in ana.inner_text()
    assert "Will not bill: 3 awaiting approval" in ana.inner_text()
    shot(page, "team-dashboard-phone")
    ana.get_by_role("link", name="Ana Field").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Week of Oct 5").click()
    page.wait_for_load_state()
    approve = page.get_by_role("button", name="Approve all 2 shown")
    box = approve.bounding_box()
    # In sight without scrolling.
    assert box is not None and box["y"] + box["height"] <= PHONE["height"]
    shot(page, "team-week-phone")
    approve.click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text() == "Approved 2 entries."
    assert page.get_by_role("button", name="Approve all").count() == 0
    # The week bills now; the week after and Ben (another team) still wait.
    assert not_approved(engine) == {"E2", "E6"}
    page.context.close()
