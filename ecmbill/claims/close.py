"""Closing a period into claims: originals, replacements and voids, one transaction per close.

The rules live in ``ecmbill.domain.claims`` (claim building, the correction rule, timely
filing); this module reads and writes the store around them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from itertools import chain
from typing import Any, TypeVar

from ecmbill.claims.settings import ProviderSettings, plan_settings, provider_settings
from ecmbill.contract import Contract
from ecmbill.contract.plans import PlanContracts, as_plans
from ecmbill.domain.claims import (
    Action,
    AfterDenial,
    ChargeLine,
    Claimed,
    Decision,
    FilingWarning,
    Frequency,
    HeldBack,
    SameDayOutreach,
    billed_lines,
    build_claims,
    hold_back,
    plan_corrections,
    timely_filing,
)
from ecmbill.domain.lines import PeriodRating
from ecmbill.domain.period import Period
from ecmbill.domain.plans import DEFAULT_PLAN
from ecmbill.rating.service import claim_lines_table, lines_by_member
from ecmbill.store import audit
from ecmbill.store import claims as stored
from ecmbill.store import remittances as answers
from ecmbill.store.claims import PeriodClosed, StoredClaim
from ecmbill.store.db import Engine, Session, unit_of_work

T = TypeVar("T")


class PeriodNotOver(Exception):
    """The period has not ended yet: it cannot be closed."""


@dataclass(frozen=True)
class CreatedClaim:
    claim_id: int
    patient_control_number: str
    member_id: str
    action: Action
    total_charge: Decimal
    lines: int
    plan: str = DEFAULT_PLAN


@dataclass
class CloseResult:
    period: str
    created: list[CreatedClaim] = field(default_factory=list)
    unchanged: int = 0
    warnings: tuple[FilingWarning, ...] = ()
    first_closed_at: datetime | None = None
    changed_after_close: list[str] = field(default_factory=list)
    # Claims not made at this close, each with what the biller must do (listed, not dropped).
    held_back: list[HeldBack] = field(default_factory=list)

    def count(self, action: Action) -> int:
        return sum(1 for claim in self.created if claim.action is action)


def close_period(
    engine: Engine,
    period: Period,
    contract: Contract | PlanContracts,
    *,
    actor: str,
    today: date,
    plan: str | None = None,
    on_locked: Callable[[], None] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> CloseResult:
    """Rate the period and claim it: originals for members never claimed, replacements for
    members whose lines changed, voids for members with nothing billable left. Settings are
    checked first; nothing is written when they are incomplete, nor for a period that has
    not ended yet.

    The lock comes before the rating: the close waits for edits being saved, rates what they
    left, and holds edits back until its claims are committed. An edit is therefore either
    in the rating it claims or saved after it, and then listed as unclaimed (its audit record
    follows the close's). ``on_locked`` is called once the lock is held (a test's barrier).
    ``progress(step, done, total)`` is told what the close is doing (a total of 0: unknown).

    Claims are per member, period and plan: each plan's claims are built with its contract
    (rates and claim rules) and compared with the claims made before to that plan. ``plan``
    closes that plan only (the rating still decides each entry's plan from every plan)."""
    tell = progress or (lambda _step, _done, _total: None)
    contracts = as_plans(contract)
    if plan is not None and plan not in contracts:
        raise ValueError(f"no plan {plan!r}: the plans are {', '.join(contracts)}")
    chosen = [plan] if plan is not None else list(contracts)
    single = not contracts.several
    if period.end >= today:
        raise PeriodNotOver(f"{period} has not ended yet: close it after its last day")
    settings = provider_settings(engine)
    if not single:
        for key in chosen:
            plan_settings(engine, key)  # each plan's payer complete before anything is written
    result = CloseResult(period=str(period))
    with unit_of_work(engine) as session:
        # Two closes of one period at once would both see "never claimed" and both create
        # originals: the second waits here and then sees the first one's claims. Edits of
        # the rated records wait too, from here to the commit.
        stored.hold_for_close(session, str(period))
        if on_locked is not None:
            on_locked()
        tell(f"rating {period}", 0, 0)
        rated = claim_lines_table(engine, period, contracts)
        tell("comparing with the claims made before", 0, 0)
        npi_of = stored.staff_npis(session) if settings.rendering_npi_on_line else None
        first = stored.first_close(session, str(period))
        if first is not None:
            result.first_closed_at = first.closed_at
            result.changed_after_close = stored.changed_after(
                session,
                period,
                first.closed_at,
                after_audit_id=stored.close_mark(session, str(period), first=True),
            )
        writer = _Writer(session, str(period), settings, actor, single, result, tell)
        for key in chosen:
            terms = contracts[key]
            rules = terms.claims
            # A claim is corrected by a claim to its own plan, even for a member who has
            # moved to another plan since: that plan never received it.
            mine = stored.latest_claims(session, str(period), None if single else key)
            found = _denied(session, [claim.id for claim in mine.values()])
            waiting = sorted(mine)  # the members claimed before, in the order of the lines
            taken = 0
            # A batch of members at a time, in member order: the claims, the decisions and
            # their control numbers come out in the order of the whole month's, and only a
            # batch's lines and claims are held as objects. A member claimed before with no
            # line left is decided in the batch whose members surround it.
            batches = lines_by_member(rated, MEMBERS_PER_BATCH, plan=None if single else key)
            for lines in chain(batches, [[]]):
                upto = bisect_right(waiting, lines[-1].member_id) if lines else len(waiting)
                if not lines and taken == upto:
                    continue
                drafts = build_claims(
                    PeriodRating(str(period), tuple(lines), ()), terms.rate_for, npi_of,
                    outreach=SameDayOutreach(rules.same_day_outreach),
                    repeat_modifier=rules.repeat_modifier,
                    plan=None if single else key,
                )  # fmt: skip
                if single:
                    drafts = tuple(replace(draft, plan=key) for draft in drafts)
                ours = {member: mine[member] for member in waiting[taken:upto]}
                taken = upto
                # The lines of the batch's earlier claims only, one query per thousand claims.
                before = stored.charge_lines_of(session, (claim.id for claim in ours.values()))
                claimed = {
                    member: Claimed(
                        Frequency(claim.frequency),
                        billed_lines(before.get(claim.id, [])),
                        denied=claim.id in found,
                    )
                    for member, claim in ours.items()
                }
                members = stored.billed_members(session, set(ours) | {d.member_id for d in drafts})
                addressed = {member for member, it in members.items() if it.address is not None}
                go, held = hold_back(
                    plan_corrections(drafts, claimed, AfterDenial(rules.after_denial), key),
                    addressed.__contains__,
                    waived=rules.member_address == "waived",
                )
                result.held_back += held
                todo = [decision for decision in go if decision.action is not Action.NOTHING]
                result.unchanged += len(go) - len(todo)
                result.warnings += timely_filing(
                    [d.draft for d in todo if d.draft is not None and d.action is not Action.VOID],
                    today,
                    terms.timely_filing_days,
                )
                writer.write(todo, {(member, key): claim for member, claim in ours.items()}, found)
        if writer.close_id is None:
            if first is not None:
                return result  # closed before, and nothing changed: nothing is written
            writer.open()
        assert writer.close_id is not None
        stored.set_claims_created(session, writer.close_id, len(result.created))
        stored.record_trail(
            session,
            [
                audit.audit_row(
                    actor=actor, at=writer.now, action="create", entity="period_close",
                    key=str(period), before=None, after={"claims_created": len(result.created)},
                )
            ],
        )  # fmt: skip
    return result


class _Writer:
    """Writes a close's claims as they are decided: the close's record when the first claim
    comes (a close that finds nothing to do writes nothing), then each batch's claims, their
    lines, the statuses of the claims they correct and their audit records."""

    def __init__(
        self,
        session: Session,
        period: str,
        settings: ProviderSettings,
        actor: str,
        single: bool,
        result: CloseResult,
        tell: Callable[[str, int, int], None],
    ) -> None:
        self.session, self.period, self.settings = session, period, settings
        self.actor, self.single, self.result, self.tell = actor, single, result, tell
        self.close_id: int | None = None
        self.now = audit.now()

    def open(self) -> int:
        """The close's record. Its count of claims is set when the close ends (not known
        before: the claims are decided a batch at a time)."""
        if self.close_id is None:
            self.now = audit.now()
            self.close_id = stored.add_close(self.session, self.period, self.now, self.actor, 0)
        return self.close_id

    def write(
        self,
        todo: list[Decision],
        latest: dict[tuple[str, str], StoredClaim],
        denied: set[int],
    ) -> None:
        if not todo:
            return
        session, actor, result = self.session, self.actor, self.result
        close_id = self.open()
        now = self.now
        for batch in _batches(todo, CLAIMS_PER_BATCH):
            made = _new_claims(session, batch, latest, self.period, self.settings, close_id, now)
            trail: list[dict[str, Any]] = []
            for decision, (claim, lines) in zip(batch, made, strict=True):
                previous = latest.get((decision.member_id, decision.plan))
                if previous is not None and (
                    decision.action is not Action.ORIGINAL or previous.id in denied
                ):
                    status = {Action.VOID: "voided", Action.ORIGINAL: "resent"}.get(
                        decision.action, "replaced"
                    )
                    stored.set_status(session, previous.id, status)
                    trail.append(
                        audit.audit_row(
                            actor=actor, at=now, action="update", entity="claim",
                            key=previous.patient_control_number,
                            before={"status": previous.status}, after={"status": status},
                        )
                    )  # fmt: skip
                trail.append(
                    audit.audit_row(
                        actor=actor, at=now, action="create", entity="claim",
                        key=claim.patient_control_number, before=None,
                        after={
                            "member_id": claim.member_id, "period": claim.period,
                            **({} if self.single else {"plan": claim.plan}),
                            "frequency": claim.frequency, "total_charge": claim.total_charge,
                            "lines": len(lines), "corrects": previous.patient_control_number
                            if previous is not None and decision.action is not Action.ORIGINAL
                            else None,
                        },
                    )
                )  # fmt: skip
                result.created.append(
                    CreatedClaim(
                        claim.id, claim.patient_control_number, claim.member_id,
                        decision.action, claim.total_charge, len(lines), claim.plan,
                    )
                )  # fmt: skip
            # Written per batch: a million-entry month's trail is not held whole.
            stored.record_trail(session, trail)
            # The total is not known before the last batch is decided: 0 (unknown).
            self.tell("writing claims", len(result.created), 0)


def _denied(session: Session, claim_ids: list[int]) -> set[int]:
    """The claims whose latest answer from the payer is a denial (CLP02 = 4)."""
    latest = {
        answer.claim_id: answer.status_code for answer in answers.claim_answers(session, claim_ids)
    }
    return {
        claim_id for claim_id, status in latest.items() if claim_id is not None and status == "4"
    }


def first_close(engine: Engine, period: Period) -> PeriodClosed | None:
    """The period's first close, or None while it was never closed."""
    with unit_of_work(engine) as session:
        return stored.first_close(session, str(period))


def unclaimed_changes(engine: Engine, period: Period) -> list[str]:
    """Time and outreach records of the period changed since its latest close: what closing
    again would look at. Empty for a period never closed (everything is still to claim)."""
    with unit_of_work(engine) as session:
        latest = stored.latest_close_time(session, str(period))
        if latest is None:
            return []
        mark = stored.close_mark(session, str(period), first=False)
        return stored.changed_after(session, period, latest, after_audit_id=mark)


# Claims written per statement batch: their lines and audit records go with them.
CLAIMS_PER_BATCH = 2000
# Members whose lines are turned into claims, compared with the claims made before and written
# together: the month's lines stay Arrow columns, a batch of members' lines become objects.
MEMBERS_PER_BATCH = 2000


def _batches(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _new_claims(
    session: Session,
    decisions: list[Decision],
    latest: dict[tuple[str, str], StoredClaim],
    period: str,
    settings: ProviderSettings,
    close_id: int,
    now: datetime,
) -> list[tuple[StoredClaim, list[ChargeLine]]]:
    """The claims of these decisions with their lines, numbered in the order of the decisions
    from one block of control numbers, and written together."""
    first = stored.reserve_numbers(session, "claim", len(decisions))
    new: list[stored.NewClaim] = []
    voided = stored.charge_lines_of(
        session,
        (
            latest[(decision.member_id, decision.plan)].id
            for decision in decisions
            if decision.action is Action.VOID
        ),
    )
    for number, decision in enumerate(decisions, start=first):
        previous = latest.get((decision.member_id, decision.plan))
        if decision.action is Action.VOID:
            assert previous is not None
            lines = voided.get(previous.id, [])
        else:
            assert decision.draft is not None
            lines = list(decision.draft.lines)
        action = decision.action
        corrects = previous if action in (Action.REPLACEMENT, Action.VOID) else None
        new.append(
            stored.NewClaim(
                period=period,
                member_id=decision.member_id,
                billing_npi=settings.billing_npi,
                frequency=action.frequency.value,
                status="void" if action is Action.VOID else "active",
                patient_control_number=f"ECM{number:09d}",
                corrects_claim_id=corrects.id if corrects else None,
                original_reference=stored.reference_for(session, corrects.id) if corrects else None,
                diagnosis_code=settings.diagnosis_code,
                place_of_service=settings.place_of_service,
                close_id=close_id,
                created_at=now,
                lines=lines,
                plan=corrects.plan if corrects else decision.plan,
            )
        )
    claims = stored.add_claims(session, new)
    return [(claim, made.lines) for claim, made in zip(claims, new, strict=True)]
