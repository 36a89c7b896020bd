"""Claims per plan (issue 17): one close claims each plan's members with its own contract, the
export writes one 837P per payer, an 835 pays only its payer's claims, and a replacement or
void goes to the plan of the claim it corrects even after the member moved.

The world (tests.claims.world): members A and B stay with the first plan (``default``,
payer TESTPLAN); C and D are with plan B (payer SECONDPLAN) all year. Plan B's contract bills
clinical in-person service as G9008 U1 HE at 120.00 a unit, the first plan's as U1 at 100.00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from ecmbill.claims.close import close_period
from ecmbill.claims.export import NothingToExport, export_claims, export_per_payer
from ecmbill.claims.settings import SettingsError, plan_settings, provider_settings, set_plan_payer
from ecmbill.claims.views import list_claims
from ecmbill.cli import app
from ecmbill.contract import Contract
from ecmbill.contract.plans import PlanContracts
from ecmbill.contract.stored import current_plans
from ecmbill.demo.payer_835 import payer_835
from ecmbill.domain.claims import Action
from ecmbill.domain.plans import DEFAULT_PLAN, PlanSpan
from ecmbill.remit.denials import DenialQuery, denial_list
from ecmbill.remit.post import import_835
from ecmbill.remit.reconcile import reconcile
from ecmbill.store import models
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import unit_of_work
from tests.claims.world import OCTOBER, A, B, C, D, add_time, configure, load
from tests.claims.x12check import x12_errors
from tests.conftest import TODAY
from tests.rating.test_plans import plan_b_toml

PLAN_B_PAYER = {
    "payer_name": "Second Health Plan",
    "payer_id": "SECONDPLAN",
    "receiver_id": "SECONDPLAN",
    "receiver_name": "Second Health Plan",
}


def two_plans(engine: Engine) -> PlanContracts:
    """Plan B added with its own payer; C and D are its members from January."""
    with unit_of_work(engine) as session:
        stored_plans.add_plan(session, "b", "Plan B", plan_b_toml(), {}, actor="test")
        for member in (C, D):
            stored_plans.assign(session, PlanSpan(member, "b", date(2026, 1, 1)), actor="test")
        for member in (A, B, C, D):
            session.add(
                models.Eligibility(member_id=member, month="2026-10", plan="b", eligible=True)
            )
    set_plan_payer(engine, "b", PLAN_B_PAYER, actor="test")
    return current_plans(engine)


@pytest.fixture
def world(engine: Engine, contract: Contract, tmp_path: Path) -> tuple[Engine, PlanContracts]:
    load(engine, tmp_path, contract)
    configure(engine)
    return engine, two_plans(engine)


def segments(path: Path) -> list[list[str]]:
    return [s.strip().split("*") for s in path.read_text().split("~") if s.strip()]


def claimed(path: Path) -> list[str]:
    """The patient control numbers (CLM01) in an 837P."""
    return [s[1] for s in segments(path) if s[0] == "CLM"]


def test_a_plan_payer_overrides_only_the_payer_and_is_checked_like_the_claim_settings(
    world: tuple[Engine, PlanContracts],
) -> None:
    engine, _ = world
    b = plan_settings(engine, "b")
    assert (b.payer_id, b.receiver_id, b.payer_name) == ("SECONDPLAN", "SECONDPLAN",
                                                         "Second Health Plan")  # fmt: skip
    assert b.billing_npi == provider_settings(engine).billing_npi  # the provider's, every plan
    assert plan_settings(engine, DEFAULT_PLAN).payer_id == "TESTPLAN"
    with pytest.raises(SettingsError) as bad:
        set_plan_payer(engine, "b", {"payer_id": "NO*STAR", "billing_npi": "1"}, actor="test")
    assert [p.split(":")[0] for p in bad.value.problems] == ["payer_id", "billing_npi"]
    assert plan_settings(engine, "b").payer_id == "SECONDPLAN"  # nothing stored


def test_a_plan_with_its_own_payer_takes_none_of_the_offices_payer_ids(
    world: tuple[Engine, PlanContracts],
) -> None:
    """The office's eligibility source, 271 plan ids and 835 payer ids name TESTPLAN's payer:
    plan B (SECONDPLAN) falls back to its own payer id for each, unless it sets its own."""
    engine, _ = world
    configure(engine, eligibility_source_id="TESTSRC", eligibility_plan_ids="TESTPLAN,TP2",
              remit_payer_ids="TESTPLAN,TESTREMIT")  # fmt: skip
    first, b = plan_settings(engine, DEFAULT_PLAN), plan_settings(engine, "b")
    assert (first.eligibility_source_id, first.plan_ids) == ("TESTSRC", ("TESTPLAN", "TP2"))
    assert (b.eligibility_source_id, b.plan_ids, b.remit_payer_ids) == (
        None, ("SECONDPLAN",), None
    )  # fmt: skip
    set_plan_payer(engine, "b", {"eligibility_source_id": "SECONDSRC"}, actor="test")
    assert plan_settings(engine, "b").eligibility_source_id == "SECONDSRC"


def test_a_plan_with_its_own_receiver_addresses_its_270_to_it_not_to_the_offices(
    world: tuple[Engine, PlanContracts],
) -> None:
    """The office's 270 goes to TESTELIG (its eligibility receiver, not TESTPLAN, its claims'
    receiver). Plan B's claims go to SECONDPLAN: its 270 goes there too, not to the first
    plan's TESTELIG, unless it names an eligibility receiver of its own. A plan whose claims
    go through the office's receiver (a clearinghouse for both) keeps the office's."""
    engine, _ = world
    configure(engine, eligibility_receiver_id="TESTELIG")
    first, b = plan_settings(engine, DEFAULT_PLAN), plan_settings(engine, "b")
    assert (first.receiver_id, first.eligibility_receiver_id) == ("TESTPLAN", "TESTELIG")
    assert (b.receiver_id, b.eligibility_receiver_id) == ("SECONDPLAN", None)
    set_plan_payer(engine, "b", {"eligibility_receiver_id": "SECONDELIG"}, actor="test")
    assert plan_settings(engine, "b").eligibility_receiver_id == "SECONDELIG"
    set_plan_payer(engine, "b", {"receiver_id": "TESTPLAN"}, actor="test")
    b = plan_settings(engine, "b")
    assert (b.receiver_id, b.eligibility_receiver_id) == ("TESTPLAN", "SECONDELIG")


def test_one_close_of_two_plans_gives_two_837p_files_one_per_payer_each_plan_at_its_rates(
    world: tuple[Engine, PlanContracts], tmp_path: Path
) -> None:
    engine, plans = world
    result = close_period(engine, OCTOBER, plans, actor="test", today=TODAY)
    made = {(claim.member_id, claim.plan, claim.action) for claim in result.created}
    assert made == {
        (A, DEFAULT_PLAN, Action.ORIGINAL), (B, DEFAULT_PLAN, Action.ORIGINAL),
        (C, "b", Action.ORIGINAL), (D, "b", Action.ORIGINAL),
    }  # fmt: skip
    views = {claim.member_id: claim for claim in list_claims(engine, OCTOBER)}
    # C's 90 minutes of clinical in-person assessment on Oct 10: plan B's U1 HE at 120.00;
    # A's clinical in-person time bills the first plan's U1 at 100.00 a unit.
    c_line = next(x for x in views[C].lines if x.first_date == date(2026, 10, 10))
    assert (c_line.code, c_line.modifiers) == ("G9008", ("U1", "HE"))
    assert c_line.charge == Decimal("120.00") * c_line.units
    a_line = views[A].lines[0]
    assert (a_line.code, a_line.modifiers) == ("G9008", ("U1",))
    assert a_line.charge == Decimal("100.00") * a_line.units

    files = export_per_payer(engine, OCTOBER, "837p", tmp_path / "october.837", actor="test")
    assert [(f.path.name, f.plans, f.payer_id, f.claims) for f in files] == [
        ("october-default-TESTPLAN.837", (DEFAULT_PLAN,), "TESTPLAN", 2),
        ("october-b-SECONDPLAN.837", ("b",), "SECONDPLAN", 2),
    ]
    first, second = (f.path for f in files)
    for path in (first, second):
        assert x12_errors(path) == [], path.name
    payer = {
        path: [s for s in segments(path) if s[:2] == ["NM1", "PR"]] for path in (first, second)
    }
    assert {s[9] for s in payer[first]} == {"TESTPLAN"}
    assert {s[9] for s in payer[second]} == {"SECONDPLAN"}
    assert segments(second)[0][8].strip() == "SECONDPLAN"  # ISA08: plan B's receiver
    pcn = {claim.member_id: claim.patient_control_number for claim in views.values()}
    assert sorted(claimed(first)) == sorted([pcn[A], pcn[B]])
    assert sorted(claimed(second)) == sorted([pcn[C], pcn[D]])
    with pytest.raises(NothingToExport):
        export_per_payer(engine, OCTOBER, "837p", tmp_path / "again.837", actor="test")


def test_export_of_one_plan_writes_that_plans_payer_only(
    world: tuple[Engine, PlanContracts], tmp_path: Path
) -> None:
    engine, plans = world
    close_period(engine, OCTOBER, plans, actor="test", today=TODAY)
    (only,) = export_per_payer(
        engine, OCTOBER, "837p", tmp_path / "october.837", actor="test", plan="b"
    )
    assert (only.path.name, only.claims) == ("october-b-SECONDPLAN.837", 2)
    assert x12_errors(only.path) == []
    # The plain export (the web's download) takes the next payer waiting: the first plan's.
    rest = export_claims(engine, OCTOBER, "837p", tmp_path / "rest.837", actor="test")
    assert (rest.plans, rest.payer_id, rest.claims) == ((DEFAULT_PLAN,), "TESTPLAN", 2)


def test_close_of_one_plan_claims_only_that_plan(
    world: tuple[Engine, PlanContracts],
) -> None:
    engine, plans = world
    result = close_period(engine, OCTOBER, plans, actor="test", today=TODAY, plan="b")
    assert sorted((c.member_id, c.plan) for c in result.created) == [(C, "b"), (D, "b")]
    rest = close_period(engine, OCTOBER, plans, actor="test", today=TODAY)
    assert sorted((c.member_id, c.plan) for c in rest.created) == [
        (A, DEFAULT_PLAN), (B, DEFAULT_PLAN)
    ]  # fmt: skip


def test_an_835_from_plan_b_pays_plan_b_claims_and_never_touches_plan_a_claims(
    world: tuple[Engine, PlanContracts], tmp_path: Path
) -> None:
    engine, plans = world
    close_period(engine, OCTOBER, plans, actor="test", today=TODAY)
    export_per_payer(engine, OCTOBER, "837p", tmp_path / "october.837", actor="test")
    views = {claim.member_id: claim for claim in list_claims(engine, OCTOBER)}
    # Plan B's payer answers C (left unanswered by the simulator: index 0), D (paid 80%
    # on its first line), and, wrongly, A's claim (denied: index 2) and B's (paid in full).
    text = payer_835([views[C], views[D], views[A], views[B]], plan_settings(engine, "b"),
                     datetime(2026, 11, 20, tzinfo=UTC), "PLANB-1")  # fmt: skip
    path = tmp_path / "plan-b.835"
    path.write_text(text, encoding="ascii")
    outcome = import_835(engine, path, actor="test")
    (posted,) = outcome.posted
    assert posted.claims == 3
    assert sorted(posted.unmatched_claims) == sorted(
        [views[A].patient_control_number, views[B].patient_control_number]
    )
    with unit_of_work(engine) as session:
        answered = dict(
            session.execute(
                select(models.RemitClaim.patient_control_number, models.RemitClaim.claim_id)
            ).all()
        )
    assert answered[views[D].patient_control_number] == views[D].claim_id
    assert answered[views[A].patient_control_number] is None  # reported, money not posted
    assert answered[views[B].patient_control_number] is None
    after = {claim.member_id: claim for claim in list_claims(engine, OCTOBER)}
    assert after[A].payer_claim_control_number is None
    assert after[B].payer_claim_control_number is None


def test_an_835_from_a_payer_of_no_plan_pays_no_claim_and_says_why(
    world: tuple[Engine, PlanContracts], tmp_path: Path
) -> None:
    engine, plans = world
    close_period(engine, OCTOBER, plans, actor="test", today=TODAY)
    views = list_claims(engine, OCTOBER)
    stranger = provider_settings(engine).model_copy(update={"payer_name": "Nobody We Bill"})
    path = tmp_path / "stranger.835"
    path.write_text(payer_835(views, stranger, datetime(2026, 11, 20, tzinfo=UTC), "X-1"))
    (posted,) = import_835(engine, path, actor="test").posted
    assert len(posted.unmatched_claims) == posted.claims == len(views) - 1
    assert any("is the payer of no plan" in warning for warning in posted.warnings)


def test_a_member_who_moved_plans_has_replacements_and_voids_sent_to_the_plan_of_the_original(
    world: tuple[Engine, PlanContracts], contract: Contract, tmp_path: Path
) -> None:
    engine, plans = world
    close_period(engine, OCTOBER, plans, actor="test", today=TODAY)
    export_per_payer(engine, OCTOBER, "837p", tmp_path / "october.837", actor="test")
    original = next(c for c in list_claims(engine, OCTOBER) if c.member_id == C)
    assert original.plan == "b"

    # C moves to the first plan on Oct 16; time is added on Oct 11 (plan B's days) and 20.
    with unit_of_work(engine) as session:
        stored_plans.assign(session, PlanSpan(C, DEFAULT_PLAN, date(2026, 10, 16)), "test")
    add_time(engine, tmp_path, contract, [
        ["C-3", "S1", C, "2026-10-11", "30", "assessment", "in_person"],
        ["C-4", "S1", C, "2026-10-20", "30", "assessment", "in_person"],
    ])  # fmt: skip
    second = close_period(engine, OCTOBER, current_plans(engine), actor="test", today=TODAY)
    assert sorted((c.member_id, c.plan, c.action) for c in second.created) == [
        (C, "b", Action.REPLACEMENT), (C, DEFAULT_PLAN, Action.ORIGINAL),
    ]  # fmt: skip
    claims = {(c.member_id, c.plan, c.frequency): c for c in list_claims(engine, OCTOBER)}
    replacement = claims[(C, "b", "7")]
    assert replacement.original_reference == original.patient_control_number
    # Plan B: C-1 90 + C-2 60 + C-3 30 minutes; the first plan: C-4's 30 minutes on Oct 20.
    assert sum(x.minutes for x in replacement.lines) == 180
    moved = claims[(C, DEFAULT_PLAN, "1")].lines
    assert [(x.first_date, x.minutes) for x in moved] == [(date(2026, 10, 20), 30)]

    # Then C is found to have been with the first plan all October: plan B's claim is voided
    # (at plan B, which holds it) and the first plan's claim replaced with the whole month.
    with unit_of_work(engine) as session:
        stored_plans.assign(session, PlanSpan(C, DEFAULT_PLAN, date(2026, 10, 1)), "test")
    third = close_period(engine, OCTOBER, current_plans(engine), actor="test", today=TODAY)
    assert sorted((c.member_id, c.plan, c.action) for c in third.created) == [
        (C, "b", Action.VOID), (C, DEFAULT_PLAN, Action.REPLACEMENT),
    ]  # fmt: skip
    files = export_per_payer(engine, OCTOBER, "837p", tmp_path / "november.837", actor="test")
    by_payer = {f.payer_id: f for f in files}
    void = next(c for c in third.created if c.action is Action.VOID)
    redone = next(c for c in third.created if c.action is Action.REPLACEMENT)
    assert claimed(by_payer["SECONDPLAN"].path) == [
        replacement.patient_control_number,
        void.patient_control_number,
    ]
    assert claimed(by_payer["TESTPLAN"].path) == [
        claims[(C, DEFAULT_PLAN, "1")].patient_control_number,
        redone.patient_control_number,
    ]
    assert all(x12_errors(f.path) == [] for f in files)


runner = CliRunner()


def test_close_and_export_commands_take_a_plan(
    world: tuple[Engine, PlanContracts], tmp_path: Path
) -> None:
    engine, _ = world
    database = engine.url.render_as_string(hide_password=False)
    done = runner.invoke(
        app, ["close", "--period", "2026-10", "--plan", "b", "--database", database]
    )
    assert done.exit_code == 0, done.output
    assert {c.plan for c in list_claims(engine, OCTOBER)} == {"b"}
    out = tmp_path / "oct.837"
    sent = runner.invoke(app, ["claims", "export", "--period", "2026-10", "--format", "837p",
                               "--out", str(out), "--database", database])  # fmt: skip
    assert sent.exit_code == 0, sent.output
    assert "october" not in sent.output  # named after --out: oct-b-SECONDPLAN.837
    assert (tmp_path / "oct-b-SECONDPLAN.837").exists()
    wrong = runner.invoke(
        app, ["close", "--period", "2026-10", "--plan", "zzz", "--database", database]
    )
    assert wrong.exit_code == 2
    assert "no plan 'zzz'" in wrong.output


def test_reconciliation_and_denials_filter_by_plan(
    world: tuple[Engine, PlanContracts], tmp_path: Path
) -> None:
    engine, plans = world
    close_period(engine, OCTOBER, plans, actor="test", today=TODAY)
    views = {claim.member_id: claim for claim in list_claims(engine, OCTOBER)}
    # Plan B's payer leaves C unanswered and pays D's first line at 80%: one partly paid line.
    text = payer_835([views[C], views[D]], plan_settings(engine, "b"),
                     datetime(2026, 11, 20, tzinfo=UTC), "PLANB-2")  # fmt: skip
    path = tmp_path / "plan-b.835"
    path.write_text(text, encoding="ascii")
    import_835(engine, path, actor="test")
    report = reconcile(engine, OCTOBER, TODAY, plan="b")
    assert sorted(r.member_id for r in report.claims) == [C, D]
    first = reconcile(engine, OCTOBER, TODAY, plan=DEFAULT_PLAN)
    assert sorted(r.member_id for r in first.claims) == [A, B]
    denied = denial_list(engine, DenialQuery(plan="b"), TODAY).denials
    assert [d.item.member_id for d in denied] == [D]
    assert denial_list(engine, DenialQuery(plan=DEFAULT_PLAN), TODAY).denials == []
