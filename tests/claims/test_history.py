"""File history, money at a glance and reopening, on the store (SQLite, and PostgreSQL with
ECMBILL_TEST_DATABASE=postgresql), through the services and the CLI."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from ecmbill.claims import money, reopen
from ecmbill.claims.close import close_period, first_close
from ecmbill.claims.export import NothingToExport, export_claims
from ecmbill.claims.history import file_history, take_again
from ecmbill.claims.views import claims_page, claims_waiting
from ecmbill.cli import app
from ecmbill.contract import Contract
from ecmbill.exchange.otf import write_otf
from ecmbill.fieldwork.time import period_is_open
from ecmbill.rating.service import rate
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.claims.test_cli import url
from tests.claims.world import OCTOBER, configure, load
from tests.conftest import TODAY

runner = CliRunner()


def audit_actions(engine: Engine, entity: str) -> list[str]:
    with unit_of_work(engine) as session:
        return list(
            session.scalars(
                select(models.AuditRecord.action)
                .where(models.AuditRecord.entity == entity)
                .order_by(models.AuditRecord.id)
            )
        )


def test_every_file_produced_is_kept_with_its_checksum_and_comes_back_byte_for_byte(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(store_engine, tmp_path, contract)
    configure(store_engine)
    close_period(store_engine, OCTOBER, contract, actor="cli:pat", today=TODAY)
    out = tmp_path / "october.837"
    result = export_claims(store_engine, OCTOBER, "837p", out, actor="cli:pat")
    sent = out.read_bytes()
    otf = write_otf(store_engine, OCTOBER, tmp_path / "otf.xlsx", actor="cli:pat")
    assert otf.rows == 2
    files, total = file_history(store_engine, OCTOBER)
    assert total == 2 and [f.kind for f in files] == ["otf", "837p"]  # newest first
    kept = files[1]
    assert (kept.file_name, kept.records, kept.actor) == ("october.837", result.claims, "cli:pat")
    assert kept.sha256 == hashlib.sha256(sent).hexdigest() and kept.size == len(sent)
    # The second export has nothing new: the history is where the file is found again.
    with pytest.raises(NothingToExport):
        export_claims(store_engine, OCTOBER, "837p", tmp_path / "again.837", actor="cli:pat")
    found = take_again(store_engine, kept.id, actor="cli:auditor")
    assert found is not None and found[1] == sent
    assert hashlib.sha256(found[1]).hexdigest() == kept.sha256
    assert audit_actions(store_engine, "produced_file") == ["produce", "produce", "download"]
    assert take_again(store_engine, 999_999, actor="cli:auditor") is None
    assert file_history(store_engine, OCTOBER, ("otf",))[1] == 1


def test_the_cli_lists_the_history_and_writes_a_file_again_with_the_same_checksum(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(store_engine, tmp_path, contract)
    configure(store_engine)
    database = ["--database", url(store_engine)]
    assert runner.invoke(app, ["close", "--period", "2026-10", *database]).exit_code == 0
    first = tmp_path / "first.txt"
    exported = runner.invoke(
        app,
        ["claims", "export", "--period", "2026-10", "--format", "837p", "--out", str(first),
         *database],
    )  # fmt: skip
    assert exported.exit_code == 0, exported.output
    listed = runner.invoke(app, ["claims", "files", "--period", "2026-10", *database])
    assert listed.exit_code == 0, listed.output
    checksum = hashlib.sha256(first.read_bytes()).hexdigest()
    assert "837P claims (X12)" in listed.output and "1 file(s) in all" in listed.output
    files, _ = file_history(store_engine, OCTOBER)
    again = tmp_path / "again.txt"
    written = runner.invoke(
        app, ["claims", "file-again", str(files[0].id), "--out", str(again), *database]
    )
    assert written.exit_code == 0, written.output
    assert checksum in written.output.replace("\n", "")
    assert again.read_bytes() == first.read_bytes()
    missing = runner.invoke(app, ["claims", "file-again", "4242", "--out", str(again), *database])
    assert missing.exit_code != 0 and "no file 4242 in the history" in missing.output


def test_expected_dollars_are_units_times_the_contract_rate_and_claimed_dollars_follow_the_close(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(store_engine, tmp_path, contract)
    configure(store_engine)
    rating = rate(store_engine, OCTOBER, contract)
    expected = money.expected(rating.lines, contract)
    by_code = {(c.code, c.modifiers): c for c in expected.by_code}
    # A: 50 minutes (1 unit) and C: 90 minutes (2 units) of clinical in-person time:
    # 3 units of G9008 U1 at $100.00 = $300.00.
    g9008 = by_code[("G9008", ("U1",))]
    assert (g9008.units, g9008.rate, g9008.amount) == (3, Decimal("100.00"), Decimal("300.00"))
    assert g9008.description == "ECM in person, clinical staff"
    assert expected.total == sum(
        (contract.rate_for(line.code, line.modifiers) * line.units for line in rating.lines),
        Decimal("0"),
    )
    assert money.claimed(store_engine, OCTOBER, contract).by_code == ()
    close_period(store_engine, OCTOBER, contract, actor="test", today=TODAY)
    claimed = money.claimed(store_engine, OCTOBER, contract)
    with unit_of_work(store_engine) as session:
        charged = session.scalar(select(func.sum(models.Claim.total_charge)))
    assert claimed.total == Decimal(charged).quantize(Decimal("0.01"))
    assert {(c.code, c.modifiers): c.amount for c in claimed.by_code}[("G9008", ("U1",))] == (
        Decimal("300.00")
    )


def test_a_period_closed_by_mistake_is_reopened_while_nothing_was_sent_and_audited(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(store_engine, tmp_path, contract)
    configure(store_engine)
    close_period(store_engine, OCTOBER, contract, actor="test", today=TODAY)
    with unit_of_work(store_engine) as session:
        made = session.scalar(select(func.count()).select_from(models.Claim))
    check = reopen.reopen_check(store_engine, OCTOBER)
    assert (check.closes, check.claims, check.sent) == (1, made, 0)
    with pytest.raises(reopen.CannotReopen, match="say why"):
        reopen.reopen_period(store_engine, OCTOBER, actor="web:root", reason=" ")
    reopen.reopen_period(store_engine, OCTOBER, actor="web:root", reason="closed too early")
    assert first_close(store_engine, OCTOBER) is None
    assert period_is_open(store_engine, OCTOBER)
    with unit_of_work(store_engine) as session:
        assert session.scalar(select(func.count()).select_from(models.Claim)) == 0
    assert audit_actions(store_engine, "period_reopen") == ["reopen"]
    assert audit_actions(store_engine, "claim").count("delete") == made
    with pytest.raises(reopen.CannotReopen, match="not closed"):
        reopen.reopen_check(store_engine, OCTOBER)
    # Closed again it makes the same claims anew; once one is sent, no reopening.
    again = close_period(store_engine, OCTOBER, contract, actor="test", today=TODAY)
    assert len(again.created) == made and again.changed_after_close == []
    export_claims(store_engine, OCTOBER, "csv", tmp_path / "sent.csv", actor="test")
    with pytest.raises(reopen.CannotReopen, match="already sent"):
        reopen.reopen_period(store_engine, OCTOBER, actor="web:root", reason="too late")


def test_the_cli_reopens_a_period_with_a_reason_and_refuses_one_never_closed(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(store_engine, tmp_path, contract)
    configure(store_engine)
    database = ["--database", url(store_engine)]
    never = runner.invoke(
        app, ["claims", "reopen", "--period", "2026-10", "--reason", "x", *database]
    )
    assert never.exit_code != 0 and "2026-10 is not closed" in never.output
    assert runner.invoke(app, ["close", "--period", "2026-10", *database]).exit_code == 0
    done = runner.invoke(
        app, ["claims", "reopen", "--period", "2026-10", "--reason", "wrong month", *database]
    )
    assert done.exit_code == 0, done.output
    assert "2026-10 reopened:" in done.output and "1 close(s) undone" in done.output
    assert first_close(store_engine, OCTOBER) is None


def test_the_claims_list_is_paged_filtered_and_sorted_by_the_database_with_its_totals(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(store_engine, tmp_path, contract)
    configure(store_engine)
    made = close_period(store_engine, OCTOBER, contract, actor="test", today=TODAY).created
    every = claims_page(store_engine, OCTOBER, page_size=100)
    assert every.total == len(made) >= 3
    assert every.total_charge == sum((c.total_charge for c in made), Decimal("0.00"))
    first = claims_page(store_engine, OCTOBER, page_size=2)
    second = claims_page(store_engine, OCTOBER, page=2, page_size=2)
    assert [r.claim.id for r in first.rows + second.rows] == [r.claim.id for r in every.rows][:4]
    assert first.total == every.total and len(first.rows) == 2
    dearest = claims_page(store_engine, OCTOBER, sort="charge", descending=True, page_size=100)
    charges = [r.claim.total_charge for r in dearest.rows]
    assert charges == sorted(charges, reverse=True)
    export_claims(store_engine, OCTOBER, "837p", tmp_path / "sent.837", actor="test")
    assert claims_page(store_engine, OCTOBER, sent=False).total == 0
    sent = claims_page(store_engine, OCTOBER, sent=True, page_size=1)
    assert sent.total == every.total and sent.rows[0].exported == ("837p",)
    assert sent.rows[0].lines >= 1
    assert claims_page(store_engine, OCTOBER, status="void").total == 0
    assert claims_waiting(store_engine, OCTOBER, ("837p", "csv")) == {"837p": 0, "csv": every.total}
