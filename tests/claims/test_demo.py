"""``ecmbill demo`` closes its month under both plans, writes one 837P and one invoice per
payer, and reconciles each payer's simulated 835, which pays its own plans' claims only."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecmbill.claims.views import list_claims
from ecmbill.cli import app
from ecmbill.domain.period import Period
from ecmbill.remit.reconcile import reconcile
from ecmbill.store.db import open_store
from tests.claims.x12check import x12_errors

PAYERS = {"default": "default-DEMOPLAN", "chp2": "chp2-DEMOCHP2"}


@pytest.mark.slow
def test_demo_writes_a_valid_837p_and_an_invoice_per_payer_and_each_835_pays_its_own_plan(
    tmp_path: Path,
) -> None:
    result = CliRunner().invoke(
        app,
        ["demo", "--database", f"sqlite:///{tmp_path / 'demo.db'}", "--period", "2026-10",
         "--members", "30"],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    engine = open_store(f"sqlite:///{tmp_path / 'demo.db'}")
    claims = list_claims(engine, Period.parse("2026-10"))
    plan_of = {claim.patient_control_number: claim.plan for claim in claims}
    # 30 members: 20 of the default plan, 10 of chp2; each mover has a claim to each plan
    # (each plan's own 271 says the mover is eligible with it for the month).
    assert sum(1 for plan in plan_of.values() if plan == "default") == 21
    assert sum(1 for plan in plan_of.values() if plan == "chp2") == 11
    for plan, payer in PAYERS.items():
        x12 = tmp_path / f"demo-837p-{payer}.txt"
        invoice = tmp_path / f"demo-invoice-{payer}.xlsx"
        remittance = tmp_path / f"demo-835-{payer}.txt"
        assert x12.exists() and invoice.exists() and remittance.exists()
        assert f"837P claims file: {x12}" in result.output
        assert f"Invoice file:     {invoice}" in result.output
        assert f"Simulated 835:    {remittance}" in result.output
        assert x12_errors(x12) == []
        # Each file holds its plan's claims only: the 837P's and the 835's claim numbers.
        sent = re.findall(r"~\nCLM\*(ECM\d+)\*", x12.read_text(encoding="ascii"))
        answered = re.findall(r"~\nCLP\*(ECM\d+)\*", remittance.read_text(encoding="ascii"))
        assert sent and {plan_of[pcn] for pcn in sent} == {plan}
        assert answered and {plan_of[pcn] for pcn in answered} == {plan}
        # And its payer's 835 posted them: the plan's claims are paid, by that 835's money.
        report = reconcile(engine, Period.parse("2026-10"), date(2026, 12, 1), plan=plan)
        paid = [c for c in report.claims if c.balance.paid > 0]
        assert paid and {plan_of[c.patient_control_number] for c in paid} == {plan}
        assert f"TRN DEMO-2026-10-{payer.split('-')[1]}: payment" in result.output
    assert (
        "plan default: 20 claim(s)" in result.output and "plan chp2: 10 claim(s)" in result.output
    )
    # One claim of the month is never answered, as before plans (the story runs over both).
    assert "1 no answer yet" in result.output and "Denials by reason" in result.output
