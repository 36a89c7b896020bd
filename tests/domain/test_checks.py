"""The row rules of each import kind, read as data: first broken rule wins, cross-column rules
see the parsed values, and every declared value has a parser."""

from __future__ import annotations

from datetime import date

import pytest

from ecmbill.domain.checks import (
    ROW_RULES,
    TIME,
    Column,
    Known,
    RowProblem,
    parser,
    read_row,
)

TODAY = date(2026, 11, 25)
KNOWN = {Known.STAFF: {"S1"}, Known.MEMBER: {"91234567A"}, Known.ACTIVITY: {"assessment"}}
ROW = {
    "staff_id": "S1",
    "member_id": "91234567a",
    "date": "10/05/2026",
    "activity": "Assessment",
    "modality": "In_Person",
    "minutes": "",
    "start_time": "9:00",
    "end_time": "09:45",
}


def test_a_time_row_is_read_into_stored_values_with_minutes_from_the_clock() -> None:
    found = read_row(TIME, ROW, today=TODAY, known=KNOWN)
    assert found["member_id"] == "91234567A" and found["date"] == date(2026, 10, 5)
    assert (found["activity"], found["modality"].value) == ("assessment", "in_person")
    assert (found["start_time"], found["end_time"], found["minutes"]) == (540, 585, 45)
    assert found["entry_id"] is None and found["note"] is None


@pytest.mark.parametrize(
    ("changes", "column", "reason"),
    [
        (
            {"minutes": "1e3", "start_time": "", "end_time": ""},
            "minutes",
            "minutes is not a number",
        ),
        (
            {"staff_id": "S9"},
            "staff_id",
            "staff_id is not a known staff member: import staff first",
        ),
        ({"end_time": ""}, "end_time", "start_time and end_time go together: give both or neither"),
        ({"minutes": "30"}, "minutes", "minutes does not match start_time to end_time"),
        (
            {"minutes": "", "start_time": "", "end_time": ""},
            "minutes",
            "minutes is empty (give minutes or start_time and end_time)",
        ),
        # Two faults: the first declared (the date) is the one named.
        ({"date": "2026-02-30", "modality": "by_pigeon"}, "date", "date is not a real date"),
    ],
)
def test_a_row_is_refused_for_the_first_rule_it_breaks(
    changes: dict[str, str], column: str, reason: str
) -> None:
    with pytest.raises(RowProblem) as refused:
        read_row(TIME, {**ROW, **changes}, today=TODAY, known=KNOWN)
    assert refused.value.column == column and refused.value.reason.startswith(reason)


def test_the_header_needs_minutes_or_both_clock_times() -> None:
    base = {"staff_id", "member_id", "date", "activity", "modality"}
    assert TIME.header_problem(base | {"minutes"}) is None
    assert TIME.header_problem(base | {"start_time", "end_time"}) is None
    assert TIME.header_problem(base | {"start_time"}) == (
        "missing column(s): minutes (or start_time and end_time)"
    )
    assert TIME.header_problem({"staff_id", "colour"}) == (
        "missing column(s): activity, date, member_id, modality; unexpected column(s): colour"
    )


@pytest.mark.parametrize("rules", list(ROW_RULES.values()), ids=list(ROW_RULES))
def test_every_declared_column_has_a_parser(rules: object) -> None:
    for column in rules.columns:  # type: ignore[attr-defined]
        assert isinstance(column, Column)
        assert callable(parser(column, TODAY))
