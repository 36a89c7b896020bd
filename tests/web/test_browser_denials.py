"""The denial work list in a real browser (Playwright, Debian chromium): the biller uploads
the plan's 835 that denies both of October's claims, resubmits one after the missed visit is
recorded (a new claim is made and linked), writes the other off with a note, and downloads
the reconciliation. Screenshots at phone (390×844) and desktop (1280×800) size."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ecmbill.claims.close import close_period
from ecmbill.claims.export import export_claims
from ecmbill.claims.views import ClaimView, list_claims
from ecmbill.contract import default_contract
from ecmbill.domain.period import Period
from ecmbill.imports.service import import_file
from ecmbill.store.db import open_store
from tests.claims.world import configure
from tests.conftest import TODAY, Databases
from tests.web.serving import serving
from tests.web.test_browser import PHONE, SHOTS, browser, log_in, new_page, shot  # noqa: F401 - the browser fixture

sync_api = pytest.importorskip("playwright.sync_api")

OCTOBER = Period(2026, 10)
DESK = {"width": 1280, "height": 800}
# (CARC, RARC) the plan gives each claim, in claim order.
DENIALS = (("177", "N30"), ("16", "M51"))


def denying_835(claims: list[ClaimView]) -> str:
    """The plan denies every line of these claims, each claim with its own reason."""
    body = ["LX*1"]
    for claim, (carc, rarc) in zip(claims, DENIALS, strict=True):
        charge = sum((line.charge for line in claim.lines), Decimal("0"))
        body += [f"CLP*{claim.patient_control_number}*4*{charge}*0**MC*PAY{claim.claim_id:07d}",
                 f"NM1*QC*1*TEST*MEMBER****MI*{claim.member_id}"]  # fmt: skip
        for line in claim.lines:
            body += [f"SVC*HC:{':'.join((line.code, *line.modifiers))}*{line.charge}*0**"
                     f"{line.units}", f"DTM*472*{line.first_date:%Y%m%d}",
                     f"CAS*CO*{carc}*{line.charge}", f"LQ*HE*{rarc}"]  # fmt: skip
    transaction = [
        "ST*835*0001", "BPR*H*0*C*NON************20261120", "TRN*1*DENY-1001*1987654321",
        "N1*PR*TEST HEALTH PLAN", "N3*1 PLAN WAY", "N4*OAKLAND*CA*94612",
        "PER*BL*PROVIDER SERVICES*TE*8005550100", "N1*PE*TEST ECM PROVIDER*XX*1245319599",
        *body,
    ]  # fmt: skip
    transaction.append(f"SE*{len(transaction) + 1}*0001")
    segments = [
        "ISA*00*          *00*          *ZZ*TESTPLAN       *ZZ*ECMTEST        *261120*1200*^*"
        "00501*000000301*0*T*:",
        "GS*HP*TESTPLAN*ECMTEST*20261120*1200*301*X*005010X221A1",
        *transaction, "GE*1*301", "IEA*1*000000301",
    ]  # fmt: skip
    return "".join(f"{s}~\n" for s in segments)


@pytest.fixture
def served(
    seeded_database: str, databases: Databases, tmp_path: Path
) -> Iterator[tuple[str, Engine]]:
    """October closed and sent (as on the Billing page), the app on a free port."""
    engine = open_store(databases.copy_of(seeded_database))
    configure(engine)
    close_period(engine, OCTOBER, default_contract(), actor="web:bill", today=TODAY)
    export_claims(engine, OCTOBER, "837p", tmp_path / "october.837", actor="web:bill")
    with serving(engine) as url:
        yield url, engine
    engine.dispose()


def test_biller_works_two_denials_resends_one_writes_off_the_other_and_exports(
    browser: object,  # noqa: F811 - the fixture imported from test_browser
    served: tuple[str, Engine],
    tmp_path: Path,
) -> None:
    base_url, engine = served
    claims = [c for c in list_claims(engine, OCTOBER) if c.status == "active"]
    assert [c.patient_control_number for c in claims] == ["ECM000000001", "ECM000000002"]
    answer = tmp_path / "denials.835"
    answer.write_text(denying_835(claims), encoding="ascii")

    page = new_page(browser, base_url, DESK)
    log_in(page, "bill", engine)
    page.goto("/remittances")
    page.get_by_label("835 file from the plan").set_input_files(answer)
    page.get_by_role("button", name="Upload and post").click()
    page.wait_for_load_state()
    assert "TRN DENY-1001 posted" in page.get_by_role("status").inner_text()
    assert "2 denied" in page.locator("#counts").inner_text()
    reasons = page.locator("#denials-table").inner_text()
    assert "177" in reasons and "16" in reasons
    shot(page, "40-remittances-denied-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "41-remittances-denied-phone")
    page.set_viewport_size(DESK)

    page.get_by_role("link", name="Denials", exact=True).click()
    page.wait_for_load_state()
    listed = page.locator("#denial-list").inner_text()
    assert "CO 177: Patient has not met the eligibility requirements" in listed
    assert "remark M51: Missing, incomplete or invalid procedure code" in listed
    assert "2 denial(s) open" in page.locator("#denial-totals").inner_text()
    shot(page, "42-denials-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "43-denials-phone")
    page.set_viewport_size(DESK)

    # Maria's missed visit is recorded, then her denial is resubmitted: a new claim is made.
    late = tmp_path / "late-time.csv"
    late.write_text("entry_id,staff_id,member_id,date,minutes,activity,modality,note\n"
                    "E9,S1,91234567A,2026-10-19,60,care_coordination,in_person,\n")  # fmt: skip
    added = import_file(engine, "time", late, default_contract(), actor="test", today=TODAY)
    assert added.exit_code == 0, added.rejections
    page.get_by_role("link", name="ECM000000001 line 1").click()
    page.wait_for_load_state()
    page.get_by_label("Note (optional)").fill("visit of 19 October was missing")
    page.get_by_role("button", name="Resubmit the corrected claim").click()
    page.wait_for_load_state()
    assert "ECM000000003 was made" in page.locator("#done").inner_text()
    assert "corrected (replacement sent): ECM000000003" in page.locator("#work-status").inner_text()
    shot(page, "44-denial-resubmitted-desktop")

    # Jose's denial is written off with a note.
    page.goto("/remittances/denials")
    page.get_by_role("link", name="ECM000000002 line 1").click()
    page.wait_for_load_state()
    page.get_by_label("written off").check()
    page.get_by_label("Note", exact=True).fill("code error past the filing limit")
    page.get_by_role("button", name="Save the status").click()
    page.wait_for_load_state()
    assert "The status was saved." in page.locator("#done").inner_text()
    history = page.locator("#history").inner_text()
    assert "written off" in history and "web:bill" in history
    page.set_viewport_size(PHONE)
    shot(page, "45-denial-written-off-phone")
    page.set_viewport_size(DESK)
    page.goto("/remittances/denials")
    assert "No denial matches these filters." in page.locator("#denial-list").inner_text()

    # The claim page shows the denial in words and its work-list status.
    page.goto("/billing/claims/ECM000000002")
    assert "CO 16: Claim or service lacks information" in page.locator("main").inner_text()
    assert "written off" in page.locator("main").inner_text()
    shot(page, "46-claim-denied-desktop")

    page.goto("/remittances")
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV").first.click()
    download = info.value
    assert download.suggested_filename.startswith("ecmbill-reconciliation-")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert [(r["Claim"], r["Status"]) for r in rows] == [
        ("ECM000000001", "denied"), ("ECM000000002", "denied"), ("ECM000000003", "no answer yet"),
    ]  # fmt: skip
    assert SHOTS.joinpath("42-denials-desktop.png").exists()
    page.context.close()
