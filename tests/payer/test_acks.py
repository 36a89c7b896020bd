"""999 and 277CA acknowledgments, written by hand after the 005010X231A1 and 005010X214
guides (tests/payer/fixtures), read with pyx12 and posted against October's claims
(ECM000000001 member A, 2 B, 3 C, 4 D, sent in one 837P: GS06 1, ST02 0001)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from ecmbill.claims.close import close_period
from ecmbill.claims.export import export_claims
from ecmbill.claims.views import claim_timeline, list_claims, rejected_claims
from ecmbill.contract import Contract
from ecmbill.domain.payer import Outcome
from ecmbill.payer.acks import AckFileError, AckOutcome, import_ack
from ecmbill.payer.codes import parse_codes
from ecmbill.remit.model import Status
from ecmbill.remit.post import import_835
from ecmbill.remit.reconcile import ClaimReport, reconcile
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.claims.world import OCTOBER, configure, load
from tests.claims.x12check import x12_errors
from tests.conftest import TODAY

FIXTURES = Path(__file__).with_name("fixtures")


@pytest.fixture
def sent(store_engine: Engine, contract: Contract, tmp_path: Path) -> Engine:
    load(store_engine, tmp_path, contract)
    configure(store_engine)
    close_period(store_engine, OCTOBER, contract, actor="test", today=TODAY)
    result = export_claims(store_engine, OCTOBER, "837p", tmp_path / "oct.837", actor="test")
    assert result.control is not None and (result.control.group, result.control.transaction) == (
        1,
        1,
    )
    return store_engine


def post(engine: Engine, name: str) -> AckOutcome:
    return import_ack(engine, FIXTURES / name, actor="test")


def statuses(engine: Engine) -> dict[str, str]:
    return {c.patient_control_number: c.status for c in list_claims(engine, OCTOBER)}


def test_the_hand_written_acknowledgments_are_valid_for_pyx12() -> None:
    for name in ("accepted.999", "rejected.999", "resent.999", "claims.277", "resent.277"):
        assert x12_errors(FIXTURES / name) == [], name


def test_a_999_that_accepts_the_file_is_matched_to_it_by_gs06_and_st02(sent: Engine) -> None:
    outcome = post(sent, "accepted.999")
    assert outcome.kind == "999"
    [answer] = outcome.sets
    assert (answer.group, answer.transaction, answer.outcome) == (1, 1, Outcome.ACCEPTED)
    assert answer.claims == ("ECM000000001", "ECM000000002", "ECM000000003", "ECM000000004")
    assert outcome.rejected == [] and set(statuses(sent).values()) == {"active"}
    [timeline] = claim_timeline(sent, "ECM000000002") or []
    assert [step.event for step in timeline.steps] == ["created", "sent", "file accepted"]
    assert "accepted.999" in timeline.last.detail


def test_a_999_that_rejects_the_file_lists_its_claims_with_the_errors_in_words(
    sent: Engine,
) -> None:
    outcome = post(sent, "rejected.999")
    [answer] = outcome.sets
    assert answer.outcome is Outcome.REJECTED
    assert answer.reasons == (
        "rejected",
        "one or more segments in error",
        "segment NM1 (position 24, loop 2010): segment has data element errors; element 9 "
        "(data element 67): invalid code value",
        "segment REF (position 9): required segment missing",
    )
    assert sorted(outcome.rejected) == [f"ECM00000000{n}" for n in range(1, 5)]
    assert set(statuses(sent).values()) == {"rejected"}
    work = {item.patient_control_number: item for item in rejected_claims(sent, OCTOBER)}
    assert len(work) == 4
    # The CTX ties the NM1 error to claim 2: claim 1's reasons leave it out.
    assert any("NM1" in reason for reason in work["ECM000000002"].reasons)
    assert not any("NM1" in reason for reason in work["ECM000000001"].reasons)
    assert work["ECM000000001"].source.startswith("999 rejected.999")


def test_a_277ca_accepts_and_rejects_claims_with_the_status_codes_in_words(
    sent: Engine,
) -> None:
    post(sent, "accepted.999")
    outcome = post(sent, "claims.277")
    assert outcome.kind == "277CA"
    by_pcn = {claim.patient_control_number: claim for claim in outcome.claims}
    assert by_pcn["ECM000000001"].outcome is Outcome.REJECTED
    assert by_pcn["ECM000000001"].reasons == (
        "Acknowledgement: rejected for invalid information: Diagnosis code",
    )
    assert by_pcn["ECM000000002"].outcome is Outcome.ACCEPTED
    assert by_pcn["ECM000000002"].reasons == (
        "Acknowledgement: accepted into the adjudication system: Accepted for processing",
    )
    # A claim that is not ours is listed, never dropped; both of its status codes in words.
    unknown = by_pcn["ECM999999999"]
    assert not unknown.matched and unknown.outcome is Outcome.REJECTED
    assert unknown.reasons[1] == (
        "Acknowledgement: returned as unprocessable claim: Subscriber and subscriber id not "
        "found (subscriber (the member))"
    )
    assert outcome.rejected == ["ECM000000001"]
    assert statuses(sent)["ECM000000001"] == "rejected"
    assert statuses(sent)["ECM000000002"] == "active"
    [b] = claim_timeline(sent, "ECM000000002") or []
    assert b.claim.payer_claim_control_number == "PAYER0002"
    assert [step.event for step in b.steps] == [
        "created",
        "sent",
        "file accepted",
        "claim accepted",
    ]
    [item] = rejected_claims(sent, OCTOBER)
    assert item.patient_control_number == "ECM000000001" and "Diagnosis code" in item.reasons[0]


def test_the_277ca_records_the_payers_claim_number(sent: Engine) -> None:
    post(sent, "claims.277")
    claims = {c.patient_control_number: c for c in list_claims(sent, OCTOBER)}
    assert claims["ECM000000002"].payer_claim_control_number == "PAYER0002"


def test_the_same_acknowledgment_again_changes_nothing(sent: Engine) -> None:
    post(sent, "claims.277")
    with unit_of_work(sent) as session:
        before = session.scalar(select(func.count()).select_from(models.ClaimAck))
        audit_before = session.scalar(select(func.count()).select_from(models.AuditRecord))
    again = post(sent, "claims.277")
    assert again.already_imported and again.claims == []
    with unit_of_work(sent) as session:
        assert session.scalar(select(func.count()).select_from(models.ClaimAck)) == before
        assert session.scalar(select(func.count()).select_from(models.AuditRecord)) == audit_before


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("truncated.277", "the file is truncated"),
        ("../../remit/fixtures/full_payment.835", "not a 999 or a 277CA"),
    ],
)
def test_a_bad_file_is_refused_with_the_segment_and_reason_and_nothing_is_posted(
    sent: Engine, name: str, expected: str
) -> None:
    with pytest.raises(AckFileError) as refused:
        post(sent, name)
    assert expected in refused.value.problems[0]
    assert any("segment" in problem for problem in refused.value.problems)
    with unit_of_work(sent) as session:
        assert session.scalar(select(func.count()).select_from(models.AckInterchange)) == 0
    assert set(statuses(sent).values()) == {"active"}


def test_a_file_that_is_not_x12_is_refused(sent: Engine, tmp_path: Path) -> None:
    garbage = tmp_path / "report.pdf"
    garbage.write_bytes(b"%PDF-1.4 \xff\xfe")
    with pytest.raises(AckFileError, match="not X12 text"):
        import_ack(sent, garbage, actor="test")


def test_a_status_code_missing_from_the_code_file_is_shown_as_unknown(sent: Engine) -> None:
    codes = parse_codes('[category]\n"A2" = "accepted"\n')
    outcome = import_ack(sent, FIXTURES / "claims.277", actor="test", codes=codes)
    by_pcn = {claim.patient_control_number: claim for claim in outcome.claims}
    assert by_pcn["ECM000000002"].reasons == ("accepted: unknown code 20",)


def test_a_claim_rejected_by_a_277ca_corrected_and_resent_ends_paid_by_an_835(
    sent: Engine, contract: Contract, tmp_path: Path
) -> None:
    """The 277CA rejects member A's claim for its diagnosis code; the biller corrects the
    setting and closes October again, which makes A's claim anew (ECM000000005) and leaves
    the others alone; the next 837P carries only it; the 999, the 277CA and an 835 follow."""
    post(sent, "accepted.999")
    post(sent, "claims.277")
    configure(sent, diagnosis_code="Z71.89")
    again = close_period(sent, OCTOBER, contract, actor="test", today=TODAY)
    assert [(c.patient_control_number, c.action.value) for c in again.created] == [
        ("ECM000000005", "original")
    ]
    second = export_claims(sent, OCTOBER, "837p", tmp_path / "resend.837", actor="test")
    assert second.claims == 1 and second.control is not None
    assert (second.control.group, second.control.transaction) == (2, 2)
    assert x12_errors(tmp_path / "resend.837") == []
    assert post(sent, "resent.999").sets[0].claims == ("ECM000000005",)
    assert post(sent, "resent.277").rejected == []
    import_835(sent, FIXTURES / "resent_paid.835", actor="test")
    assert rejected_claims(sent, OCTOBER) == []

    first, resent = claim_timeline(sent, "ECM000000001") or []
    assert [s.event for s in first.steps] == ["created", "sent", "file accepted", "claim rejected"]
    assert first.claim.status == "rejected"
    assert [s.event for s in resent.steps] == [
        "created", "sent", "file accepted", "claim accepted", "835 paid",
    ]  # fmt: skip
    assert "re-sends ECM000000001" in resent.steps[0].detail
    assert resent.claim.payer_claim_control_number == "PAYER0005"
    report = reconcile(sent, OCTOBER, TODAY)
    paid = next(c for c in report.claims if c.patient_control_number == "ECM000000005")
    assert paid.balance.status is Status.PAID
    assert "ECM000000001" not in {c.patient_control_number for c in report.claims}


def claim_two(engine: Engine, today: date) -> ClaimReport:
    report = reconcile(engine, OCTOBER, today)
    return next(c for c in report.claims if c.patient_control_number == "ECM000000002")


def test_ageing_counts_from_the_last_answer(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(store_engine, tmp_path, contract)
    configure(store_engine)
    close_period(store_engine, OCTOBER, contract, actor="test", today=TODAY)
    export_claims(store_engine, OCTOBER, "837p", tmp_path / "oct.837", actor="test",
                  now=datetime(2026, 11, 1, 9, tzinfo=UTC))  # fmt: skip
    before = claim_two(store_engine, date(2026, 12, 20))
    assert (str(before.sent_on), before.ageing) == ("2026-11-01", "31-60")
    post(store_engine, "accepted.999")  # 2026-11-02
    post(store_engine, "claims.277")  # claim 2 accepted on 2026-11-03
    after = claim_two(store_engine, date(2026, 12, 20))
    assert (str(after.sent_on), after.ageing) == ("2026-11-03", "31-60")
    later = claim_two(store_engine, date(2026, 12, 2))
    assert later.ageing == "0-30"  # 29 days after the 277CA, 31 after the file was sent
