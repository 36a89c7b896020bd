from datetime import date

import pytest

from ecmbill.domain.reasons import PRECEDENCE, ReasonCode, explain

ON = date(2026, 10, 5)


def test_precedence_is_the_order_the_issue_gives() -> None:
    assert [r.value for r in PRECEDENCE] == [
        "NOT_ELIGIBLE",
        "NO_PLAN",
        "NOT_ENROLLED",
        "ALREADY_ENROLLED",
        "MASS_COMMUNICATION",
        "NOT_REIMBURSABLE",
        "NO_ROLE",
        "NOT_APPROVED",
    ]
    assert set(PRECEDENCE) == set(ReasonCode)


@pytest.mark.parametrize(
    ("reason", "extra", "sentence"),
    [
        (ReasonCode.NOT_ELIGIBLE, {}, "not billable: member not eligible in 2026-10"),
        (ReasonCode.NO_PLAN, {}, "not billable: member had no health plan on 2026-10-05"),
        (ReasonCode.NOT_ENROLLED, {}, "not billable: member not enrolled in ECM on 2026-10-05"),
        (
            ReasonCode.ALREADY_ENROLLED,
            {},
            "member already enrolled: record an ECM service instead",
        ),
        (
            ReasonCode.MASS_COMMUNICATION,
            {"method": "mail"},
            "not outreach: a mass communication (mail) does not count as an outreach attempt",
        ),
        (
            ReasonCode.NOT_REIMBURSABLE,
            {"activity": "billing", "activity_description": "billing is not ECM"},
            "not reimbursable: billing is not ECM",
        ),
        (
            ReasonCode.NOT_REIMBURSABLE,
            {"activity": "karaoke"},
            "not reimbursable: activity 'karaoke' is not in the contract's catalogue",
        ),
        (
            ReasonCode.NOT_REIMBURSABLE,
            {"method": "mail"},
            "not reimbursable: outreach by mail is not a billable method in this contract",
        ),
        (
            ReasonCode.NO_ROLE,
            {},
            "not billable: staff C1 has no clinical or non-clinical role on 2026-10-05",
        ),
    ],
)
def test_every_reason_is_a_sentence_a_biller_understands(
    reason: ReasonCode, extra: dict[str, str], sentence: str
) -> None:
    assert explain(reason, on=ON, staff_id="C1", **extra) == sentence  # type: ignore[arg-type]
