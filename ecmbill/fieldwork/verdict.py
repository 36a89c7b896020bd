""" "Will this bill?" for one time entry or outreach attempt, saved or still being typed, and
every problem of a form at once.

The answer is the monthly rating's (``ecmbill.rating.single`` runs the period's expression over
the one record), then the closed month (``ecmbill.domain.verdict.field_verdict``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ecmbill.contract import Contract
from ecmbill.contract.plans import PlanContracts, as_plans
from ecmbill.domain.checks import Known, row_problems
from ecmbill.domain.period import Period
from ecmbill.domain.verdict import Verdict, field_verdict
from ecmbill.domain.vocabulary import Kind, Source
from ecmbill.fieldwork.members import resolve_member
from ecmbill.fieldwork.time import period_is_open, typed_day
from ecmbill.imports.kinds import KINDS, RowReject, context
from ecmbill.rating.single import rate_record
from ecmbill.store import fieldwork as stored_work
from ecmbill.store.db import Engine, unit_of_work

# The id a record being typed is rated under; no stored id looks like it.
UNSAVED_ID = "unsaved"


def _answer(
    engine: Engine,
    contracts: Contract | PlanContracts,
    source: Source,
    record: dict[str, Any],
    *,
    saved: bool,
) -> Verdict:
    rated = rate_record(engine, contracts, source, record, saved=saved)
    plans = as_plans(contracts)
    # The code in the words of the plan that bills it (the first plan's when none does).
    contract = plans[rated.plan] if rated.plan is not None else plans[plans.first]
    on: date = record["date"]
    period = Period.of(on)
    described = next(
        (
            e.description
            for e in contract.codes
            if e.code == rated.code
            and e.modifiers == rated.modifiers
            and e.kind is (Kind.SERVICE if source is Source.TIME else Kind.OUTREACH)
        ),
        None,
    )
    return field_verdict(
        code=rated.code,
        modifiers=rated.modifiers,
        code_description=described or None,
        reason_code=rated.not_billed.reason_code.value if rated.not_billed else None,
        reason=rated.not_billed.reason if rated.not_billed else None,
        closed_month=None if period_is_open(engine, period) else f"{on:%B %Y}",
    )


def entry_verdict(
    engine: Engine, contracts: Contract | PlanContracts, entry_id: str
) -> Verdict | None:
    """The answer for a saved time entry (None when there is none)."""
    entry = stored_work.time_entry(engine, entry_id)
    if entry is None:
        return None
    record = {"entry_id": entry_id, "date": entry.date}
    return _answer(engine, contracts, Source.TIME, record, saved=True)


def attempt_verdict(
    engine: Engine, contracts: Contract | PlanContracts, attempt_id: str
) -> Verdict | None:
    """The answer for a saved outreach attempt (None when there is none)."""
    attempt = stored_work.outreach_attempt(engine, attempt_id)
    if attempt is None:
        return None
    record = {"attempt_id": attempt_id, "date": attempt.date}
    return _answer(engine, contracts, Source.OUTREACH, record, saved=True)


def form_problems(
    engine: Engine,
    contract: Contract,
    kind: str,
    form: dict[str, str],
    *,
    staff_id: str,
    today: date | None = None,
    within: frozenset[str] | None = None,
) -> dict[str, str]:
    """Every field the import's rules refuse in ``form`` (a time or outreach form), at once,
    by field; the member as the form resolves it (``within`` the user's caseload)."""
    problems: dict[str, str] = {}
    cells = dict(form)
    try:
        cells["member_id"] = resolve_member(engine, form.get("member_id", ""), within=within)
    except RowReject as reject:
        problems["member_id"] = reject.reason
        cells["member_id"] = ""
    cells["staff_id"] = staff_id
    if kind == "outreach":
        typed = cells.get("individualized", "").strip().lower()
        cells["individualized"] = "true" if typed in ("on", "true") else (typed or "false")
    rules = KINDS[kind].rules
    with unit_of_work(engine) as session:
        ctx = context(session, contract, today)
    known = {
        Known.STAFF: ctx.staff_ids,
        Known.MEMBER: ctx.member_ids,
        Known.ACTIVITY: contract.activities,
    }
    for problem in row_problems(rules, cells, today=ctx.today, known=known):
        column = problem.column or "form"
        if column == "member_id" and "member_id" in problems:
            continue
        problems.setdefault(column, problem.reason)
    return problems


def preview(
    engine: Engine,
    contracts: Contract | PlanContracts,
    kind: str,
    form: dict[str, str],
    *,
    staff_id: str,
    today: date | None = None,
    within: frozenset[str] | None = None,
) -> Verdict | None:
    """The answer for a record as typed so far, before it is saved; None until the member,
    the date and (for time) the activity and modality can be read. Rated under the member's
    plan on the date, as the monthly rating rates it."""
    try:
        member_id = resolve_member(engine, form.get("member_id", ""), within=within)
    except RowReject:
        return None
    on = typed_day(form.get("date", ""), today)
    if on is None:
        return None
    if kind == "time":
        activity, modality = form.get("activity", "").strip(), form.get("modality", "").strip()
        if not activity or not modality:
            return None
        minutes = form.get("minutes", "").strip()
        record: dict[str, Any] = {
            "entry_id": UNSAVED_ID,
            "staff_id": staff_id,
            "member_id": member_id,
            "date": on,
            "minutes": int(minutes) if minutes.isdigit() else 0,
            "activity": activity,
            "modality": modality,
        }
        return _answer(engine, contracts, Source.TIME, record, saved=False)
    method = form.get("method", "").strip()
    if not method:
        return None
    typed = form.get("individualized", "").strip().lower()
    record = {
        "attempt_id": UNSAVED_ID,
        "staff_id": staff_id,
        "member_id": member_id,
        "date": on,
        "method": method,
        "individualized": typed in ("on", "true", "y", "yes", "1"),
        "minutes": 0,
    }
    return _answer(engine, contracts, Source.OUTREACH, record, saved=False)
