"""The denial work list: every claim line the payer denied or paid in part (or a claim denied
without its lines), its reasons in words, and what the biller did about it: open, corrected
(a corrected claim was sent), appealed or written off, each change with a note, who made it
and when, kept as a history and in the audit trail.

"Resubmit" does not build a claim of its own: it closes the claim's period again, the one
way claims are corrected (``ecmbill close``), so the rule of the contract decides between a
replacement (frequency 7) and a new original after a denial, and the new claim is linked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from ecmbill.claims.close import close_period
from ecmbill.contract import Contract
from ecmbill.contract.plans import PlanContracts, as_plans
from ecmbill.domain.period import Period
from ecmbill.remit.codes import CodeTables, default_codes
from ecmbill.store import audit
from ecmbill.store import claims as claims_store
from ecmbill.store import remittances as stored
from ecmbill.store.db import Engine, unit_of_work
from ecmbill.store.remittances import DenialItem, StatusChange

PAGE_SIZE = 50
# The longest note kept with a status: a sentence or two for the next person.
MAX_NOTE = 2000


class WorkStatus(StrEnum):
    OPEN = "open"
    CORRECTED = "corrected"
    APPEALED = "appealed"
    WRITTEN_OFF = "written_off"


STATUS_WORDS = {
    WorkStatus.OPEN: "open",
    WorkStatus.CORRECTED: "corrected (replacement sent)",
    WorkStatus.APPEALED: "appealed",
    WorkStatus.WRITTEN_OFF: "written off",
}

# Ages a biller filters by: days since the 835 that denied the line.
AGES = {"0-30": (0, 30), "31-60": (31, 60), "61-90": (61, 90), "90+": (91, None)}


class DenialWorkError(ValueError):
    """A change to the work list that cannot be made, in words for the biller."""


@dataclass(frozen=True)
class Reason:
    group: str
    code: str
    words: str
    amount: Decimal | None

    @property
    def label(self) -> str:
        kind = "remark" if self.group == "RARC" else self.group
        return f"{kind} {self.code}: {self.words}"


@dataclass(frozen=True)
class Denial:
    item: DenialItem
    reasons: tuple[Reason, ...]
    age_days: int

    @property
    def status_words(self) -> str:
        return STATUS_WORDS[WorkStatus(self.item.status)]


@dataclass(frozen=True)
class DenialQuery:
    reason: str | None = None
    status: WorkStatus | None = None
    age: str | None = None
    sort: str = "age"
    descending: bool = False
    page: int = 1
    size: int = PAGE_SIZE
    # Only the denials of this plan's claims (None: every plan).
    plan: str | None = None


@dataclass(frozen=True)
class DenialList:
    query: DenialQuery
    matching: int
    amount: Decimal
    denials: list[Denial]
    by_reason: list[stored.ReasonTotal]

    @property
    def pages(self) -> int:
        return max(1, -(-self.matching // self.query.size))


def _reasons(
    items: list[DenialItem], found: list[stored.DenialReason], tables: CodeTables
) -> dict[str, tuple[Reason, ...]]:
    of: dict[str, list[Reason]] = {item.item_key: [] for item in items}
    for r in found:
        words = tables.describe_rarc(r.code) if r.group == "RARC" else tables.describe_carc(r.code)
        of[r.item_key].append(Reason(r.group, r.code, words, r.amount))
    return {
        key: tuple(sorted(reasons, key=lambda r: (r.group == "RARC", -(r.amount or 0), r.code)))
        for key, reasons in of.items()
    }


def _bounds(age: str | None, today: date) -> tuple[date | None, date | None]:
    """(answered on or before, answered on or after) for an age bucket."""
    if age not in AGES:
        return None, None
    least, most = AGES[age]
    return today - timedelta(days=least), (
        today - timedelta(days=most) if most is not None else None
    )


# The ordered keys of a few lists per process, by database, filters, sort and fingerprint:
# the next page, or the same page again, is read by its keys only.
_LISTS: dict[tuple[object, ...], tuple[int, Decimal, list[str], list[stored.ReasonTotal]]] = {}
_KEPT = 8


def denial_list(
    engine: Engine, query: DenialQuery, today: date, codes: CodeTables | None = None
) -> DenialList:
    """One page of the work list, filtered and sorted, with how many items match, their
    amount, and the totals by reason of every item."""
    tables = codes or default_codes()
    before, since = _bounds(query.age, today)
    status = query.status.value if query.status else None
    with unit_of_work(engine) as session:
        key = (str(engine.url), query.reason, status, before, since, query.sort,
               query.descending, query.plan, stored.remittance_fingerprint(session))  # fmt: skip
        found = _LISTS.get(key)
        if found is None:
            matching, amount, keys = stored.denial_item_keys(
                session, reason=query.reason, status=status, answered_before=before,
                answered_since=since, sort=query.sort, descending=query.descending,
                plan=query.plan,
            )  # fmt: skip
            found = (matching, amount, keys, stored.denials_by_reason(session))
            if len(_LISTS) >= _KEPT:
                _LISTS.pop(next(iter(_LISTS)))
            _LISTS[key] = found
        matching, amount, keys, by_reason = found
        start = (max(1, query.page) - 1) * query.size
        items = stored.denial_items_by_keys(session, keys[start : start + query.size])
        reasons = _reasons(items, stored.denial_reasons(session, items), tables)
    return DenialList(
        query,
        matching,
        amount,
        [Denial(i, reasons[i.item_key], (today - i.answered_on).days) for i in items],
        by_reason,
    )


def all_denials(engine: Engine, query: DenialQuery, today: date) -> list[Denial]:
    """Every item the filters keep (no paging), for an export."""
    everything = DenialQuery(query.reason, query.status, query.age, query.sort, query.descending,
                             1, 10_000_000, query.plan)  # fmt: skip
    return denial_list(engine, everything, today).denials


def denials_of_claims(
    engine: Engine, claim_ids: list[int], today: date, codes: CodeTables | None = None
) -> list[Denial]:
    """The work-list items of these claims (a claim's page)."""
    tables = codes or default_codes()
    with unit_of_work(engine) as session:
        items = stored.denial_items_of_claims(session, claim_ids)
        reasons = _reasons(items, stored.denial_reasons(session, items), tables)
    return [Denial(i, reasons[i.item_key], (today - i.answered_on).days) for i in items]


@dataclass(frozen=True)
class DenialDetail:
    denial: Denial
    history: list[StatusChange]


def denial_detail(
    engine: Engine, item_key: str, today: date, codes: CodeTables | None = None
) -> DenialDetail | None:
    tables = codes or default_codes()
    with unit_of_work(engine) as session:
        item = stored.denial_item(session, item_key)
        if item is None:
            return None
        reasons = _reasons([item], stored.denial_reasons(session, [item]), tables)
        history = stored.denial_history(session, item_key)
    return DenialDetail(Denial(item, reasons[item_key], (today - item.answered_on).days), history)


def set_status(
    engine: Engine,
    item_key: str,
    status: WorkStatus,
    note: str,
    *,
    actor: str,
    replacement_claim_id: int | None = None,
) -> DenialItem:
    """Give a denial item a status with a note, audited. "Corrected" needs the corrected
    claim: it is set by ``resubmit``, or by hand when the corrected claim was already sent."""
    text = note.strip()
    if len(text) > MAX_NOTE:
        raise DenialWorkError(f"the note is longer than {MAX_NOTE} characters")
    if status in (WorkStatus.APPEALED, WorkStatus.WRITTEN_OFF) and not text:
        raise DenialWorkError(f"say why in the note: {STATUS_WORDS[status]} needs a reason")
    with unit_of_work(engine) as session:
        item = stored.denial_item(session, item_key)
        if item is None:
            raise DenialWorkError("no such denial: the payer may have paid it since")
        if status is WorkStatus.CORRECTED and replacement_claim_id is None:
            newer = stored.newer_claim_of(session, item.claim_id)
            if newer is None:
                raise DenialWorkError(
                    "no corrected claim was sent for this member and period yet: "
                    "correct the billing, then use Resubmit"
                )
            replacement_claim_id = newer[0]
        if status is not WorkStatus.CORRECTED:
            replacement_claim_id = item.replacement_claim_id
        now = audit.now()
        stored.set_denial_work(
            session, item, status=status.value, note=text,
            replacement_claim_id=replacement_claim_id, at=now, actor=actor,
        )  # fmt: skip
        audit.record_change(
            session, actor=actor, action="update", entity="denial",
            key=f"{item.patient_control_number} {_where(item)}",
            before={"status": item.status, "note": item.note},
            after={"status": status.value, "note": text,
                   "replacement_claim_id": replacement_claim_id},
            at=now,
        )  # fmt: skip
    return item


def _where(item: DenialItem) -> str:
    return f"line {item.line_number}" if item.line_number is not None else "claim"


@dataclass(frozen=True)
class Resubmitted:
    patient_control_number: str
    frequency: str
    marked: int


def resubmit(
    engine: Engine,
    item_key: str,
    contract: Contract | PlanContracts,
    note: str,
    *,
    actor: str,
    today: date,
) -> Resubmitted:
    """Send the corrected claim of a denial: close its period again, as ``ecmbill close``
    does, and mark the claim's open items corrected, linked to the new claim. Nothing is
    sent when the member's billing did not change since the denied claim: the payer would
    deny the same claim again, so the biller corrects the time, the member or the
    eligibility first."""
    with unit_of_work(engine) as session:
        item = stored.denial_item(session, item_key)
        if item is None:
            raise DenialWorkError("no such denial: the payer may have paid it since")
        if stored.newer_claim_of(session, item.claim_id) is not None:
            raise DenialWorkError(
                "a newer claim was already sent for this member and period: mark the denial "
                "corrected instead"
            )
        plan = claims_store.claim(session, item.claim_id).plan
    plans = as_plans(contract)
    result = close_period(
        engine, Period.parse(item.period), plans, actor=actor, today=today,
        plan=plan if plans.several else None,
    )  # fmt: skip
    made = [
        claim
        for claim in result.created
        if claim.member_id == item.member_id and (claim.plan == plan or not plans.several)
    ]
    if not made:
        raise DenialWorkError(
            "nothing changed in this member's billing since the denied claim, so no corrected "
            "claim was made: correct the time, outreach, member or eligibility first"
        )
    new = made[-1]
    with unit_of_work(engine) as session:
        siblings = [
            other
            for other in stored.denial_items_of_claims(session, [item.claim_id])
            if other.item_key == item_key or other.status == WorkStatus.OPEN.value
        ]
    text = note.strip() or f"resent as {new.patient_control_number}"
    for other in siblings:
        set_status(engine, other.item_key, WorkStatus.CORRECTED, text, actor=actor,
                   replacement_claim_id=new.claim_id)  # fmt: skip
    return Resubmitted(new.patient_control_number, new.action.frequency.value, len(siblings))
