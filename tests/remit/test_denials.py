"""The denial work list: October's claims (tests/claims/world.py) answered by the hand-written
835s of tests/remit/fixtures; each rule with its worked numbers.

ECM000000002 (member B, G9012 U2 GQ, 75.00) denied: CO 177 75.00, remark N30.
ECM000000003 (member C) partly paid: line 1 G9008 U1 200.00 paid 140.00 (CO 45 60.00),
line 2 G9012 U2 75.00 paid in full.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from ecmbill.contract import Contract
from ecmbill.remit.denials import (
    DenialQuery,
    DenialWorkError,
    WorkStatus,
    denial_detail,
    denial_list,
    resubmit,
    set_status,
)
from ecmbill.remit.model import Status
from ecmbill.remit.post import import_835
from ecmbill.remit.reconcile import ReconciliationQuery, money, reconciliation_page
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.claims.world import B, add_time
from tests.conftest import TODAY

FIXTURES = Path(__file__).parent / "fixtures"
D = Decimal


@pytest.fixture
def answered(closed: Engine) -> Engine:
    import_835(closed, FIXTURES / "full_payment.835", actor="test")
    import_835(closed, FIXTURES / "denial.835", actor="test")
    import_835(closed, FIXTURES / "partial_payment.835", actor="test")
    return closed


def test_the_work_list_has_every_denied_or_partly_paid_line_with_its_reasons_in_words(
    answered: Engine,
) -> None:
    found = denial_list(answered, DenialQuery(sort="claim"), TODAY)
    assert (found.matching, found.amount) == (2, D("135.00"))  # 75.00 denied + 60.00 cut
    denied, cut = found.denials
    assert (denied.item.patient_control_number, denied.item.line_number) == ("ECM000000002", 1)
    assert (denied.item.billed, denied.item.paid, denied.item.amount) == (D("75"), 0, D("75"))
    assert denied.item.member_id == B and denied.item.status == "open"
    assert [r.label for r in denied.reasons] == [
        "CO 177: Patient has not met the eligibility requirements",
        "remark N30: Patient ineligible for this service",
    ]
    assert (cut.item.patient_control_number, cut.item.amount) == ("ECM000000003", D("60.00"))
    assert [r.code for r in cut.reasons] == ["45"]
    assert [(r.code, r.items, r.amount) for r in found.by_reason] == [
        ("177", 1, D("75.00")), ("45", 1, D("60.00")),
    ]  # fmt: skip


def test_the_work_list_filters_by_reason_status_and_age(answered: Engine) -> None:
    assert denial_list(answered, DenialQuery(reason="177"), TODAY).matching == 1
    assert denial_list(answered, DenialQuery(reason="999"), TODAY).matching == 0
    # The 835s are dated 2026-11-20; TODAY is within 30 days of it.
    assert denial_list(answered, DenialQuery(age="0-30"), TODAY).matching == 2
    assert denial_list(answered, DenialQuery(age="31-60"), TODAY).matching == 0
    later = TODAY + timedelta(days=45)
    assert denial_list(answered, DenialQuery(age="31-60"), later).matching == 2
    assert denial_list(answered, DenialQuery(status=WorkStatus.OPEN), TODAY).matching == 2


def test_a_written_off_denial_keeps_its_note_who_and_history_and_is_audited(
    answered: Engine,
) -> None:
    key = denial_list(answered, DenialQuery(reason="45"), TODAY).denials[0].item.item_key
    with pytest.raises(DenialWorkError, match="say why"):
        set_status(answered, key, WorkStatus.WRITTEN_OFF, " ", actor="web:bill")
    set_status(answered, key, WorkStatus.APPEALED, "fee schedule is wrong", actor="web:bill")
    set_status(answered, key, WorkStatus.WRITTEN_OFF, "plan upheld the rate", actor="web:ann")
    detail = denial_detail(answered, key, TODAY)
    assert detail is not None
    assert detail.denial.item.status == "written_off"
    assert [(h.status, h.note, h.actor) for h in detail.history] == [
        ("appealed", "fee schedule is wrong", "web:bill"),
        ("written_off", "plan upheld the rate", "web:ann"),
    ]
    assert denial_list(answered, DenialQuery(status=WorkStatus.OPEN), TODAY).matching == 1
    with unit_of_work(answered) as session:
        trail = session.scalars(
            select(models.AuditRecord).where(models.AuditRecord.entity == "denial")
        ).all()
    assert [r.entity_key for r in trail] == ["ECM000000003 line 1"] * 2


def test_resubmit_sends_the_corrected_claim_through_the_close_and_links_it(
    answered: Engine, contract: Contract, tmp_path: Path
) -> None:
    key = denial_list(answered, DenialQuery(reason="177"), TODAY).denials[0].item.item_key
    with pytest.raises(DenialWorkError, match="nothing changed"):
        resubmit(answered, key, contract, "", actor="test", today=TODAY)
    add_time(answered, tmp_path, contract,
             [["B-2", "S2", B, "2026-10-21", "30", "care_coordination", "telephonic"]])  # fmt: skip
    sent = resubmit(answered, key, contract, "eligibility fixed", actor="test", today=TODAY)
    # The contract's after_denial is new_original: a denied claim is sent again as frequency 1.
    assert (sent.patient_control_number, sent.frequency, sent.marked) == ("ECM000000005", "1", 1)
    detail = denial_detail(answered, key, TODAY)
    assert detail is not None
    assert (detail.denial.item.status, detail.denial.item.replacement) == (
        "corrected", "ECM000000005",
    )  # fmt: skip
    with pytest.raises(DenialWorkError, match="newer claim"):
        resubmit(answered, key, contract, "", actor="test", today=TODAY)


def test_money_by_period_and_in_total_is_summed_from_the_claims_and_835s(
    answered: Engine,
) -> None:
    """Billed 100 + 75 + 275 + 65 = 515.00; paid 100 + 0 + 215 = 315.00; contractual
    177 75.00 + 45 60.00 = 135.00; outstanding: D's 65.00, never answered."""
    periods, total = money(answered)
    assert [p.period for p in periods] == ["2026-10"]
    assert (total.claims, total.billed, total.paid, total.contractual, total.other_adjusted,
            total.patient_responsibility, total.outstanding) == (
        4, D("515.00"), D("315.00"), D("135.00"), 0, 0, D("65.00"),
    )  # fmt: skip


def test_the_reconciliation_pages_filters_and_sorts_in_the_database(answered: Engine) -> None:
    page = reconciliation_page(answered, ReconciliationQuery(sort="billed", descending=True,
                                                             size=2), TODAY)  # fmt: skip
    assert page.matching == 4 and page.pages == 2
    assert [c.patient_control_number for c in page.claims] == ["ECM000000003", "ECM000000001"]
    assert page.counts[Status.PARTIAL] == 1 and page.counts[Status.NO_ANSWER] == 1
    denied = reconciliation_page(answered, ReconciliationQuery(status=Status.DENIED), TODAY)
    assert [c.patient_control_number for c in denied.claims] == ["ECM000000002"]
    assert denied.ageing == {"0-30": 1, "31-60": 0, "61-90": 0, "90+": 0}
