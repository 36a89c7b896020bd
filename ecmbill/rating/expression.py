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
from ecmbill.contract.plans import PlanContracts, as_plans
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
PLAN_ASSIGNMENT_COLUMNS = ("member_id", "plan", "start_date", "end_date")
# Eligibility as the rating reads it in an office with several plans: per member, month and
# plan (each plan's files say which of its members are eligible).
PLAN_ELIGIBILITY_COLUMNS = ("member_id", "month", "plan", "eligible")


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
    # Each member's plan by date span, read only when the office bills several plans (then
    # ``eligibility`` has a ``plan`` column too).
    plan_assignments: ir.Table | None = None


def contract_tables(plans: Contract | PlanContracts) -> tuple[ir.Table, ir.Table, ir.Table]:
    """The code table, activity catalogue and outreach methods of every plan, one row per plan
    and entry (column ``*_plan``), so one join finds the entry of the plan of the day."""
    every = list(as_plans(plans).items())
    codes = ibis.memtable(
        {
            "c_plan": [plan for plan, c in every for _ in c.codes],
            "c_role": [e.role.value for _, c in every for e in c.codes],
            "c_modality": [e.modality.value for _, c in every for e in c.codes],
            "c_kind": [e.kind.value for _, c in every for e in c.codes],
            "code": [e.code for _, c in every for e in c.codes],
            "modifiers": [MODIFIER_SEPARATOR.join(e.modifiers) for _, c in every for e in c.codes],
        }
    )
    activities = ibis.memtable(
        {
            "a_plan": [plan for plan, c in every for _ in c.activities],
            "a_activity": [name for _, c in every for name in c.activities],
            "reimbursable": [a.reimbursable for _, c in every for a in c.activities.values()],
        }
    )
    methods = ibis.memtable(
        {
            "m_plan": [plan for plan, c in every for _ in c.outreach_methods],
            "m_method": [m.value for _, c in every for m in c.outreach_methods],
            "m_modality": [str(v) for _, c in every for v in c.outreach_methods.values()],
        }
    )
    return codes, activities, methods


def classify(
    inputs: RatingInputs, first: date, last: date, plans: Contract | PlanContracts
) -> ir.Table:
    """One row per time entry and outreach attempt dated first..last: its plan, code and
    modifiers, and ``reason_code`` (null when it bills).

    Each half is a single chain of left joins and one final select: SQLite's parser refuses
    deeply nested subqueries, and a flat query is what every backend plans best anyway.

    With one plan the query is the one it was before plans existed (the plan is a constant);
    with several, the member's plan on the date is joined first and every contract table is
    joined on it too.
    """
    plans = as_plans(plans)
    codes, activities, methods = contract_tables(plans)
    roles = inputs.staff_roles.select(
        r_staff="staff_id", role="role", r_from="effective_from", r_to="effective_to"
    )
    spans = inputs.enrollments.select(s_member="member_id", s_start="start_date", s_end="end_date")
    context = _Context(roles, spans, *_plan_tables(inputs, plans))

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
        context.join(time, time)
        .left_join(
            activities,
            context.on_plan(activities.a_plan, [time.activity == activities.a_activity]),
        )
        .left_join(
            codes,
            context.on_plan(
                codes.c_plan,
                [
                    roles.role == codes.c_role,
                    time.modality == codes.c_modality,
                    codes.c_kind == Kind.SERVICE.value,
                ],
            ),
        )
    )
    approving = [key for key, contract in plans.items() if contract.require_approval]
    if approving:
        # One more left join, only for a contract that asks for it: a contract without
        # require_approval rates with exactly the query it always had.
        if inputs.approvals is None:
            raise ValueError("the contract requires approval: the rating needs the approvals")
        approved = inputs.approvals.select(p_entry="entry_id")
        time_joined = time_joined.left_join(approved, time.id == approved.p_entry)
    plan = context.plan_of(time_joined, plans)
    time_reasons = context.reasons(time_joined)
    time_reasons |= {
        ReasonCode.NOT_ENROLLED: time_joined.s_member.isnull(),
        ReasonCode.NOT_REIMBURSABLE: ~time_joined.reimbursable.fill_null(False),
        ReasonCode.NO_ROLE: time_joined.role.isnull(),
    }
    if approving:
        unapproved = time_joined.p_entry.isnull()
        if len(approving) < len(plans.contracts):
            unapproved = unapproved & plan.isin(approving)
        time_reasons[ReasonCode.NOT_APPROVED] = unapproved
    time_rows = time_joined.select(
        source=ibis.literal(Source.TIME.value),
        id="id",
        staff_id="staff_id",
        member_id="member_id",
        date="date",
        minutes="minutes",
        kind=ibis.literal(Kind.SERVICE.value),
        plan=plan,
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
    if plans.several:
        # The method's billing depends on the plan, known only after the plan join.
        outreach_joined = context.join(outreach, outreach).left_join(
            methods, context.on_plan(methods.m_plan, [outreach.method == methods.m_method])
        )
    else:
        outreach_joined = context.join(
            outreach.left_join(methods, outreach.method == methods.m_method), outreach
        )
    outreach_joined = outreach_joined.left_join(
        codes,
        context.on_plan(
            codes.c_plan,
            [
                roles.role == codes.c_role,
                methods.m_modality == codes.c_modality,
                codes.c_kind == Kind.OUTREACH.value,
            ],
        ),
    )
    outreach_reasons = context.reasons(outreach_joined)
    outreach_reasons |= {
        ReasonCode.ALREADY_ENROLLED: outreach_joined.s_member.notnull(),
        ReasonCode.MASS_COMMUNICATION: ~outreach_joined.individualized,
        ReasonCode.NOT_REIMBURSABLE: outreach_joined.m_modality.fill_null(NOT_BILLABLE)
        == NOT_BILLABLE,
        ReasonCode.NO_ROLE: outreach_joined.role.isnull(),
    }
    outreach_rows = outreach_joined.select(
        source=ibis.literal(Source.OUTREACH.value),
        id="id",
        staff_id="staff_id",
        member_id="member_id",
        date="date",
        minutes="minutes",
        kind=ibis.literal(Kind.OUTREACH.value),
        plan=context.plan_of(outreach_joined, plans),
        code="code",
        modifiers="modifiers",
        reason_code=_first_reason(outreach_reasons),
        activity=ibis.null().cast("string"),
        method="method",
        in_enrollment=outreach_joined.s_member.notnull(),
        individualized="individualized",
    )
    return _conform(time_rows).union(_conform(outreach_rows))


def _plan_tables(
    inputs: RatingInputs, plans: PlanContracts
) -> tuple[ir.Table, ir.Table | None, ir.Table | None]:
    """Eligible months (per member, and per plan when there are several), and the plan spans."""
    eligibility = inputs.eligibility.filter(inputs.eligibility.eligible)
    if not plans.several:
        months = eligibility.select(e_member="member_id", e_month="month").distinct()
        return months, None, None
    if inputs.plan_assignments is None:
        raise ValueError("an office with several plans rates with the members' plan assignments")
    any_plan = eligibility.select(e_member="member_id", e_month="month").distinct()
    by_plan = eligibility.select(q_member="member_id", q_month="month", q_plan="plan").distinct()
    assignments = inputs.plan_assignments.select(
        g_member="member_id", g_plan="plan", g_start="start_date", g_end="end_date"
    )
    return any_plan, by_plan, assignments


@dataclass(frozen=True)
class _Context:
    """What every event is joined to: the staff role on its date, the member's eligibility in
    its month, the ECM enrollment span holding its date and (several plans) the member's plan
    on its date and that plan's eligibility in the month."""

    roles: ir.Table
    spans: ir.Table
    eligible_months: ir.Table
    eligible_by_plan: ir.Table | None
    assignments: ir.Table | None

    def join(self, chain: ir.Table, events: ir.Table) -> ir.Table:
        """Joins onto ``chain`` (which starts at ``events``) each context table.

        Each join finds at most one row: a staff member's role periods, a member's enrollment
        spans and a member's plan spans never overlap (imports, the database's triggers and
        the file checks all refuse overlaps). Open ends are compared as far-away dates rather
        than with ``IS NULL OR``: an OR in a join condition turns a fast range join into a slow
        one on DuckDB and PostgreSQL.

        The span join is ``ecmbill.domain.lifecycle.enrolled_on`` restated as a join, the plan
        join ``ecmbill.domain.plans.plan_on``, and the outreach reasons they feed restate
        ``ecmbill.domain.outreach.not_outreach_reason``; tests/rating/test_enrollment_parity.py
        holds both readings to the same answers.
        """
        roles, months, spans = self.roles, self.eligible_months, self.spans
        month = events.date.strftime("%Y-%m")
        chain = chain.left_join(
            roles,
            [
                events.staff_id == roles.r_staff,
                roles.r_from.fill_null(OPEN_START) <= events.date,
                events.date <= roles.r_to.fill_null(OPEN_END),
            ],
        ).left_join(months, [events.member_id == months.e_member, month == months.e_month])
        if self.assignments is not None and self.eligible_by_plan is not None:
            plans, by_plan = self.assignments, self.eligible_by_plan
            chain = chain.left_join(
                plans,
                [
                    events.member_id == plans.g_member,
                    plans.g_start <= events.date,
                    events.date <= plans.g_end.fill_null(OPEN_END),
                ],
            ).left_join(
                by_plan,
                [
                    events.member_id == by_plan.q_member,
                    month == by_plan.q_month,
                    plans.g_plan == by_plan.q_plan,
                ],
            )
        return chain.left_join(
            spans,
            [
                events.member_id == spans.s_member,
                spans.s_start <= events.date,
                events.date <= spans.s_end.fill_null(OPEN_END),
            ],
        )

    def on_plan(
        self, table_plan: ir.StringValue, conditions: list[ir.BooleanValue]
    ) -> list[ir.BooleanValue]:
        """A contract table's join conditions, on the plan of the day when there are several."""
        if self.assignments is None:
            return conditions
        return [*conditions, table_plan == self.assignments.g_plan]

    def plan_of(self, joined: ir.Table, plans: PlanContracts) -> ir.StringValue:
        """The member's plan on the event's date: the one plan, or the joined span's."""
        if self.assignments is None:
            return ibis.literal(plans.first, type="string")
        return joined.g_plan

    def reasons(self, joined: ir.Table) -> dict[ReasonCode, ir.BooleanValue]:
        """NOT_ELIGIBLE: not eligible that month (with the plan of the day, when the member had
        one); NO_PLAN: eligible, but no plan on the date."""
        if self.assignments is None:
            return {ReasonCode.NOT_ELIGIBLE: joined.e_member.isnull()}
        return {
            ReasonCode.NOT_ELIGIBLE: joined.e_member.isnull()
            | (joined.g_plan.notnull() & joined.q_member.isnull()),
            ReasonCode.NO_PLAN: joined.g_plan.isnull(),
        }


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
        "plan": "string",
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
    """Claim lines: service time summed per member, plan, code and modifiers and rounded up
    once; one line of one unit per outreach attempt."""
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
    services = service.group_by("member_id", "plan", "kind", "code", "modifiers").aggregate(
        **totals
    )

    outreach = billable.filter(billable.kind == Kind.OUTREACH.value)
    attempts = {
        "member_id": outreach.member_id,
        "plan": outreach.plan,
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
