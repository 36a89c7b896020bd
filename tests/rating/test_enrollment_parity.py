"""The rating's Ibis expression restates two domain rules as joins, for speed: "enrolled on that
day" (``ecmbill.domain.lifecycle.enrolled_on``) and "counts as outreach"
(``ecmbill.domain.outreach.not_outreach_reason``). One table of cases goes to both, and both
must agree. Every member is eligible and every staff member has a role, so the only reasons
left are the ones these rules give. (``test_equivalence`` shows the expression gives the same
answers on every engine; this runs it on DuckDB.)"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir
import pytest

from ecmbill.contract import default_contract
from ecmbill.domain.lifecycle import OPEN_END, OPEN_START, Span, enrolled_on
from ecmbill.domain.outreach import counts_as_outreach, not_outreach_reason
from ecmbill.domain.reasons import ReasonCode
from ecmbill.rating.expression import RatingInputs, classify

OCT_10, OCT_20 = date(2026, 10, 10), date(2026, 10, 20)
OCTOBER = [Span(OCT_10, OCT_20)]
OPEN = [Span(OCT_10, None)]
TWO = [Span(date(2026, 1, 1), date(2026, 3, 31)), Span(date(2026, 6, 1), None)]

# (the member's enrollment spans, the day of the contact, individualized)
CASES: list[tuple[list[Span], date, bool]] = [
    ([], date(2026, 10, 15), True),
    (OCTOBER, date(2026, 10, 9), True),
    (OCTOBER, OCT_10, True),
    (OCTOBER, OCT_20, True),
    (OCTOBER, date(2026, 10, 21), True),
    (OPEN, date(2026, 10, 9), True),
    (OPEN, date(2027, 12, 31), True),
    (OPEN, date.max, True),
    (TWO, date(2026, 3, 31), True),
    (TWO, date(2026, 4, 1), True),
    (TWO, date(2026, 5, 31), True),
    (TWO, date(2026, 6, 1), True),
    ([Span(date(2026, 9, 1), date(2026, 10, 14))], date(2026, 10, 15), True),
    (OCTOBER, date(2026, 10, 9), False),
    (OCTOBER, date(2026, 10, 15), False),
    ([], date(2026, 10, 15), False),
]


def table(columns: dict[str, list[object]], **types: str) -> ir.Table:
    """A memory table whose columns are strings unless typed."""
    return ibis.memtable(columns, schema={name: types.get(name, "string") for name in columns})


def inputs(cases: list[tuple[list[Span], date, bool]]) -> RatingInputs:
    """Each case is its own member, with one time entry and one outreach attempt that day."""
    members = [f"M{i:02}" for i in range(len(cases))]
    days = [day for _, day, _ in cases]
    spans = [
        (m, s) for m, (case_spans, _, _) in zip(members, cases, strict=True) for s in case_spans
    ]
    return RatingInputs(
        time_entries=table(
            {
                "entry_id": members,
                "staff_id": ["S1"] * len(cases),
                "member_id": members,
                "date": days,
                "minutes": [30] * len(cases),
                "activity": ["care_coordination"] * len(cases),
                "modality": ["in_person"] * len(cases),
            },
            date="date",
            minutes="int64",
        ),
        outreach_attempts=table(
            {
                "attempt_id": members,
                "staff_id": ["S1"] * len(cases),
                "member_id": members,
                "date": days,
                "method": ["phone"] * len(cases),
                "individualized": [individualized for _, _, individualized in cases],
                "minutes": [10] * len(cases),
            },
            date="date",
            individualized="boolean",
            minutes="int64",
        ),
        staff_roles=table(
            {
                "staff_id": ["S1"],
                "role": ["clinical"],
                "effective_from": [None],
                "effective_to": [None],
            },
            effective_from="date",
            effective_to="date",
        ),
        eligibility=table(
            {
                "member_id": members,
                "month": [f"{day:%Y-%m}" for day in days],
                "eligible": [True] * len(cases),
            },
            eligible="boolean",
        ),
        enrollments=table(
            {
                "member_id": [m for m, _ in spans],
                "start_date": [s.start for _, s in spans],
                "end_date": [s.end for _, s in spans],
            },
            start_date="date",
            end_date="date",
        ),
    )


@pytest.fixture(scope="module")
def classified() -> dict[tuple[str, str], dict[str, object]]:
    con = ibis.duckdb.connect()
    try:
        rated = classify(inputs(CASES), OPEN_START, OPEN_END, default_contract())
        rows = con.to_pyarrow(rated).to_pylist()
    finally:
        con.disconnect()
    return {(row["source"], row["id"]): row for row in rows}


@pytest.mark.parametrize(("index", "case"), list(enumerate(CASES)))
def test_the_rating_and_the_domain_agree_on_enrolled_and_on_what_counts_as_outreach(
    classified: dict[tuple[str, str], dict[str, object]],
    index: int,
    case: tuple[list[Span], date, bool],
) -> None:
    spans, day, individualized = case
    member = f"M{index:02}"
    enrolled = enrolled_on(day, spans)
    service = classified[("time", member)]
    assert service["in_enrollment"] is enrolled
    assert service["reason_code"] == (None if enrolled else ReasonCode.NOT_ENROLLED.value)
    attempt = classified[("outreach", member)]
    assert attempt["in_enrollment"] is enrolled
    reason = not_outreach_reason(individualized=individualized, enrolled=enrolled)
    assert attempt["reason_code"] == (reason.value if reason else None)
    assert (attempt["reason_code"] is None) is counts_as_outreach(day, individualized, spans)
