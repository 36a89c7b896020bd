"""The lifecycle rules: allowed changes, and a member's status on a day."""

from datetime import date

from ecmbill.domain.lifecycle import (
    Event,
    Span,
    Status,
    enrolled_on,
    standing_on,
    transition_problem,
)

OCT = date(2026, 10, 1)


def test_a_member_is_assigned_then_reached_out_to_then_enrolled_then_discontinued() -> None:
    assert transition_problem(None, Status.ASSIGNED) is None
    assert transition_problem(Status.ASSIGNED, Status.OUTREACH) is None
    assert transition_problem(Status.OUTREACH, Status.ENROLLED) is None
    assert transition_problem(Status.ENROLLED, Status.DISCONTINUED) is None


def test_an_enrolled_member_cannot_be_reported_unable_to_reach() -> None:
    problem = transition_problem(Status.ENROLLED, Status.UNABLE_TO_REACH)
    assert problem is not None and "cannot become unable_to_reach" in problem


def test_a_member_with_no_status_cannot_be_discontinued() -> None:
    assert transition_problem(None, Status.DISCONTINUED) is not None


def test_a_day_inside_an_enrollment_span_is_enrolled_whatever_else_was_recorded() -> None:
    events = [Event(Status.ASSIGNED, date(2026, 9, 1))]
    standing = standing_on(date(2026, 10, 15), events, [Span(OCT, None)], [date(2026, 9, 5)])
    assert standing is not None and standing.status is Status.ENROLLED and standing.since == OCT


def test_an_outreach_attempt_after_assignment_puts_the_member_in_outreach() -> None:
    events = [Event(Status.ASSIGNED, date(2026, 9, 1))]
    assert standing_on(date(2026, 9, 4), events, [], [date(2026, 9, 5)]).status is Status.ASSIGNED  # type: ignore[union-attr]
    later = standing_on(date(2026, 9, 30), events, [], [date(2026, 9, 5)])
    assert later is not None and (later.status, later.since) == (Status.OUTREACH, date(2026, 9, 5))


def test_an_ended_span_is_discontinued_with_the_reason_recorded_with_it() -> None:
    end = date(2026, 10, 10)
    events = [Event(Status.ENROLLED, OCT), Event(Status.DISCONTINUED, end, "07")]
    standing = standing_on(date(2026, 10, 31), events, [Span(OCT, end)])
    assert standing is not None
    assert (standing.status, standing.since, standing.reason) == (Status.DISCONTINUED, end, "07")


def test_a_new_assignment_after_discontinuation_starts_over() -> None:
    end = date(2026, 9, 10)
    events = [
        Event(Status.DISCONTINUED, end, "03"),
        Event(Status.ASSIGNED, date(2026, 10, 2)),
    ]
    standing = standing_on(date(2026, 10, 31), events, [Span(date(2026, 8, 1), end)])
    assert standing is not None and standing.status is Status.ASSIGNED


def test_nothing_recorded_yet_means_no_status() -> None:
    assert standing_on(OCT, [Event(Status.ASSIGNED, date(2026, 11, 1))], []) is None


def test_enrolled_on_a_day_includes_both_ends_of_a_span_and_an_open_span_never_ends() -> None:
    spans = [Span(date(2026, 1, 1), date(2026, 3, 31)), Span(date(2026, 6, 1), None)]
    assert enrolled_on(date(2026, 1, 1), spans) and enrolled_on(date(2026, 3, 31), spans)
    assert not enrolled_on(date(2026, 4, 1), spans) and not enrolled_on(date(2026, 5, 31), spans)
    assert enrolled_on(date(2026, 6, 1), spans) and enrolled_on(date(9999, 12, 31), spans)
    assert not enrolled_on(date(2026, 1, 1), [])
