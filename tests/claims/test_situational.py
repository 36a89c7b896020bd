"""The subscriber loop (2010BA) a clearinghouse accepts: the member's address (N3/N4) and
demographics (DMG with the sex the plan sent) when the member is the patient (SBR02 = 18),
checked by pyx12 and by a situational check of our own (pyx12 does not check situational
rules); a claim whose member has no address is held back at close, listed with what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from ecmbill.claims.close import close_period
from ecmbill.claims.export import export_claims
from ecmbill.claims.x12 import Address, OutgoingClaim, Subscriber
from ecmbill.cli import app
from ecmbill.contract import Contract
from ecmbill.contract.model import ClaimRules
from ecmbill.domain.claims import NO_ADDRESS, Action
from ecmbill.imports.service import import_file
from ecmbill.store import claims as stored
from ecmbill.store.db import unit_of_work
from tests.claims.situational import situational_errors
from tests.claims.test_x12 import claim, written
from tests.claims.world import ADDRESS, MEMBER_HEADER, OCTOBER, B, configure, load, write_csv
from tests.claims.x12check import x12_errors
from tests.conftest import TODAY


def with_member(base: OutgoingClaim, address: Address | None, sex: str = "U") -> OutgoingClaim:
    member = base.subscriber
    return OutgoingClaim(
        base.patient_control_number, base.frequency, base.original_reference,
        Subscriber(member.member_id, member.first_name, member.last_name, member.birth_date,
                   address, sex),
        base.diagnosis_code, base.place_of_service, base.lines,
    )  # fmt: skip


HOME = Address("12 Main St", "El Centro", "CA", "92243")


def test_a_claim_with_the_members_address_and_sex_passes_pyx12_and_the_situational_check(
    tmp_path: Path,
) -> None:
    path = written(tmp_path, [with_member(claim(1), HOME, "F")])
    assert x12_errors(path) == [] and situational_errors(path) == []
    text = path.read_text()
    assert "NM1*IL*1*TEST*ANA****MI*91234561A~\nN3*" in text
    assert "N3*12 MAIN ST~\nN4*EL CENTRO*CA*92243~\nDMG*D8*19800102*F~" in text


def test_the_situational_check_fails_on_a_claim_without_address_and_pyx12_does_not_see_it(
    tmp_path: Path,
) -> None:
    path = written(tmp_path, [with_member(claim(1), None)])
    assert x12_errors(path) == []  # pyx12 leaves situational rules alone
    assert situational_errors(path) == [
        "HL 2: 2010BA N3 is required when SBR02 = 18",
        "HL 2: 2010BA N4 is required when SBR02 = 18",
    ]
    no_dmg = tmp_path / "no-dmg.837"
    no_dmg.write_text(written(tmp_path, [with_member(claim(1), HOME)]).read_text()
                      .replace("DMG*D8*19800102*U~\n", ""))  # fmt: skip
    assert "HL 2: 2010BA DMG is required when SBR02 = 18" in situational_errors(no_dmg)
    no_sex = tmp_path / "no-sex.837"
    no_sex.write_text(written(tmp_path, [with_member(claim(1), HOME)]).read_text()
                      .replace("DMG*D8*19800102*U~", "DMG*D8*19800102~"))  # fmt: skip
    assert situational_errors(no_sex) == [
        "HL 2: 2010BA DMG needs D8, a birth date and a sex code (F, M, U)"
    ]


def test_a_member_without_an_address_is_held_back_at_close_with_a_reason_and_claimed_later(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(engine, tmp_path, contract, without_address=[B])
    configure(engine)
    result = close_period(engine, OCTOBER, contract, actor="test", today=TODAY)
    assert [(h.member_id, h.action, h.reason) for h in result.held_back] == [
        (B, Action.ORIGINAL, NO_ADDRESS)
    ]
    assert B not in {c.member_id for c in result.created} and len(result.created) == 3
    out = tmp_path / "october.837"
    export_claims(engine, OCTOBER, "837p", out, actor="test")
    assert x12_errors(out) == [] and situational_errors(out) == []
    # The address arrives (the members import's optional columns): the next close claims B.
    members = write_csv(tmp_path / "address.csv", MEMBER_HEADER,
                        [[B, "MemberB", "Test", "1980-01-02", *ADDRESS, "M"]])  # fmt: skip
    assert import_file(engine, "members", members, contract, actor="test").rejections == []
    again = close_period(engine, OCTOBER, contract, actor="test", today=TODAY)
    assert again.held_back == [] and [(c.member_id, c.action) for c in again.created] == [
        (B, Action.ORIGINAL)
    ]
    later = tmp_path / "later.837"
    export_claims(engine, OCTOBER, "837p", later, actor="test")
    assert x12_errors(later) == [] and situational_errors(later) == []
    assert "DMG*D8*19800102*M~" in later.read_text()


def test_a_payer_that_waives_the_address_gets_the_claim_without_n3_n4(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    waived = contract.model_copy(update={"claims": ClaimRules(member_address="waived")})
    load(engine, tmp_path, waived, without_address=[B])
    configure(engine)
    result = close_period(engine, OCTOBER, waived, actor="test", today=TODAY)
    assert result.held_back == [] and len(result.created) == 4
    out = tmp_path / "october.837"
    export_claims(engine, OCTOBER, "837p", out, actor="test")
    assert x12_errors(out) == []
    assert len(situational_errors(out)) == 2  # B's N3 and N4, as the contract allows


def test_a_members_file_without_address_columns_keeps_the_address_on_file(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(engine, tmp_path, contract)
    header = ["member_id", "first_name", "last_name", "birth_date"]
    plain = write_csv(tmp_path / "plain.csv", header, [[B, "Bea", "Test", "1980-01-02"]])
    assert import_file(engine, "members", plain, contract, actor="test").rejections == []
    with unit_of_work(engine) as session:
        member = stored.billed_members(session, [B])[B]
    assert member.first_name == "Bea" and member.address == tuple(ADDRESS) and member.sex == "F"


def test_a_partial_address_is_refused_naming_the_missing_column(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    rows = [[B, "Bea", "Test", "1980-01-02", "12 Main St", "", "CA", "92243", "X"]]
    result = import_file(engine, "members", write_csv(tmp_path / "m.csv", MEMBER_HEADER, rows),
                         contract, actor="test")  # fmt: skip
    assert [(r.column, r.reason) for r in result.rejections] == [
        ("city", "address, city, state and zip go together: give all four or none")
    ]


@pytest.mark.slow
def test_the_demo_837p_passes_pyx12_and_the_2010ba_situational_check(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["demo", "--database", f"sqlite:///{tmp_path / 'demo.db'}", "--period", "2026-10",
         "--members", "30"],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # One 837P per payer: the demo bills two plans.
    files = sorted(tmp_path.glob("demo-837p-*.txt"))
    assert len(files) == 2
    for x12 in files:
        assert x12_errors(x12) == [] and situational_errors(x12) == [], x12.name
    text = "".join(x12.read_text() for x12 in files)
    assert "\nN3*" in text and "DMG*D8*" in text
    assert {line.split("*")[3].rstrip("~") for line in text.splitlines()
            if line.startswith("DMG*")} == {"F", "M"}  # fmt: skip
