"""270 inquiries and 271 answers (005010X279A1). The 271s are written by hand after the guide
(tests/payer/fixtures); October's world: members A, B, C enrolled all month with time, D
enrolled from November with outreach only (tests/claims/world.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from ecmbill.claims.close import close_period
from ecmbill.claims.export import export_claims
from ecmbill.claims.views import list_claims
from ecmbill.contract import Contract
from ecmbill.payer.eligibility import (
    EligibilityFileError,
    NothingToAsk,
    import_271,
    read_member_list,
    request_270,
)
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from ecmbill.x12.validation import envelope_errors, segments
from tests.claims.world import OCTOBER, A, B, C, D, configure, load
from tests.conftest import TODAY

FIXTURES = Path(__file__).with_name("fixtures")


@pytest.fixture
def world(store_engine: Engine, contract: Contract, tmp_path: Path) -> Engine:
    load(store_engine, tmp_path, contract)
    configure(store_engine)
    return store_engine


def eligibility_of(engine: Engine, member_id: str, month: str) -> bool | None:
    with unit_of_work(engine) as session:
        return session.scalar(
            select(models.Eligibility.eligible).where(
                models.Eligibility.member_id == member_id, models.Eligibility.month == month
            )
        )


def test_the_270_asks_about_each_member_enrolled_in_the_month_in_batches(
    world: Engine, tmp_path: Path
) -> None:
    configure(world, eligibility_batch_size="2")
    out = tmp_path / "october.270"
    request = request_270(world, OCTOBER, out, actor="test",
                          now=datetime(2026, 10, 31, 9, tzinfo=UTC))  # fmt: skip
    assert (request.members, request.transactions) == (3, 2)  # D is enrolled from November
    text = out.read_text(encoding="ascii")
    assert envelope_errors(text) == []  # pyx12: envelope, control numbers, counts, HL order
    found = [seg for _, seg in segments(text)]
    ids = [s.get_value("NM109") for s in found if s.get_seg_id() == "NM1"]
    assert ids == ["TESTPLAN", "1245319599", A, B, "TESTPLAN", "1245319599", C]
    assert {s.get_value("GS08") for s in found if s.get_seg_id() == "GS"} == {"005010X279A1"}
    dates = {s.get_value("DTP03") for s in found if s.get_seg_id() == "DTP"}
    assert dates == {"20261001-20261031"}
    traces = [s.get_value("TRN02") for s in found if s.get_seg_id() == "TRN"]
    assert traces == ["ECM202610000001", "ECM202610000002", "ECM202610000003"]


def test_the_270_takes_the_members_named_in_a_file(world: Engine, tmp_path: Path) -> None:
    listed = tmp_path / "members.csv"
    listed.write_text(f"member_id\n{D}\n", encoding="utf-8")
    request = request_270(world, OCTOBER, tmp_path / "d.270", actor="test",
                          members=read_member_list(listed))  # fmt: skip
    assert request.members == 1
    listed.write_text("99999999Z\n", encoding="utf-8")
    with pytest.raises(NothingToAsk, match="not on the roster"):
        request_270(world, OCTOBER, tmp_path / "x.270", actor="test",
                    members=read_member_list(listed))  # fmt: skip


def test_a_271_makes_members_eligible_or_not_and_lists_rejections(world: Engine) -> None:
    outcome = import_271(world, FIXTURES / "october.271", actor="test")
    answers = {a.member_id: a for a in outcome.answers}
    assert answers[A].eligible is True and answers[A].month == "2026-10"
    assert (answers[B].eligible, answers[B].reason) == (False, "coverage inactive in 2026-10")
    assert answers[C].eligible is False
    assert answers[C].reason == "covered by another plan in 2026-10 (OTHERPLAN)"
    assert outcome.rejections == [
        f"{D} (segment 34): request rejected: subscriber not found (correct and resubmit)"
    ]
    assert outcome.not_on_roster == ["95678901E"]
    assert eligibility_of(world, B, "2026-10") is False
    assert eligibility_of(world, C, "2026-10") is False
    assert eligibility_of(world, D, "2026-10") is True  # a rejected request changes nothing


def test_the_same_271_again_changes_nothing(world: Engine) -> None:
    import_271(world, FIXTURES / "october.271", actor="test")
    again = import_271(world, FIXTURES / "october.271", actor="test")
    assert again.already_imported and again.answers == [] and again.changed == 0


def test_a_truncated_271_is_refused_and_nothing_changes(world: Engine) -> None:
    with pytest.raises(EligibilityFileError) as refused:
        import_271(world, FIXTURES / "truncated.271", actor="test")
    assert refused.value.problems[0] == "the file is truncated: it ends after segment 25"
    assert eligibility_of(world, B, "2026-10") is True


def test_a_999_is_not_a_271(world: Engine) -> None:
    with pytest.raises(EligibilityFileError, match="not a 271 005010X279A1"):
        import_271(world, FIXTURES / "accepted.999", actor="test")


def test_a_271_that_ends_eligibility_for_a_closed_month_marks_it_for_rerating_and_closing_again_voids_the_claim(  # noqa: E501
    world: Engine, contract: Contract, tmp_path: Path
) -> None:
    close_period(world, OCTOBER, contract, actor="test", today=TODAY)
    export_claims(world, OCTOBER, "837p", tmp_path / "oct.837", actor="test")
    outcome = import_271(world, FIXTURES / "october.271", actor="test")
    assert sorted(outcome.rerate) == [(B, "2026-10"), (C, "2026-10")]
    with unit_of_work(world) as session:
        marks = session.execute(select(models.RerateMark.member_id, models.RerateMark.reason)).all()
    assert sorted(marks) == [
        (B, "271: Medi-Cal coverage ended for 2026-10 after the fact"),
        (C, "271: Medi-Cal coverage ended for 2026-10 after the fact"),
    ]
    again = close_period(world, OCTOBER, contract, actor="test", today=TODAY)
    made = {(c.member_id, c.action.value) for c in again.created}
    assert made == {(B, "void"), (C, "void")}
    states = {(c.member_id, c.frequency): c.status for c in list_claims(world, OCTOBER)}
    assert states[(B, "1")] == "voided" and states[(B, "8")] == "void"
    assert states[(A, "1")] == "active"
