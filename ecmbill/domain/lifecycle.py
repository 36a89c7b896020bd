"""A member's ECM lifecycle: assigned (referred by the plan) -> outreach -> enrolled ->
discontinued, or unable to reach. Pure rules: which changes are allowed, and what a member's
status is on a given day from the recorded events, enrollment spans and outreach attempts.

Enrollment spans are the truth for "enrolled" (the rating bills services inside them), so the
status on a day inside a span is always ENROLLED, whatever else was recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from ecmbill.domain.values import EARLIEST

# An open end (a span or role period still running, or with no known start) reaches these
# dates: no recorded date lies outside them. The rating compares with them instead of testing
# for null (see ``ecmbill.rating.expression``).
OPEN_START = EARLIEST
OPEN_END = date.max


class Status(StrEnum):
    ASSIGNED = "assigned"
    OUTREACH = "outreach"
    ENROLLED = "enrolled"
    DISCONTINUED = "discontinued"
    UNABLE_TO_REACH = "unable_to_reach"


# From each status, where a member may go next. A member discontinued or unable to reach can
# be assigned again by the plan (a new referral) or, if they come back, enrolled.
ALLOWED: dict[Status, frozenset[Status]] = {
    Status.ASSIGNED: frozenset(
        {Status.OUTREACH, Status.ENROLLED, Status.DISCONTINUED, Status.UNABLE_TO_REACH}
    ),
    Status.OUTREACH: frozenset({Status.ENROLLED, Status.DISCONTINUED, Status.UNABLE_TO_REACH}),
    Status.ENROLLED: frozenset({Status.DISCONTINUED}),
    Status.DISCONTINUED: frozenset({Status.ASSIGNED, Status.ENROLLED}),
    Status.UNABLE_TO_REACH: frozenset({Status.ASSIGNED, Status.ENROLLED}),
}


@dataclass(frozen=True)
class Event:
    status: Status
    on: date
    reason: str | None = None


@dataclass(frozen=True)
class Span:
    start: date
    end: date | None

    def covers(self, day: date) -> bool:
        return self.start <= day <= (self.end or OPEN_END)


def enrolled_on(day: date, spans: Iterable[Span]) -> bool:
    """The member is enrolled in ECM on ``day`` when one of their enrollment spans holds it,
    both ends included; a span with no end is still open."""
    return any(span.covers(day) for span in spans)


@dataclass(frozen=True)
class Standing:
    """A member's status on a day, with the event that set it (for its date and reason) and
    the enrollment span that is current or last ended."""

    status: Status
    since: date | None
    reason: str | None
    span: Span | None


def transition_problem(current: Status | None, new: Status) -> str | None:
    """Why the change is refused, or None when it is allowed. A member with no status yet
    (not in any plan file) may only be assigned or enrolled."""
    if current is None:
        if new in (Status.ASSIGNED, Status.ENROLLED):
            return None
        return f"the member has no ECM status yet: cannot record {new.value}"
    if new == current:
        return f"the member is already {current.value}"
    if new not in ALLOWED[current]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED[current]))
        return f"a member who is {current.value} cannot become {new.value} (allowed: {allowed})"
    return None


def standing_on(
    day: date,
    events: Iterable[Event],
    spans: Iterable[Span],
    outreach_dates: Iterable[date] = (),
) -> Standing | None:
    """The member's status at the end of ``day``; None when nothing is recorded by then."""
    known = sorted((e for e in events if e.on <= day), key=lambda e: e.on)
    started = sorted((s for s in spans if s.start <= day), key=lambda s: s.start)
    span = started[-1] if started else None
    if span and span.covers(day):
        return Standing(Status.ENROLLED, span.start, None, span)
    last = known[-1] if known else None
    if span is not None and span.end is not None and (last is None or last.on <= span.end):
        # The span ended and nothing was recorded after it: the enrollment was discontinued,
        # with the reason recorded with it (if any).
        ending = next(
            (e for e in reversed(known) if e.status is Status.DISCONTINUED and e.on == span.end),
            None,
        )
        return Standing(Status.DISCONTINUED, span.end, ending.reason if ending else None, span)
    if last is None:
        # Outreach with no plan file on record (members imported directly): the outreach
        # itself shows the member was referred.
        attempts = [d for d in outreach_dates if d <= day]
        return Standing(Status.OUTREACH, min(attempts), None, span) if attempts else None
    if last.status in (Status.DISCONTINUED, Status.UNABLE_TO_REACH):
        return Standing(last.status, last.on, last.reason, span)
    if last.status is Status.ASSIGNED and any(last.on <= d <= day for d in outreach_dates):
        first_attempt = min(d for d in outreach_dates if last.on <= d <= day)
        return Standing(Status.OUTREACH, first_attempt, None, span)
    return Standing(last.status, last.on, last.reason, span)
