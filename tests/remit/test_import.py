"""835 remittances, written by hand after the 005010X221A1 guide (tests/remit/fixtures), read
with pyx12, posted and reconciled against October's claims on SQLite and PostgreSQL.

The claims: ECM000000001 member A (G9008 U1, 1 unit, 100.00, Oct 5-20), ECM000000002 B
(G9012 U2 GQ, 75.00), ECM000000003 C (G9008 U1 2 units 200.00 + G9012 U2 75.00), ECM000000004
D (outreach G9008 U8 GQ 25.00 + G9012 U8 40.00).
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from ecmbill.claims.close import close_period
from ecmbill.claims.export import export_claims
from ecmbill.contract import Contract
from ecmbill.remit.model import Status
from ecmbill.remit.post import ImportOutcome, import_835
from ecmbill.remit.reader import RemitFileError
from ecmbill.remit.reconcile import ClaimReport, reconcile
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.claims.world import OCTOBER, A, add_time
from tests.claims.x12check import x12_errors
from tests.conftest import TODAY

FIXTURES = Path(__file__).with_name("fixtures")


def post(engine: Engine, name: str) -> ImportOutcome:
    return import_835(engine, FIXTURES / name, actor="test")


def report_for(engine: Engine, pcn: str) -> ClaimReport:
    result = reconcile(engine, OCTOBER, TODAY)
    return next(c for c in result.claims if c.patient_control_number == pcn)


def test_full_payment_marks_the_claim_paid_and_stores_the_payer_claim_number(
    closed: Engine,
) -> None:
    outcome = post(closed, "full_payment.835")
    assert outcome.posted[0].exact_lines == 1 and outcome.posted[0].unmatched_claims == []
    claim = report_for(closed, "ECM000000001")
    assert claim.balance.status is Status.PAID
    assert (claim.balance.paid, claim.balance.balance) == (Decimal("100.00"), Decimal("0.00"))
    with unit_of_work(closed) as session:
        stored = session.scalar(
            select(models.Claim).where(models.Claim.patient_control_number == "ECM000000001")
        )
        assert stored is not None and stored.payer_claim_control_number == "PAYER0000001"


def test_partial_payment_shows_the_contractual_adjustment_per_line(closed: Engine) -> None:
    post(closed, "partial_payment.835")
    claim = report_for(closed, "ECM000000003")
    assert claim.balance.status is Status.PARTIAL
    assert (claim.balance.billed, claim.balance.paid, claim.balance.adjusted) == (
        Decimal("275.00"), Decimal("215.00"), Decimal("60.00"),
    )  # fmt: skip
    assert [line.balance.status for line in claim.lines] == [Status.PARTIAL, Status.PAID]
    assert claim.balance.balance == Decimal("0.00")


def test_denial_is_grouped_by_its_reason_code_with_the_description(closed: Engine) -> None:
    post(closed, "denial.835")
    result = reconcile(closed, OCTOBER, TODAY)
    claim = next(c for c in result.claims if c.patient_control_number == "ECM000000002")
    assert claim.balance.status is Status.DENIED
    assert [(d.carc, d.description, d.lines, d.amount) for d in result.denials] == [
        ("177", "Patient has not met the eligibility requirements", 1, Decimal("75.00"))
    ]


def test_reversal_cancels_the_payment_and_a_repayment_posts_again(closed: Engine) -> None:
    post(closed, "full_payment.835")
    post(closed, "reversal.835")
    reversed_claim = report_for(closed, "ECM000000001")
    assert reversed_claim.balance.status is Status.REVERSED
    assert reversed_claim.balance.paid == Decimal("0.00")
    post(closed, "repayment.835")
    repaid = report_for(closed, "ECM000000001")
    assert repaid.balance.status is Status.PARTIAL
    assert (repaid.balance.paid, repaid.balance.adjusted) == (Decimal("90.00"), Decimal("10.00"))
    with unit_of_work(closed) as session:
        number = session.scalar(
            select(models.Claim.payer_claim_control_number).where(
                models.Claim.patient_control_number == "ECM000000001"
            )
        )
    assert number == "PAYER0000009"


def test_provider_level_adjustment_is_posted_apart_from_claims(closed: Engine) -> None:
    outcome = post(closed, "provider_adjustment.835")
    assert outcome.posted[0].provider_adjustments == Decimal("15.00")
    result = reconcile(closed, OCTOBER, TODAY)
    assert result.provider_adjustments == Decimal("15.00")
    assert report_for(closed, "ECM000000004").balance.status is Status.PAID


def test_a_line_whose_modifiers_the_payer_dropped_is_matched_and_marked_inferred(
    closed: Engine,
) -> None:
    outcome = post(closed, "modifier_dropped.835")
    assert (outcome.posted[0].exact_lines, outcome.posted[0].inferred_lines) == (0, 1)
    claim = report_for(closed, "ECM000000001")
    assert claim.lines[0].inferred and claim.lines[0].balance.status is Status.PAID


def test_an_unknown_claim_is_listed_not_dropped(closed: Engine) -> None:
    outcome = post(closed, "unknown_claim.835")
    assert outcome.posted[0].unmatched_claims == ["ECM999999999"]
    result = reconcile(closed, OCTOBER, TODAY)
    assert [(u.patient_control_number, u.paid) for u in result.unmatched] == [
        ("ECM999999999", Decimal("50.00"))
    ]


def test_the_same_835_again_changes_nothing_and_says_so(closed: Engine, tmp_path: Path) -> None:
    post(closed, "full_payment.835")
    copy = tmp_path / "renamed.835"
    shutil.copy(FIXTURES / "full_payment.835", copy)
    again = import_835(closed, copy, actor="test")
    assert again.posted == [] and again.already_imported == ["CHK-1001"]
    with unit_of_work(closed) as session:
        assert session.scalar(select(func.count()).select_from(models.RemitClaim)) == 1


def test_a_truncated_file_is_refused_with_the_segment_and_nothing_is_posted(
    closed: Engine, tmp_path: Path
) -> None:
    text = (FIXTURES / "partial_payment.835").read_text()
    cut = tmp_path / "cut.835"
    cut.write_text(text[: text.index("SVC*HC:G9012")])
    with pytest.raises(RemitFileError) as caught:
        import_835(closed, cut, actor="test")
    assert caught.value.problems[0] == "the file is truncated: it ends after segment 16"
    assert any("Transaction Set Trailer" in p for p in caught.value.problems)
    with unit_of_work(closed) as session:
        assert session.scalar(select(func.count()).select_from(models.Remittance)) == 0


def test_a_malformed_segment_is_refused_with_its_number_and_reason(
    closed: Engine, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.835"
    bad.write_text(
        (FIXTURES / "denial.835").read_text().replace("CLP*ECM000000002*4*", "CLP*ECM000000002*X*")
    )
    with pytest.raises(RemitFileError) as caught:
        import_835(closed, bad, actor="test")
    # The transaction (ST02, TRN02) and the segment counted from the start of the file.
    assert caught.value.problems == [
        "ST 0001 (TRN NOPAY-1003), segment 12 (CLP): the value is not a valid code for Claim "
        "Status Code (CLP02)"
    ]


def test_a_binary_file_offered_as_an_835_is_refused_with_a_reason(
    closed: Engine, tmp_path: Path
) -> None:
    pdf = tmp_path / "remit.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + bytes(range(256)))
    with pytest.raises(RemitFileError) as caught:
        import_835(closed, pdf, actor="test")
    assert caught.value.problems == [
        "not an X12 file: it is not plain text (a PDF, spreadsheet or zip file?)"
    ]


def test_claims_never_answered_are_aged_from_the_day_they_were_sent(closed: Engine) -> None:
    post(closed, "full_payment.835")
    result = reconcile(closed, OCTOBER, TODAY)
    assert result.count(Status.NO_ANSWER) == 3
    assert result.ageing == {"0-30": 3, "31-60": 0, "61-90": 0, "90+": 0}


def test_a_replacement_after_a_remittance_carries_clp07_in_ref_f8(
    closed: Engine, contract: Contract, tmp_path: Path
) -> None:
    post(closed, "full_payment.835")
    add_time(closed, tmp_path, contract,
             [["A-3", "S1", A, "2026-10-28", "40", "care_coordination", "in_person"]])  # fmt: skip
    close_period(closed, OCTOBER, contract, actor="test", today=TODAY)
    out = tmp_path / "replacement.837"
    export_claims(closed, OCTOBER, "837p", out, actor="test")
    assert x12_errors(out) == []
    text = out.read_text()
    assert ":B:7*" in text and "REF*F8*PAYER0000001~" in text


def test_a_replacement_made_before_the_remittance_is_sent_with_clp07_in_ref_f8(
    closed: Engine, contract: Contract, tmp_path: Path
) -> None:
    add_time(closed, tmp_path, contract,
             [["A-3", "S1", A, "2026-10-28", "40", "care_coordination", "in_person"]])  # fmt: skip
    close_period(closed, OCTOBER, contract, actor="test", today=TODAY)
    post(closed, "full_payment.835")  # the answer to the original arrives after the close
    out = tmp_path / "replacement.837"
    export_claims(closed, OCTOBER, "837p", out, actor="test")
    assert x12_errors(out) == []
    assert "REF*F8*PAYER0000001~" in out.read_text()


def test_an_837_offered_as_an_835_is_refused(closed: Engine, tmp_path: Path) -> None:
    with pytest.raises(RemitFileError, match="not an 835 005010X221A1"):
        import_835(closed, tmp_path / "october.837", actor="test")
