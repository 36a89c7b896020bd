"""Our 270s and the 271s we read, checked against the 005010X279A1 guide by x12sdk
(tests/payer/x279check.py), an X12 library independent of our writer and reader; pyx12, which
has no map of that guide, checks their envelope."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from ecmbill.cli import app
from ecmbill.contract import Contract
from ecmbill.x12.validation import envelope_errors
from tests.claims.world import configure, load
from tests.payer.x279check import x279_errors

FIXTURES = Path(__file__).with_name("fixtures")


@pytest.fixture
def october_270(store_engine: Engine, contract: Contract, tmp_path: Path) -> Path:
    """The 270 ``ecmbill eligibility request`` writes for October, two members a set."""
    load(store_engine, tmp_path, contract)
    configure(store_engine, eligibility_batch_size="2")
    out = tmp_path / "october.270"
    result = CliRunner().invoke(app, [
        "eligibility", "request", "--period", "2026-10", "--out", str(out),
        "--database", store_engine.url.render_as_string(hide_password=False),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Wrote 3 member(s) in 2 transaction set(s)" in result.output
    return out


def test_a_270_written_by_ecmbill_eligibility_request_passes_x12sdk_and_pyx12(
    october_270: Path,
) -> None:
    assert x279_errors(october_270) == []
    assert envelope_errors(october_270.read_text(encoding="ascii")) == []


def test_the_hand_written_271_answer_passes_x12sdk_and_the_truncated_one_does_not() -> None:
    # october.271 answers with active and inactive coverage, another plan's coverage, an AAA
    # rejection (75, subscriber not found) and a subscriber without our trace.
    assert x279_errors(FIXTURES / "october.271") == []
    assert envelope_errors((FIXTURES / "october.271").read_text(encoding="ascii")) == []
    assert x279_errors(FIXTURES / "truncated.271") == [
        "ST 271 0001: the transaction set ends without its SE"
    ]


# What a broken 270 looks like, and the words of x12sdk's report that must name the fault.
BREAKAGES = {
    "a subscriber without its name (NM1*IL)": (
        lambda text: _drop_first(text, "NM1*IL*"),
        "has no place in the guide's loops",
    ),
    "the information source without its name (NM1*PR)": (
        lambda text: _drop_first(text, "NM1*PR*"),
        "loop_2000a.0.loop_2100a: Field required",
    ),
    "a subscriber whose HL names the information source as parent": (
        lambda text: text.replace("HL*3*2*22*0", "HL*3*1*22*0", 1),
        "subscriber parent id 1 != receiver id 2",
    ),
    "a subscriber whose HL says dependents follow and none do": (
        lambda text: text.replace("HL*3*2*22*0", "HL*3*2*22*1", 1),
        "ST 270 0001: segment",
    ),
    "an SE that miscounts the segments": (
        lambda text: text.replace("SE*", "SE*9", 1),
        "SE segment count 9",
    ),
    "an inquiry for a service type the guide does not know": (
        lambda text: text.replace("EQ*30~", "EQ*ZZ~", 1),
        "eq_segment.service_type_code.0: Input should be",
    ),
}


def _drop_first(text: str, start: str) -> str:
    lines = text.splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.startswith(start))
    return "".join(lines[:first] + lines[first + 1 :])


def test_a_broken_270_is_reported_by_x12sdk(october_270: Path, tmp_path: Path) -> None:
    good = october_270.read_text(encoding="ascii")
    for what, (breaking, words) in BREAKAGES.items():
        broken = tmp_path / "broken.270"
        broken.write_text(breaking(good), encoding="ascii")
        errors = x279_errors(broken)
        assert errors, f"x12sdk found nothing wrong with {what}"
        assert any(words in error for error in errors), (what, errors)


def test_a_271_rejection_code_is_checked_against_the_subscribers_list_in_the_guide(
    tmp_path: Path,
) -> None:
    # x12sdk 2.2.0 gives 2100C the information receiver's AAA03 codes; x279check gives it the
    # guide's. 75 (subscriber not found) is the subscriber's; T4 (payer name or identifier
    # missing) is only the information receiver's.
    text = (FIXTURES / "october.271").read_text(encoding="ascii")
    assert "AAA*Y**75*C~" in text
    answer = tmp_path / "t4.271"
    answer.write_text(text.replace("AAA*Y**75*C~", "AAA*Y**T4*C~"), encoding="ascii")
    errors = x279_errors(answer)
    assert len(errors) == 1 and "loop_2100c.aaa_segment.0.reject_reason_code" in errors[0]
    assert "(found 'T4')" in errors[0]
