"""The contract file: the default reproduces the guide; a bad one fails with key and reason."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ecmbill.contract import ContractError, default_contract, load_contract, parse_contract
from ecmbill.contract.model import default_toml
from ecmbill.domain.vocabulary import Kind, Modality, OutreachMethod, Role

REIMBURSABLE = {
    "outreach_engagement", "assessment", "care_plan", "care_coordination", "health_promotion",
    "transitional_care", "member_family_support", "community_referral", "hospital_visit",
    "case_conference", "benefits_assistance", "transportation", "basic_needs",
    "ed_discharge_conference", "travel", "documentation", "phone_call", "appointment_support",
    "pcp_follow_up", "behavioral_health_referral", "support_system_coordination",
    "referral_follow_up", "program_enrollment", "medication_education", "health_education",
}  # fmt: skip
NOT_REIMBURSABLE = {"administrative", "billing", "other_contract"}


def test_the_default_contract_has_exactly_the_activity_keys_of_issue_3() -> None:
    activities = default_contract().activities
    assert {k for k, a in activities.items() if a.reimbursable} == REIMBURSABLE
    assert {k for k, a in activities.items() if not a.reimbursable} == NOT_REIMBURSABLE
    assert all(a.component for a in activities.values() if a.reimbursable)


def test_the_default_code_table_is_the_guides() -> None:
    contract = default_contract()
    table = {(e.role, e.modality, e.kind): (e.code, e.modifiers) for e in contract.codes}
    C, N = Role.CLINICAL, Role.NON_CLINICAL
    IN, TEL = Modality.IN_PERSON, Modality.TELEPHONIC
    S, OUT = Kind.SERVICE, Kind.OUTREACH
    assert table == {
        (C, IN, S): ("G9008", ("U1",)),
        (C, TEL, S): ("G9008", ("U1", "GQ")),
        (C, IN, OUT): ("G9008", ("U8",)),
        (C, TEL, OUT): ("G9008", ("U8", "GQ")),
        (N, IN, S): ("G9012", ("U2",)),
        (N, TEL, S): ("G9012", ("U2", "GQ")),
        (N, IN, OUT): ("G9012", ("U8",)),
        (N, TEL, OUT): ("G9012", ("U8", "GQ")),
    }  # fmt: skip


def test_the_default_contract_settings() -> None:
    contract = default_contract()
    assert contract.billing_period == "month"
    assert contract.unable_to_reach.required_attempts == 3
    assert contract.unable_to_reach.distinct_methods is None
    assert contract.unable_to_reach.window_days is None
    assert contract.outreach_methods[OutreachMethod.MAIL] == "not_billable"
    assert contract.rate_for("G9008", ("U1",)) == Decimal("100.00")
    assert isinstance(contract.rate_for("G9012", ("U8", "GQ")), Decimal)
    with pytest.raises(KeyError):
        contract.rate_for("G9008", ("GQ", "U1"))  # modifiers are ordered


def test_a_contract_file_loads_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(default_toml().replace("required_attempts = 3", "required_attempts = 4"))
    assert load_contract(path).unable_to_reach.required_attempts == 4


def test_a_contract_may_add_its_own_activities() -> None:
    extra = '\n[activities.peer_support]\nreimbursable = true\ncomponent = "health_promotion"\n'
    contract = parse_contract(default_toml() + extra + 'description = "Peer support"\n')
    assert contract.activities["peer_support"].reimbursable


def without_last_code_row(text: str) -> str:
    return text[: text.rindex("[[codes]]")] + text[text.index("# How each outreach method") :]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda t: t.replace('rate = "100.00"', 'rate = "100.005"', 1),
            "codes.0.rate: Decimal input should have no more than 2 decimal places",
        ),
        (
            lambda t: t.replace('rate = "100.00"', 'rate = "-1.00"', 1),
            "codes.0.rate: Input should be greater than or equal to 0",
        ),
        (without_last_code_row, "codes: no code for non_clinical telephonic outreach"),
        (
            lambda t: t.replace(
                'modality = "telephonic"\nkind = "service"\ncode = "G9008"',
                'modality = "in_person"\nkind = "service"\ncode = "G9008"',
                1,
            ),
            "codes: clinical in_person service is listed twice",
        ),
        (
            lambda t: t.replace('code = "G9008"', 'code = "G900"', 1),
            "codes.0.code: String should match pattern",
        ),
        (
            lambda t: t.replace('modifiers = ["U1"]', 'modifiers = ["UU1"]', 1),
            "codes.0.modifiers: Value error, modifier 'UU1' is not two letters or digits",
        ),
        (lambda t: "colour = 'red'\n" + t, "colour: Extra inputs are not permitted"),
        (
            lambda t: t.replace(
                'component = "assessment_and_care_plan"\ndescription = "Comprehensive',
                'description = "Comprehensive',
                1,
            ),
            "activities.assessment: Value error, a reimbursable activity needs a component",
        ),
        (
            lambda t: t.replace('mail = "not_billable"\n', ""),
            "outreach_methods: say how to bill mail",
        ),
        (
            lambda t: t.replace("required_attempts = 3", "required_attempts = 0"),
            "unable_to_reach.required_attempts: Input should be greater than or equal to 1",
        ),
        (
            lambda t: t.replace('billing_period = "month"', 'billing_period = "week"'),
            "billing_period: Input should be 'month'",
        ),
        (lambda t: t + "\n[[[", "not valid TOML"),
    ],
)
def test_a_bad_contract_fails_with_the_key_and_the_reason(change, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ContractError) as failure:
        parse_contract(change(default_toml()), "mine.toml")
    assert str(failure.value).startswith("mine.toml: ")
    assert message in str(failure.value)


def test_a_missing_contract_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="cannot read the contract file"):
        load_contract(tmp_path / "nowhere.toml")
