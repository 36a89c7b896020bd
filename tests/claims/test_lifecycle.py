"""Close October, correct it, and write what the payer receives: the store on SQLite and
PostgreSQL, every 837P checked by the pyx12 validator."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from ecmbill.claims.close import CloseResult, close_period
from ecmbill.claims.export import NothingToExport, export_claims
from ecmbill.claims.settings import SettingsError
from ecmbill.claims.views import claim_history
from ecmbill.contract import Contract
from ecmbill.domain.claims import Action
from ecmbill.imports.service import import_file
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.claims.world import (
    OCTOBER,
    A,
    B,
    C,
    D,
    add_time,
    configure,
    delete_time_of,
    lines_json,
    load,
    write_csv,
)
from tests.claims.x12check import x12_errors
from tests.conftest import TODAY


def close(engine: Engine, contract: Contract) -> CloseResult:
    return close_period(engine, OCTOBER, contract, actor="test", today=TODAY)


def export_837(engine: Engine, path: Path) -> str:
    export_claims(engine, OCTOBER, "837p", path, actor="test")
    assert x12_errors(path) == []
    return path.read_text()


def actions(result: CloseResult) -> dict[str, Action]:
    return {claim.member_id: claim.action for claim in result.created}


def test_lifecycle_late_entry_replaces_one_claim_and_deleting_its_entries_voids_it(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(engine, tmp_path, contract)
    configure(engine)

    first = close(engine, contract)
    assert actions(first) == {m: Action.ORIGINAL for m in (A, B, C, D)}
    original = export_837(engine, tmp_path / "original.837")
    assert original.count("CLM*") == 4 and ":B:1*" in original

    # A late entry for A: 50 + 40 minutes -> 2 units instead of 1.
    add_time(engine, tmp_path, contract,
             [["A-3", "S1", A, "2026-10-28", "40", "care_coordination", "in_person"]])  # fmt: skip
    second = close(engine, contract)
    assert actions(second) == {A: Action.REPLACEMENT}
    assert second.unchanged == 3
    assert second.changed_after_close == ["time/A-3"]
    replacement = export_837(engine, tmp_path / "replacement.837")
    a_original = next(c for c in first.created if c.member_id == A).patient_control_number
    assert replacement.count("CLM*") == 1
    assert ":B:7*" in replacement and f"REF*F8*{a_original}~" in replacement
    assert "SV1*HC:G9008:U1*200*UN*2***1~" in replacement
    assert "DTP*472*RD8*20261005-20261028~" in replacement

    delete_time_of(engine, A)
    third = close(engine, contract)
    assert actions(third) == {A: Action.VOID}
    void = export_837(engine, tmp_path / "void.837")
    a_replacement = second.created[0].patient_control_number
    assert ":B:8*" in void and f"REF*F8*{a_replacement}~" in void

    fourth = close(engine, contract)
    assert fourth.created == []
    with pytest.raises(NothingToExport):
        export_claims(engine, OCTOBER, "837p", tmp_path / "none.837", actor="test")
    assert not (tmp_path / "none.837").exists()

    history = claim_history(engine, a_original)
    assert history is not None
    assert [(c.frequency, c.status) for c in history] == [
        ("1", "replaced"), ("7", "voided"), ("8", "void"),
    ]  # fmt: skip
    assert history[2].lines == history[1].lines  # a void repeats the claim it voids


def test_closing_an_unchanged_period_again_creates_nothing(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(engine, tmp_path, contract)
    configure(engine)
    close(engine, contract)
    again = close(engine, contract)
    assert again.created == [] and again.unchanged == 4
    with unit_of_work(engine) as session:
        assert len(session.scalars(select(models.PeriodClose)).all()) == 1
        assert len(session.scalars(select(models.Claim)).all()) == 4


def test_charge_is_units_times_the_contract_rate_to_the_cent(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(engine, tmp_path, contract)
    configure(engine)
    result = close(engine, contract)
    c_claim = next(c for c in result.created if c.member_id == C)
    history = claim_history(engine, c_claim.patient_control_number)
    assert history is not None
    assert lines_json(history[0]) == [
        {"code": "G9008", "modifiers": ["U1"], "units": 2, "charge": "200.00"},
        {"code": "G9012", "modifiers": ["U2"], "units": 1, "charge": "75.00"},
    ]
    assert c_claim.total_charge == Decimal("275.00")


def test_retroactive_loss_of_eligibility_voids_the_members_claim(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(engine, tmp_path, contract)
    configure(engine)
    close(engine, contract)
    export_claims(engine, OCTOBER, "837p", tmp_path / "first.837", actor="test")
    path = write_csv(
        tmp_path / "elig.csv", ["member_id", "month", "eligible"], [[B, "2026-10", "false"]]
    )
    import_file(engine, "eligibility", path, contract, actor="test", today=TODAY)
    result = close(engine, contract)
    assert actions(result) == {B: Action.VOID}
    assert x12_errors(tmp_path / "first.837") == []
    export_837(engine, tmp_path / "void.837")


def test_replacement_references_the_payers_claim_control_number_once_a_remittance_gave_it(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(engine, tmp_path, contract)
    configure(engine)
    first = close(engine, contract)
    export_837(engine, tmp_path / "original.837")
    a_claim = next(c for c in first.created if c.member_id == A)
    with unit_of_work(engine) as session:
        stored = session.get(models.Claim, a_claim.claim_id)
        assert stored is not None
        stored.payer_claim_control_number = "PAYER2026100001"
    add_time(engine, tmp_path, contract,
             [["A-3", "S1", A, "2026-10-28", "40", "care_coordination", "in_person"]])  # fmt: skip
    close(engine, contract)
    assert "REF*F8*PAYER2026100001~" in export_837(engine, tmp_path / "replacement.837")


def test_outreach_only_claim_has_one_line_per_attempt_each_on_its_day(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(engine, tmp_path, contract, time=[])
    configure(engine)
    result = close(engine, contract)
    assert actions(result) == {D: Action.ORIGINAL}
    text = export_837(engine, tmp_path / "outreach.837")
    assert "SV1*HC:G9008:U8:GQ*25*UN*1***1~" in text and "DTP*472*D8*20261002~" in text
    assert "SV1*HC:G9012:U8*40*UN*1***1~" in text and "DTP*472*D8*20261009~" in text
    # Only S1 has an NPI: the first attempt names her as rendering provider, the second nobody.
    assert text.count("NM1*82*1*LOPEZ*MARIA****XX*1234567893~") == 1


def test_rendering_npi_stays_off_the_lines_when_the_setting_says_no(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(engine, tmp_path, contract)
    configure(engine, rendering_npi_on_line="no")
    close(engine, contract)
    assert "NM1*82" not in export_837(engine, tmp_path / "claims.837")


def test_missing_settings_stop_the_close_before_anything_is_written(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(engine, tmp_path, contract)
    with pytest.raises(SettingsError) as caught:
        close(engine, contract)
    assert "billing_npi: missing" in caught.value.problems
    assert "payer_id: missing" in caught.value.problems
    with unit_of_work(engine) as session:
        assert session.scalars(select(models.Claim)).all() == []
        assert session.scalars(select(models.PeriodClose)).all() == []


def test_two_closes_of_one_period_at_once_make_one_set_of_originals(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    """Two billers pressing "close" together: the second waits for the first, then finds
    every member claimed and creates nothing."""
    from concurrent.futures import ThreadPoolExecutor

    load(engine, tmp_path, contract)
    configure(engine)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: close(engine, contract), range(2)))
    assert sorted(len(result.created) for result in results) == [0, 4]
    with unit_of_work(engine) as session:
        assert len(session.scalars(select(models.Claim)).all()) == 4
