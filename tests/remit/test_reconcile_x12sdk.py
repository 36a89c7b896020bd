"""Reconciliation against 835s written by an independent library, x12sdk (its remittance
builder: the balancing is its own, its envelope its own, no code of ours), paying, partly
paying, denying and reversing October's claims (tests/claims/world.py).

The claims, as closed: ECM000000001 A (G9008 U1, 100.00), ECM000000002 B (G9012 U2 GQ,
75.00), ECM000000003 C (G9008 U1 2 units 200.00 + G9012 U2 75.00), ECM000000004 D (outreach
G9008 U8 GQ 25.00 + G9012 U8 40.00).

Worked by hand:
- A paid in full: billed 100.00, paid 100.00, adjusted 0, patient 0, balance 0 (paid).
- B denied, CO 177 75.00: billed 75.00, paid 0, adjusted 75.00, balance 0 (denied).
- C partly paid: line 1 CO 45 60.00 (paid 140.00), line 2 PR 2 coinsurance 15.00 (paid 60.00):
  billed 275.00, paid 200.00, adjusted 60.00, patient 15.00, balance 0 (partial).
- D paid 65.00 in the first 835; the second reverses it (CLP02 22, -65.00) and pays it again
  at 60.00 with CO 45 5.00: paid 65 - 65 + 60 = 60.00, adjusted 5.00, balance 0 (partial).
  The first check: 100.00 + 0 + 200.00 + 65.00 = 365.00. The second: -65.00 + 60.00 claims,
  less interest PLB L6 -10.00 = 5.00.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine
from x12sdk.generate import AdjustmentSpec, ClaimSpec, ServiceLineSpec, build_835
from x12sdk.generate._spec import ProviderAdjustmentSpec, RemittanceSpec
from x12sdk.io import write_transactions

from ecmbill.remit.model import Status
from ecmbill.remit.post import import_835
from ecmbill.remit.reconcile import reconcile
from tests.claims.world import OCTOBER, SETTINGS
from tests.conftest import TODAY

D = Decimal


def line(charge: str, procedure: str, *adjustments: AdjustmentSpec) -> ServiceLineSpec:
    return ServiceLineSpec(charge=D(charge), procedure=procedure, adjustments=adjustments)


def claim(pcn: str, status: str, *lines: ServiceLineSpec) -> ClaimSpec:
    return ClaimSpec(
        charge=sum((x.charge for x in lines), D("0.00")), lines=lines, status=status,
        patient_control_number=pcn,
    )  # fmt: skip


def x12sdk_835(
    path: Path, claims: list[ClaimSpec], control: int, plb: tuple[ProviderAdjustmentSpec, ...] = ()
) -> Path:
    spec = RemittanceSpec(claims=claims, payer_name="TEST HEALTH PLAN",
                          payee_name="TEST ECM PROVIDER", provider_adjustments=plb)  # fmt: skip
    model = build_835(spec, seed=control)
    # The payee is us: x12sdk invents an NPI, the plan would name our billing NPI.
    model.loop_1000b.n1_segment.identification_code = SETTINGS["billing_npi"]
    text = write_transactions(
        [model], sender_id="TESTPLAN", receiver_id="ECMTEST",
        interchange_control_number=f"{control:09d}", group_control_number=str(control),
        created=datetime(2026, 11, 20, 12, 0),
    )  # fmt: skip
    path.write_text(text)
    return path


def test_an_independent_libraries_835s_reconcile_to_the_amounts_worked_by_hand(
    closed: Engine, tmp_path: Path
) -> None:
    first = x12sdk_835(tmp_path / "first.835", [
        claim("ECM000000001", "1", line("100.00", "G9008:U1")),
        claim("ECM000000002", "4", line("75.00", "G9012:U2:GQ", AdjustmentSpec("CO", "177",
                                                                               D("75.00")))),
        claim("ECM000000003", "2",
              line("200.00", "G9008:U1", AdjustmentSpec("CO", "45", D("60.00"))),
              line("75.00", "G9012:U2", AdjustmentSpec("PR", "2", D("15.00")))),
        claim("ECM000000004", "1", line("25.00", "G9008:U8:GQ"), line("40.00", "G9012:U8")),
    ], control=501)  # fmt: skip
    outcome = import_835(closed, first, actor="test")
    posted = outcome.posted[0]
    assert (posted.payment_amount, posted.claims, posted.exact_lines) == (D("365.00"), 4, 6)
    assert posted.unmatched_claims == [] and posted.unmatched_lines == []
    # x12sdk writes neither BPR16 nor PER*BL: posted, with those two warnings kept.
    assert [w.split(": ", 1)[1].split(":")[0] for w in posted.warnings] == [
        "the payer's technical contact (PER*BL) is missing",
        "BPR16 (payment date) is missing or not a date",
    ]
    second = x12sdk_835(tmp_path / "second.835", [
        claim("ECM000000004", "22", line("-25.00", "G9008:U8:GQ"), line("-40.00", "G9012:U8")),
        claim("ECM000000004", "1", line("25.00", "G9008:U8:GQ"),
              line("40.00", "G9012:U8", AdjustmentSpec("CO", "45", D("5.00")))),
    ], control=502, plb=(ProviderAdjustmentSpec("L6", D("-10.00")),))  # fmt: skip
    again = import_835(closed, second, actor="test").posted[0]
    assert (again.payment_amount, again.reversals, again.provider_adjustments) == (
        D("5.00"), 1, D("-10.00"),
    )  # fmt: skip

    result = reconcile(closed, OCTOBER, TODAY)
    by_claim = {
        c.patient_control_number: (
            c.balance.billed, c.balance.paid, c.balance.adjusted,
            c.balance.patient_responsibility, c.balance.balance, c.balance.status,
        )
        for c in result.claims
    }  # fmt: skip
    assert by_claim == {
        "ECM000000001": (D("100.00"), D("100.00"), D("0.00"), D("0.00"), D("0.00"), Status.PAID),
        "ECM000000002": (D("75.00"), D("0.00"), D("75.00"), D("0.00"), D("0.00"), Status.DENIED),
        "ECM000000003": (D("275.00"), D("200.00"), D("60.00"), D("15.00"), D("0.00"),
                         Status.PARTIAL),
        "ECM000000004": (D("65.00"), D("60.00"), D("5.00"), D("0.00"), D("0.00"),
                         Status.PARTIAL),
    }  # fmt: skip
    lines_c = [(x.balance.paid, x.balance.adjusted, x.balance.patient_responsibility)
               for x in next(c for c in result.claims
                             if c.patient_control_number == "ECM000000003").lines]  # fmt: skip
    assert lines_c == [(D("140.00"), D("60.00"), D("0.00")), (D("60.00"), D("0.00"), D("15.00"))]
    assert result.provider_adjustments == D("-10.00")
    assert [(d.carc, d.lines, d.amount) for d in result.denials] == [("177", 1, D("75.00"))]
