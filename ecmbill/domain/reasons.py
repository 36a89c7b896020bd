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
    NOT_ENROLLED = "NOT_ENROLLED"
    ALREADY_ENROLLED = "ALREADY_ENROLLED"
    MASS_COMMUNICATION = "MASS_COMMUNICATION"
    NOT_REIMBURSABLE = "NOT_REIMBURSABLE"
    NO_ROLE = "NO_ROLE"


PRECEDENCE: tuple[ReasonCode, ...] = (
    ReasonCode.NOT_ELIGIBLE,
    ReasonCode.NOT_ENROLLED,
    ReasonCode.ALREADY_ENROLLED,
    ReasonCode.MASS_COMMUNICATION,
    ReasonCode.NOT_REIMBURSABLE,
    ReasonCode.NO_ROLE,
)


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
    raise ValueError(f"unknown reason {reason!r}")
