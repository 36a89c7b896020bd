"""Two rules where payers differ, each a contract setting ([claims] in the contract):
same-day repeated outreach (one line with units = attempts, or a line each with a repeat
modifier) and the correction of a claim the payer denied (a new original or a replacement;
never a void)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from ecmbill.claims.close import close_period
from ecmbill.claims.export import export_claims
from ecmbill.contract import Contract
from ecmbill.contract.model import ClaimRules
from ecmbill.domain.claims import (
    Action,
    AfterDenial,
    ClaimDraft,
    Claimed,
    Frequency,
    SameDayOutreach,
    build_claims,
    correction,
)
from ecmbill.domain.lines import ClaimLine, PeriodRating
from ecmbill.domain.vocabulary import Kind
from ecmbill.remit.post import import_835
from tests.claims.situational import situational_errors
from tests.claims.world import OCTOBER, B, D, add_time, configure, delete_time_of, load
from tests.claims.x12check import x12_errors
from tests.conftest import TODAY

FIXTURES = Path(__file__).parents[1] / "remit" / "fixtures"
DAY = date(2026, 10, 2)


def attempt(number: int, day: date = DAY) -> ClaimLine:
    return ClaimLine("94567890D", "G9008", ("U8", "GQ"), Kind.OUTREACH, 10, 1, day, day,
                     (f"O{number}",))  # fmt: skip


def rate_for(code: str, modifiers: tuple[str, ...]) -> Decimal:
    return {("G9008", ("U8", "GQ")): Decimal("25.00")}[(code, modifiers)]


def test_same_day_outreach_is_one_line_with_units_as_attempts_by_default() -> None:
    """Two phone attempts of D on Oct 2 (and one on Oct 9): one line of 2 units at 25.00 =
    50.00 for Oct 2, as the guide's one unit per attempt; no two identical lines."""
    rating = PeriodRating("2026-10", (attempt(1), attempt(2), attempt(3, date(2026, 10, 9))), ())
    (claim,) = build_claims(rating, rate_for)
    assert [(x.first_date.day, x.modifiers, x.units, x.charge, x.source_ids)
            for x in claim.lines] == [
        (2, ("U8", "GQ"), 2, Decimal("50.00"), ("O1", "O2")),
        (9, ("U8", "GQ"), 1, Decimal("25.00"), ("O3",)),
    ]  # fmt: skip


def test_same_day_outreach_with_the_repeat_modifier_is_a_line_each() -> None:
    rating = PeriodRating("2026-10", (attempt(1), attempt(2)), ())
    (claim,) = build_claims(rating, rate_for, outreach=SameDayOutreach.REPEAT_MODIFIER,
                            repeat_modifier="76")  # fmt: skip
    assert [(x.modifiers, x.units, x.charge) for x in claim.lines] == [
        (("U8", "GQ"), 1, Decimal("25.00")),
        (("U8", "GQ", "76"), 1, Decimal("25.00")),
    ]
    assert len({x.billed()[:2] for x in claim.lines}) == 2  # distinct to the payer


def test_a_denied_claim_is_never_voided_and_is_corrected_as_the_contract_says() -> None:
    billed = (("G9008", "U1", "1", "100.00", "", "", ""),)
    denied = Claimed(Frequency.ORIGINAL, billed, denied=True)
    paid = Claimed(denied.frequency, denied.billed)
    assert correction(None, denied) is Action.NOTHING  # nothing billable left: no void
    assert correction(None, paid) is Action.VOID
    changed = ClaimDraft("M", "2026-10", build_claims(
        PeriodRating("2026-10", (attempt(1),), ()), rate_for)[0].lines)  # fmt: skip
    assert correction(changed, denied) is Action.ORIGINAL
    assert correction(changed, denied, AfterDenial.REPLACEMENT) is Action.REPLACEMENT
    assert correction(changed, paid) is Action.REPLACEMENT


def test_two_same_day_attempts_close_into_one_line_and_a_valid_837p(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    outreach = [["D-1", "S1", D, "2026-10-02", "phone", "true", "not_reached"],
                ["D-1b", "S1", D, "2026-10-02", "phone", "true", "not_reached"]]  # fmt: skip
    load(engine, tmp_path, contract, outreach=outreach)
    configure(engine)
    close_period(engine, OCTOBER, contract, actor="test", today=TODAY)
    out = tmp_path / "october.837"
    export_claims(engine, OCTOBER, "837p", out, actor="test")
    assert x12_errors(out) == [] and situational_errors(out) == []
    assert out.read_text().count("SV1*HC:G9008:U8:GQ*50*UN*2***1~") == 1


def test_a_denied_claim_whose_time_is_deleted_is_not_voided(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(engine, tmp_path, contract)
    configure(engine)
    close_period(engine, OCTOBER, contract, actor="test", today=TODAY)
    export_claims(engine, OCTOBER, "837p", tmp_path / "october.837", actor="test")
    import_835(engine, FIXTURES / "denial.835", actor="test")  # B's claim denied
    delete_time_of(engine, B)
    again = close_period(engine, OCTOBER, contract, actor="test", today=TODAY)
    assert again.created == []  # once: a void (frequency 8) of the denied claim


def denied_then_changed(engine: Engine, tmp_path: Path, contract: Contract) -> Path:
    """October closed and sent, B's claim denied (denial.835), then more time for B: the
    837P of the close that follows."""
    load(engine, tmp_path, contract)
    configure(engine)
    close_period(engine, OCTOBER, contract, actor="test", today=TODAY)
    export_claims(engine, OCTOBER, "837p", tmp_path / "october.837", actor="test")
    import_835(engine, FIXTURES / "denial.835", actor="test")
    add_time(engine, tmp_path, contract,
             [["B-2", "S2", B, "2026-10-21", "30", "care_coordination", "telephonic"]])  # fmt: skip
    again = close_period(engine, OCTOBER, contract, actor="test", today=TODAY)
    assert [c.member_id for c in again.created] == [B]
    out = tmp_path / "again.837"
    export_claims(engine, OCTOBER, "837p", out, actor="test")
    assert x12_errors(out) == []
    return out


def test_a_denied_claim_whose_time_changes_is_sent_again_as_a_new_original(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    text = denied_then_changed(engine, tmp_path, contract).read_text()
    assert ":B:1*" in text and "REF*F8" not in text


def test_a_denied_claim_is_replaced_when_the_contract_says_so(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    replace = contract.model_copy(update={"claims": ClaimRules(after_denial="replacement")})
    text = denied_then_changed(engine, tmp_path, replace).read_text()
    assert ":B:7*" in text and "REF*F8*PAYER0000002~" in text
