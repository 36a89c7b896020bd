"""What counts as an outreach attempt, and the "unable to reach" rule.

An outreach attempt is pre-enrollment and individualized: a contact on a day the member is
enrolled in ECM is a service, and a mass communication (mass mailing, distribution e-mail, bulk
text) never counts. A member may be reported unable to reach only after all the contract's
required outreach attempts were made (count, optionally distinct methods and a time window)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from ecmbill.domain.lifecycle import Span, enrolled_on
from ecmbill.domain.reasons import ReasonCode
from ecmbill.domain.vocabulary import OutreachOutcome


def not_outreach_reason(*, individualized: bool, enrolled: bool) -> ReasonCode | None:
    """Why a contact is not an outreach attempt, or None when it is one. When both apply, the
    enrollment is named first, as the rating's reason precedence does."""
    if enrolled:
        return ReasonCode.ALREADY_ENROLLED
    if not individualized:
        return ReasonCode.MASS_COMMUNICATION
    return None


def counts_as_outreach(on: date, individualized: bool, spans: Iterable[Span]) -> bool:
    """An individualized contact made outside every enrollment span of the member."""
    enrolled = enrolled_on(on, spans)
    return not_outreach_reason(individualized=individualized, enrolled=enrolled) is None


@dataclass(frozen=True)
class UnableToReachRule:
    required_attempts: int = 3
    distinct_methods: int | None = None
    window_days: int | None = None


@dataclass(frozen=True)
class Attempt:
    """An outreach attempt as the rule sees it. ``counts`` is False for attempts that are not
    outreach at all (mass communications, on or after enrollment)."""

    on: date
    method: str
    outcome: OutreachOutcome
    counts: bool = True


@dataclass(frozen=True)
class UnableToReachDecision:
    allowed: bool
    counted: tuple[Attempt, ...]
    missing: tuple[str, ...] = field(default=())


def unable_to_reach(attempts: Iterable[Attempt], rule: UnableToReachRule) -> UnableToReachDecision:
    """Whether the member may be reported unable to reach, and if not, what is missing."""
    valid = sorted((a for a in attempts if a.counts), key=lambda a: a.on)
    reached = [a for a in valid if a.outcome is not OutreachOutcome.NOT_REACHED]
    if reached:
        last = reached[-1]
        return UnableToReachDecision(
            allowed=False,
            # Reaching the member ends the question, not the attempts: they still count.
            counted=tuple(valid),
            missing=(
                f"the member was reached on {last.on.isoformat()} ({last.outcome.value}): "
                "record that outcome instead of unable to reach",
            ),
        )
    counted = valid
    if rule.window_days and valid:
        window_start = valid[-1].on - timedelta(days=rule.window_days - 1)
        counted = [a for a in valid if a.on >= window_start]
    missing: list[str] = []
    within = f" within {rule.window_days} days" if rule.window_days else ""
    short = rule.required_attempts - len(counted)
    if short > 0:
        missing.append(
            f"{short} more outreach attempt{'s' if short > 1 else ''} needed: "
            "the contract requires "
            f"{rule.required_attempts}{within}, {len(counted)} made"
        )
    methods = {a.method for a in counted}
    if rule.distinct_methods and len(methods) < rule.distinct_methods:
        gap = rule.distinct_methods - len(methods)
        used = ", ".join(sorted(methods)) or "none yet"
        missing.append(
            f"{gap} more outreach method{'s' if gap > 1 else ''} needed: the contract requires "
            f"{rule.distinct_methods} different methods{within}, used so far: {used}"
        )
    return UnableToReachDecision(
        allowed=not missing, counted=tuple(counted), missing=tuple(missing)
    )
