"""Why a time entry or an outreach attempt does not bill, in words a biller understands.

Nothing is dropped: every entry that does not bill carries exactly one reason. When several
apply, the first in ``PRECEDENCE`` is reported, so the biller sees the most fundamental one
(no eligibility) before the more specific ones.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum


class ReasonCode(StrEnum):
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    NO_PLAN = "NO_PLAN"
    NOT_ENROLLED = "NOT_ENROLLED"
    ALREADY_ENROLLED = "ALREADY_ENROLLED"
    MASS_COMMUNICATION = "MASS_COMMUNICATION"
    NOT_REIMBURSABLE = "NOT_REIMBURSABLE"
    NO_ROLE = "NO_ROLE"
    NOT_APPROVED = "NOT_APPROVED"


PRECEDENCE: tuple[ReasonCode, ...] = (
    ReasonCode.NOT_ELIGIBLE,
    # Only in an office with several plans: the member had no plan on the date, so no
    # contract says what the entry bills (ecmbill.domain.plans).
    ReasonCode.NO_PLAN,
    ReasonCode.NOT_ENROLLED,
    ReasonCode.ALREADY_ENROLLED,
    ReasonCode.MASS_COMMUNICATION,
    ReasonCode.NOT_REIMBURSABLE,
    ReasonCode.NO_ROLE,
    # Only when the contract requires a supervisor's approval (``require_approval``). Last:
    # approving an entry cannot make it bill when anything above applies, so the care manager
    # and the supervisor see the reason that approval would not fix first.
    ReasonCode.NOT_APPROVED,
)


# A reason in a few words, for counts ("3 entries: member not eligible that month") where the
# sentence of one entry (with its date, staff member or activity) would not fit.
IN_WORDS: dict[ReasonCode, str] = {
    ReasonCode.NOT_ELIGIBLE: "member not eligible that month",
    ReasonCode.NO_PLAN: "member had no health plan on the date",
    ReasonCode.NOT_ENROLLED: "member not enrolled in ECM on the date",
    ReasonCode.ALREADY_ENROLLED: "outreach to a member already enrolled",
    ReasonCode.MASS_COMMUNICATION: "mass communication, not outreach",
    ReasonCode.NOT_REIMBURSABLE: "activity not reimbursable",
    ReasonCode.NO_ROLE: "no billing role on the date",
    ReasonCode.NOT_APPROVED: "awaiting approval",
}


def explain(
    reason: ReasonCode,
    *,
    on: date,
    staff_id: str,
    activity: str | None = None,
    activity_description: str | None = None,
    method: str | None = None,
) -> str:
    """The sentence shown next to an entry that does not bill."""
    if reason is ReasonCode.NOT_ELIGIBLE:
        return f"not billable: member not eligible in {on:%Y-%m}"
    if reason is ReasonCode.NO_PLAN:
        return f"not billable: member had no health plan on {on.isoformat()}"
    if reason is ReasonCode.NOT_ENROLLED:
        return f"not billable: member not enrolled in ECM on {on.isoformat()}"
    if reason is ReasonCode.ALREADY_ENROLLED:
        return "member already enrolled: record an ECM service instead"
    if reason is ReasonCode.MASS_COMMUNICATION:
        return (
            f"not outreach: a mass communication ({method or 'not individualized'}) "
            "does not count as an outreach attempt"
        )
    if reason is ReasonCode.NOT_REIMBURSABLE:
        if activity is None:
            return (
                f"not reimbursable: outreach by {method} is not a billable method in this contract"
            )
        what = activity_description or f"activity '{activity}' is not in the contract's catalogue"
        return f"not reimbursable: {what}"
    if reason is ReasonCode.NO_ROLE:
        return (
            f"not billable: staff {staff_id} has no clinical or non-clinical role "
            f"on {on.isoformat()}"
        )
    if reason is ReasonCode.NOT_APPROVED:
        return "not billable yet: awaiting a supervisor's approval (the contract requires it)"
    raise ValueError(f"unknown reason {reason!r}")
