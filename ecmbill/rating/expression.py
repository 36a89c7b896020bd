"""The rating of a period as one Ibis expression.

``classify`` gives every time entry and outreach attempt dated in the period its procedure code
and modifiers, or the one reason it does not bill. ``billable_lines`` sums what bills into claim
lines. The rules themselves (units, reason precedence) come from ``ecmbill.domain``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.types as ir

from ecmbill.contract import Contract
from ecmbill.domain.lifecycle import OPEN_END, OPEN_START
from ecmbill.domain.reasons import PRECEDENCE, ReasonCode
from ecmbill.domain.units import units_for_minutes
from ecmbill.domain.vocabulary import Kind, Source

# Modifiers travel through the expression as one string ("U1:GQ", the X12 SV101 spelling) so
# that every backend can group and compare them; the shell splits them back into a list.
MODIFIER_SEPARATOR = ":"
# Source ids are gathered per line with group_concat; this separator cannot occur in an id.
ID_SEPARATOR = "\x1f"
NOT_BILLABLE = "not_billable"

TIME_COLUMNS = ("entry_id", "staff_id", "member_id", "date", "minutes", "activity", "modality")
OUTREACH_COLUMNS = (
    "attempt_id",
    "staff_id",
    "member_id",
    "date",
    "method",
    "individualized",
    "minutes",
)
STAFF_ROLE_COLUMNS = ("staff_id", "role", "effective_from", "effective_to")
ELIGIBILITY_COLUMNS = ("member_id", "month", "eligible")
ENROLLMENT_COLUMNS = ("member_id", "start_date", "end_date")
APPROVAL_COLUMNS = ("entry_id",)


@dataclass(frozen=True)
class RatingInputs:
    """The five tables the rating reads, in the import files' column layout, and the ids of
    the time entries a supervisor approved as they stand (read only when the contract
    requires approval; None when the source has no approvals to give)."""

    time_entries: ir.Table
    outreach_attempts: ir.Table
    staff_roles: ir.Table
    eligibility: ir.Table
    enrollments: ir.Table
    approvals: ir.Table | None = None


def contract_tables(contract: Contract) -> tuple[ir.Table, ir.Table, ir.Table]:
    codes = ibis.memtable(
        {
            "c_role": [e.role.value for e in contract.codes],
            "c_modality": [e.modality.value for e in contract.codes],
            "c_kind": [e.kind.value for e in contract.codes],
            "code": [e.code for e in contract.codes],
            "modifiers": [MODIFIER_SEPARATOR.join(e.modifiers) for e in contract.codes],
        }
    )
    activities = ibis.memtable(
        {
            "a_activity": list(contract.activities),
            "reimbursable": [a.reimbursable for a in contract.activities.values()],
        }
    )
    methods = ibis.memtable(
        {
            "m_method": [m.value for m in contract.outreach_methods],
            "m_modality": [str(v) for v in contract.outreach_methods.values()],
        }
    )
    return codes, activities, methods


def classify(inputs: RatingInputs, first: date, last: date, contract: Contract) -> ir.Table:
    """One row per time entry and outreach attempt dated first..last: its code and modifiers,
    and ``reason_code`` (null when it bills).

    Each half is a single chain of left joins and one final select: SQLite's parser refuses
    deeply nested subqueries, and a flat query is what every backend plans best anyway.
    """
    codes, activities, methods = contract_tables(contract)
    roles = inputs.staff_roles.select(
        r_staff="staff_id", role="role", r_from="effective_from", r_to="effective_to"
    )
    eligible_months = (
        inputs.eligibility.filter(inputs.eligibility.eligible)
        .select(e_member="member_id", e_month="month")
        .distinct()
    )
    spans = inputs.enrollments.select(s_member="member_id", s_start="start_date", s_end="end_date")

    time = inputs.time_entries
    time = time.filter((time.date >= first) & (time.date <= last)).select(
        id="entry_id",
        staff_id="staff_id",
        member_id="member_id",
        date="date",
        minutes=time.minutes.cast("int64"),
        activity="activity",
        modality="modality",
    )
    time_joined = (
        _context_joins(time, time, roles, eligible_months, spans)
        .left_join(activities, time.activity == activities.a_activity)
        .left_join(
            codes,
            [
                roles.role == codes.c_role,
                time.modality == codes.c_modality,
                codes.c_kind == Kind.SERVICE.value,
            ],
        )
    )
    if contract.require_approval:
        # One more left join, only for a contract that asks for it: a contract without
        # require_approval rates with exactly the query it always had.
        if inputs.approvals is None:
            raise ValueError("the contract requires approval: the rating needs the approvals")
        approved = inputs.approvals.select(p_entry="entry_id")
        time_joined = time_joined.left_join(approved, time.id == approved.p_entry)
    time_reasons = {
        ReasonCode.NOT_ELIGIBLE: time_joined.e_member.isnull(),
        ReasonCode.NOT_ENROLLED: time_joined.s_member.isnull(),
        ReasonCode.NOT_REIMBURSABLE: ~time_joined.reimbursable.fill_null(False),
        ReasonCode.NO_ROLE: time_joined.role.isnull(),
    }
    if contract.require_approval:
        time_reasons[ReasonCode.NOT_APPROVED] = time_joined.p_entry.isnull()
    time_rows = time_joined.select(
        source=ibis.literal(Source.TIME.value),
        id="id",
        staff_id="staff_id",
        member_id="member_id",
        date="date",
        minutes="minutes",
        kind=ibis.literal(Kind.SERVICE.value),
        code="code",
        modifiers="modifiers",
        reason_code=_first_reason(time_reasons),
        activity="activity",
        method=ibis.null().cast("string"),
        in_enrollment=time_joined.s_member.notnull(),
        individualized=ibis.null().cast("boolean"),
    )

    outreach = inputs.outreach_attempts
    outreach = outreach.filter((outreach.date >= first) & (outreach.date <= last)).select(
        id="attempt_id",
        staff_id="staff_id",
        member_id="member_id",
        date="date",
        minutes=outreach.minutes.cast("int64").fill_null(0),
        method="method",
        individualized="individualized",
    )
    outreach_joined = (
        outreach.left_join(methods, outreach.method == methods.m_method)
        .pipe(_context_joins, outreach, roles, eligible_months, spans)
        .left_join(
            codes,
            [
                roles.role == codes.c_role,
                methods.m_modality == codes.c_modality,
                codes.c_kind == Kind.OUTREACH.value,
            ],
        )
    )
    outreach_rows = outreach_joined.select(
        source=ibis.literal(Source.OUTREACH.value),
        id="id",
        staff_id="staff_id",
        member_id="member_id",
        date="date",
        minutes="minutes",
        kind=ibis.literal(Kind.OUTREACH.value),
        code="code",
        modifiers="modifiers",
        reason_code=_first_reason(
            {
                ReasonCode.NOT_ELIGIBLE: outreach_joined.e_member.isnull(),
                ReasonCode.ALREADY_ENROLLED: outreach_joined.s_member.notnull(),
                ReasonCode.MASS_COMMUNICATION: ~outreach_joined.individualized,
                ReasonCode.NOT_REIMBURSABLE: outreach_joined.m_modality.fill_null(NOT_BILLABLE)
                == NOT_BILLABLE,
                ReasonCode.NO_ROLE: outreach_joined.role.isnull(),
            }
        ),
        activity=ibis.null().cast("string"),
        method="method",
        in_enrollment=outreach_joined.s_member.notnull(),
        individualized="individualized",
    )
    return _conform(time_rows).union(_conform(outreach_rows))


def _context_joins(
    chain: ir.Table,
    events: ir.Table,
    roles: ir.Table,
    eligible_months: ir.Table,
    spans: ir.Table,
) -> ir.Table:
    """Joins onto ``chain`` (which starts at ``events``) the staff role on the event's date, the
    member's eligibility in its month, and the ECM enrollment span holding the event's date.

    Each join finds at most one row: a staff member's role periods and a member's enrollment
    spans never overlap (imports, the database's triggers and the file checks all refuse
    overlaps). Open ends are compared as far-away dates rather than with ``IS NULL OR``: an OR
    in a join condition turns a fast range join into a slow one on DuckDB and PostgreSQL.

    The span join is ``ecmbill.domain.lifecycle.enrolled_on`` restated as a join, and the
    outreach reasons it feeds restate ``ecmbill.domain.outreach.not_outreach_reason``;
    tests/rating/test_enrollment_parity.py holds both readings to the same answers.
    """
    return (
        chain.left_join(
            roles,
            [
                events.staff_id == roles.r_staff,
                roles.r_from.fill_null(OPEN_START) <= events.date,
                events.date <= roles.r_to.fill_null(OPEN_END),
            ],
        )
        .left_join(
            eligible_months,
            [
                events.member_id == eligible_months.e_member,
                events.date.strftime("%Y-%m") == eligible_months.e_month,
            ],
        )
        .left_join(
            spans,
            [
                events.member_id == spans.s_member,
                spans.s_start <= events.date,
                events.date <= spans.s_end.fill_null(OPEN_END),
            ],
        )
    )


def _first_reason(conditions: dict[ReasonCode, ir.BooleanValue]) -> ir.StringValue:
    """The first reason, in the domain's precedence, whose condition holds; null if none."""
    branches = [
        (conditions[reason], ibis.literal(reason.value))
        for reason in PRECEDENCE
        if reason in conditions
    ]
    return ibis.cases(*branches, else_=ibis.null().cast("string"))


# Stores declare lengths (string(20)) that differ by column; the two halves of the union must
# agree exactly, so both are cast to this schema.
CLASSIFIED_SCHEMA = ibis.schema(
    {
        "source": "string",
        "id": "string",
        "staff_id": "string",
        "member_id": "string",
        "date": "date",
        "minutes": "int64",
        "kind": "string",
        "code": "string",
        "modifiers": "string",
        "reason_code": "string",
        "activity": "string",
        "method": "string",
        "in_enrollment": "boolean",
        "individualized": "boolean",
    }
)


def _conform(events: ir.Table) -> ir.Table:
    return events.select(
        **{name: events[name].cast(dtype) for name, dtype in CLASSIFIED_SCHEMA.items()}
    )


def billable_lines(classified: ir.Table, *, with_source_ids: bool = True) -> ir.Table:
    """Claim lines: service time summed per member, code and modifiers and rounded up once;
    one line of one unit per outreach attempt."""
    billable = classified.filter(classified.reason_code.isnull())
    service = billable.filter(billable.kind == Kind.SERVICE.value)
    totals = {
        "minutes": service.minutes.sum(),
        "units": units_for_minutes(service.minutes.sum()),
        "first_date": service.date.min(),
        "last_date": service.date.max(),
    }
    if with_source_ids:
        totals["source_ids"] = service.id.group_concat(ID_SEPARATOR)
    services = service.group_by("member_id", "kind", "code", "modifiers").aggregate(**totals)

    outreach = billable.filter(billable.kind == Kind.OUTREACH.value)
    attempts = {
        "member_id": outreach.member_id,
        "kind": outreach.kind,
        "code": outreach.code,
        "modifiers": outreach.modifiers,
        "minutes": outreach.minutes,
        "units": ibis.literal(1, type="int64"),
        "first_date": outreach.date,
        "last_date": outreach.date,
    }
    if with_source_ids:
        attempts["source_ids"] = outreach.id
    lines = services.union(outreach.select(**attempts))
    # The guide: 0 minutes makes no line. Imports refuse entries of 0 minutes, so this only
    # guards plain-file inputs.
    return lines.filter(lines.units > 0)
