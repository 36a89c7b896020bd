"""Correcting what was recorded wrong: an enrollment span, a staff member's role period, a
member's eligibility month, or a time entry or outreach attempt recorded in error.

Every correction is audited with who made it and why, and is followed by the months it changes
for billing (``ecmbill.domain.corrections.months_changed``): each is rated before and after,
and a month already closed is marked, so its next close sends a replacement or a void (the
close compares the new rating with what was claimed: ``ecmbill.domain.claims.correction``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ecmbill.contract import Contract
from ecmbill.contract.plans import PlanContracts, as_plans
from ecmbill.domain.corrections import months_changed
from ecmbill.domain.lifecycle import OPEN_END, OPEN_START
from ecmbill.domain.lines import ClaimLine
from ecmbill.domain.period import Period
from ecmbill.store import models, records
from ecmbill.store.db import Engine, Session, unit_of_work

# (start, end, what): an enrollment span (what is None) or a role period (what is the role).
Stretch = tuple[date | None, date | None, str | None]


class CorrectionError(ValueError):
    """A correction that cannot be made; the message says why (never a member's name)."""


@dataclass(frozen=True)
class Touched:
    """A member's month whose billing a correction changes."""

    member_id: str
    month: Period
    closed: bool


@dataclass(frozen=True)
class MonthEffect:
    """A touched month rated before and after the correction (the member's lines)."""

    member_id: str
    month: Period
    closed: bool
    before: tuple[ClaimLine, ...]
    after: tuple[ClaimLine, ...]

    @property
    def changed(self) -> bool:
        return _billed(self.before) != _billed(self.after)


def _billed(lines: tuple[ClaimLine, ...]) -> list[tuple[Any, ...]]:
    return sorted((x.code, x.modifiers, x.units, x.first_date, x.last_date) for x in lines)


@dataclass
class Correction:
    """What was corrected (in words, without the member's name) and its effect on billing."""

    what: str
    effects: list[MonthEffect] = field(default_factory=list)


# -- what a change touches ------------------------------------------------------------------------


def _stretches(session: Session, entity: str, owner: str) -> list[Stretch]:
    if entity == "enrollments":
        return [(s, e, None) for s, e in records.enrollments(session, [owner]).get(owner, [])]
    return list(records.role_periods(session, owner))


def _stretch(entity: str, row: Mapping[str, Any] | None) -> Stretch | None:
    if row is None:
        return None
    if entity == "enrollments":
        return (row["start_date"], row["end_date"], None)
    return (row["effective_from"], row["effective_to"], row["role"])


def _on(stretches: list[Stretch]) -> Callable[[date], Hashable]:
    """What the stretches say of a day: the role (or "enrolled") that holds it, or None."""

    def reading(day: date) -> Hashable:
        for start, end, what in stretches:
            if (start or OPEN_START) <= day <= (end or OPEN_END):
                return what or "enrolled"
        return None

    return reading


def touched(
    session: Session,
    entity: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    *,
    written: bool,
) -> list[Touched]:
    """The member-months whose billing changes when the stored ``before`` becomes ``after``
    (either may be None: a record added or removed); ``written`` says whether the store
    already holds ``after``. Months without recorded work bill nothing either way."""
    row = before or after
    assert row is not None
    closed = records.closed_periods(session)
    if entity == "eligibility":
        was = bool(before and before["eligible"])
        now = bool(after and after["eligible"])
        member, month = row["member_id"], row["month"]
        worked = (member, month) in records.months_with_work(session, [member])
        return (
            [Touched(member, Period.parse(month), month in closed)] if was != now and worked else []
        )
    owner = row["member_id"] if entity == "enrollments" else row["staff_id"]
    stored = _stretches(session, entity, owner)
    old, new = _stretch(entity, before), _stretch(entity, after)
    if written:
        then = [s for s in stored if s != new] + ([old] if old else [])
        now_ = stored
    else:
        then = stored
        now_ = [s for s in stored if s != old] + ([new] if new else [])
    if entity == "enrollments":
        work = records.months_with_work(session, [owner])
    else:
        work = records.staff_work_months(session, owner)
    months = {Period.parse(month) for _, month in work}
    changed = set(months_changed(_on(then), _on(now_), months))
    return sorted(
        (
            Touched(member, Period.parse(month), month in closed)
            for member, month in work
            if Period.parse(month) in changed
        ),
        key=lambda t: (t.month, t.member_id),
    )


def mark_closed(session: Session, touched_months: list[Touched], reason: str) -> None:
    """Closed months a correction changed: marked to be rated again, so the biller sees them
    (``rerate_marks``); the next close sends the replacement or void."""
    records.mark_for_rerating(
        session,
        [(t.member_id, str(t.month), reason) for t in touched_months if t.closed],
        None,
    )


def describe(touched_months: list[Touched]) -> str:
    """The months in words, without the member: for an import row's note."""
    if not touched_months:
        return "changes no billed month"
    months = sorted({(t.month, t.closed) for t in touched_months})
    words = [
        f"{month} ({'closed: close it again' if closed else 'open'})" for month, closed in months
    ]
    return "changes billing of " + ", ".join(words)


def correction_notes(
    session: Session, entity: str, before: Mapping[str, Any], after: Mapping[str, Any] | None
) -> list[str]:
    """After an import row corrected or deleted a stored record: the months it changes, the
    closed ones marked for their next close."""
    if entity not in ("enrollments", "staff", "eligibility"):
        return []
    merged = None if after is None else {**before, **after}
    found = touched(session, entity, before, merged, written=True)
    mark_closed(session, found, f"corrected by import ({entity})")
    return [describe(found)]


# -- the corrections ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One stored record to change: found by ``match``, set to ``values`` (None: removed)."""

    model: type[models.Base]
    entity: str
    key: str
    match: dict[str, Any]
    values: dict[str, Any] | None


def apply(
    engine: Engine,
    contract: Contract | PlanContracts,
    change: Change,
    *,
    actor: str,
    reason: str,
    what: str,
    check: Callable[[Session, dict[str, Any]], None] = lambda _s, _b: None,
) -> Correction:
    """Make one correction: find the record (``check`` may refuse the change), rate the months
    it touches, change and audit it with the reason, mark the closed months, rate again."""
    reason = reason.strip()
    if not reason:
        raise CorrectionError("give a reason: every correction is audited with why")
    with unit_of_work(engine) as session:
        before = records.find_row(session, change.model, change.match)
        if before is None:
            raise CorrectionError(f"nothing stored to correct: no {change.entity} {change.key}")
        check(session, before)
        after = None if change.values is None else {**before, **change.values}
        found = _touched_work(session, change.entity, before, after)
    rated_before = _lines(engine, contract, found)
    with unit_of_work(engine) as session:
        was = records.correct_row(
            session, change.model, change.match, change.values, actor=actor,
            entity=change.entity, key=change.key, reason=reason,
        )  # fmt: skip
        if was != before:
            raise CorrectionError("the record changed meanwhile: look at it again")
        mark_closed(session, found, f"{change.entity} {change.key} corrected: {reason}")
    rated_after = _lines(engine, contract, found)
    return Correction(
        what,
        [
            MonthEffect(t.member_id, t.month, t.closed, rated_before[t], rated_after[t])
            for t in found
        ],
    )


def _touched_work(
    session: Session, entity: str, before: dict[str, Any], after: dict[str, Any] | None
) -> list[Touched]:
    if entity in ("time", "outreach"):
        month = Period.of(before["date"])
        closed = str(month) in records.closed_periods(session)
        return [Touched(before["member_id"], month, closed)]
    return touched(session, entity, before, after, written=False)


def _lines(
    engine: Engine, contract: Contract | PlanContracts, found: list[Touched]
) -> dict[Touched, tuple[ClaimLine, ...]]:
    # The rating engines (Ibis, DuckDB) load only when a correction is rated, not whenever
    # an import, which needs the correction notes of this module, starts.
    from ecmbill.rating.service import rate

    ratings = {month: rate(engine, month, contract) for month in {t.month for t in found}}
    return {t: tuple(ratings[t.month].lines_for(t.member_id)) for t in found}


KEEP: Any = object()  # an argument not given: the stored value stays


def _overlap_check(
    entity: str, owner: str, new: Stretch, what: str
) -> Callable[[Session, dict[str, Any]], None]:
    """Refuse a corrected period that would overlap another of the same owner (the database
    refuses it too; this says it in words)."""

    def check(session: Session, before: dict[str, Any]) -> None:
        start, end, _ = new
        if start is not None and end is not None and end < start:
            raise CorrectionError("the end is before the start")
        old = _stretch(entity, before)
        for other in _stretches(session, entity, owner):
            if other == old:
                continue
            if (other[0] or OPEN_START) <= (end or OPEN_END) and (start or OPEN_START) <= (
                other[1] or OPEN_END
            ):
                raise CorrectionError(
                    f"the corrected {what} would overlap another from "
                    f"{other[0] or 'the start'} to {other[1] or 'open'}: correct that one first"
                )

    return check


# What a period correction reads: the table, its owner, start and end columns, and its name.
PERIODS: dict[str, tuple[type[models.Base], str, str, str, str]] = {
    "enrollments": (models.Enrollment, "member_id", "start_date", "end_date", "enrollment span"),
    "staff": (models.StaffRole, "staff_id", "effective_from", "effective_to", "role period"),
}


def _period(start: Any, end: Any) -> str:
    return f"from {start or 'the start'} to {end or 'open'}"


def correct_period(
    engine: Engine,
    contract: Contract | PlanContracts,
    entity: str,
    owner: str,
    start: date | None,
    changes: dict[str, Any],
    *,
    remove: bool,
    actor: str,
    reason: str,
) -> Correction:
    """Correct the owner's enrollment span or role period that starts on ``start`` (None: the
    one with no start): each column in ``changes`` takes its value (``KEEP`` keeps the stored
    one), or the period is removed."""
    model, owner_column, start_column, end_column, label = PERIODS[entity]
    match = {owner_column: owner, start_column: start}
    with unit_of_work(engine) as session:
        stored = records.find_row(session, model, match)
    if stored is None:
        raise CorrectionError(f"no {label} from {start or 'the start'} is stored")
    values = None
    if not remove:
        values = {
            column: stored[column] if value is KEEP else value for column, value in changes.items()
        }
    new = _stretch(entity, None if values is None else {**stored, **values})
    role = f"{values['role']} " if values and entity == "staff" else ""
    now = "removed" if new is None else f"now {role}{_period(new[0], new[1])}"
    named = label if entity == "enrollments" else f"{label} of {owner}"
    check = (lambda _s, _b: None) if new is None else _overlap_check(entity, owner, new, label)
    return apply(
        engine,
        contract,
        Change(model, entity, f"{owner}/{start or ''}", match, values),
        actor=actor,
        reason=reason,
        what=f"{named} {_period(start, stored[end_column])}: {now}",
        check=check,
    )


def correct_span(
    engine: Engine,
    contract: Contract | PlanContracts,
    member_id: str,
    start: date,
    *,
    new_start: Any = KEEP,
    new_end: Any = KEEP,
    remove: bool = False,
    actor: str,
    reason: str,
) -> Correction:
    """Move the start or end of the member's enrollment span that starts on ``start``, or
    remove it (keyed in error)."""
    changes = {"start_date": new_start, "end_date": new_end}
    return correct_period(
        engine, contract, "enrollments", member_id, start, changes,
        remove=remove, actor=actor, reason=reason,
    )  # fmt: skip


def correct_role(
    engine: Engine,
    contract: Contract | PlanContracts,
    staff_id: str,
    start: date | None,
    *,
    new_from: Any = KEEP,
    new_to: Any = KEEP,
    role: Any = KEEP,
    remove: bool = False,
    actor: str,
    reason: str,
) -> Correction:
    """Move the start or end of the staff member's role period that starts on ``start`` (None:
    the one with no start), change its role, or remove it."""
    changes = {"effective_from": new_from, "effective_to": new_to, "role": role}
    return correct_period(
        engine, contract, "staff", staff_id, start, changes,
        remove=remove, actor=actor, reason=reason,
    )  # fmt: skip


def correct_eligibility(
    engine: Engine,
    contract: Contract | PlanContracts,
    member_id: str,
    month: Period,
    eligible: bool | None,
    *,
    actor: str,
    reason: str,
    plan: str | None = None,
) -> Correction:
    """Set the member's Medi-Cal eligibility for a month with a plan (by default the first
    plan, the only one of most offices), or remove the month (None)."""
    plan = plan or as_plans(contract).first
    match = {"member_id": member_id, "month": str(month), "plan": plan}
    values = None if eligible is None else {"eligible": eligible}
    words = "removed" if eligible is None else ("eligible" if eligible else "not eligible")
    return apply(
        engine,
        contract,
        Change(models.Eligibility, "eligibility", f"{member_id}/{month}/{plan}", match, values),
        actor=actor,
        reason=reason,
        what=f"eligibility of {month}: now {words}",
    )


def delete_work(
    engine: Engine,
    contract: Contract | PlanContracts,
    entity: str,
    record_id: str,
    *,
    actor: str,
    reason: str,
) -> Correction:
    """Delete a time entry (``entity`` "time") or an outreach attempt ("outreach") recorded in
    error, in any period: audited with the reason; a closed month's next close sends the
    replacement or void."""
    model, column, what = {
        "time": (models.TimeEntry, "entry_id", "time entry"),
        "outreach": (models.OutreachAttempt, "attempt_id", "outreach attempt"),
    }[entity]
    return apply(
        engine,
        contract,
        Change(model, entity, record_id, {column: record_id}, None),
        actor=actor,
        reason=reason,
        what=f"{what} {record_id}: deleted",
    )
