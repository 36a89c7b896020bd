"""Looking at claims: one claim's history and its timeline (created, sent, the payer's 999
and 277CA, the 835), the claims of a period, each with its lines and the formats it was
written in, and the work list of claims the payer rejected."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ecmbill.domain.claims import ChargeLine
from ecmbill.domain.lines import NotBilled
from ecmbill.domain.payer import Outcome, set_outcome
from ecmbill.domain.period import Period
from ecmbill.domain.plans import DEFAULT_PLAN
from ecmbill.domain.vocabulary import in_words
from ecmbill.payer.acks import set_reasons
from ecmbill.payer.codes import PayerCodes
from ecmbill.payer.codes import default_codes as default_payer_codes
from ecmbill.remit.model import REVERSAL, Posting, balance
from ecmbill.store import acks as stored_acks
from ecmbill.store import claims as stored
from ecmbill.store.claims import StoredClaim
from ecmbill.store.db import Engine, Session, unit_of_work


@dataclass(frozen=True)
class ClaimView:
    claim_id: int
    patient_control_number: str
    period: str
    member_id: str
    frequency: str
    status: str
    total_charge: Decimal
    original_reference: str | None
    payer_claim_control_number: str | None
    created_at: datetime
    lines: tuple[ChargeLine, ...]
    exported: tuple[str, ...]
    # The health plan the claim was billed to.
    plan: str = DEFAULT_PLAN


def _view(
    session: Session,
    claim: StoredClaim,
    lines: Sequence[ChargeLine] | None = None,
    exported: tuple[str, ...] | None = None,
) -> ClaimView:
    """The claim as listed; ``lines`` and ``exported`` when already read for many claims."""
    return ClaimView(
        claim_id=claim.id,
        patient_control_number=claim.patient_control_number,
        period=claim.period,
        member_id=claim.member_id,
        frequency=claim.frequency,
        status=claim.status,
        total_charge=Decimal(claim.total_charge).quantize(Decimal("0.01")),
        original_reference=claim.original_reference,
        payer_claim_control_number=claim.payer_claim_control_number,
        created_at=claim.created_at,
        lines=tuple(stored.charge_lines(session, claim.id) if lines is None else lines),
        exported=stored.exported_formats(session, claim.id) if exported is None else exported,
        plan=claim.plan,
    )


def claim_history(engine: Engine, claim_ref: str) -> list[ClaimView] | None:
    """The claim and every other claim for its member, period and plan, oldest first: the
    original, its replacements and any void. ``claim_ref`` is a patient control number
    (ECM000000001) or a claim's number (1)."""
    with unit_of_work(engine) as session:
        claim = stored.find_claim(session, claim_ref)
        if claim is None:
            return None
        chain = stored.claims_of(session, claim.period, member_id=claim.member_id)
        return [_view(session, item) for item in chain if item.plan == claim.plan]


def list_claims(engine: Engine, period: Period | None = None) -> list[ClaimView]:
    with unit_of_work(engine) as session:
        claims = stored.claims_of(session, str(period) if period is not None else None)
        ids = [claim.id for claim in claims]
        lines = stored.charge_lines_of(session, ids)
        exported = stored.exported_formats_of(session, ids)
        return [
            _view(session, claim, lines.get(claim.id, []), exported.get(claim.id, ()))
            for claim in claims
        ]


# The timeline of a claim: created → sent → 999 → 277CA → 835 ---------------------------


@dataclass(frozen=True)
class Step:
    on: date
    event: str  # created, sent, file accepted/rejected, claim accepted/rejected, paid, ...
    detail: str
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClaimTimeline:
    claim: ClaimView
    steps: tuple[Step, ...]

    @property
    def last(self) -> Step:
        return self.steps[-1]


FREQUENCY_WORDS = {"1": "original", "7": "replacement", "8": "void"}


def claim_timeline(
    engine: Engine, claim_ref: str, codes: PayerCodes | None = None
) -> list[ClaimTimeline] | None:
    """Every claim of the member and period (as ``claim_history``), each with its steps:
    created (by which close, re-sending which rejected claim), sent (file, date), the 999's
    answer about the file, the 277CA's answer about the claim (reasons in words), the 835's
    answers (paid, partial, denied, reversed). Steps keep the order of a claim's life (each
    send followed by the 999 about its file), not the order of their dates: the payer's
    dates and ours come from different clocks."""
    tables = codes or default_payer_codes()
    with unit_of_work(engine) as session:
        claim = stored.find_claim(session, claim_ref)
        if claim is None:
            return None
        chain = stored.claims_of(session, claim.period, member_id=claim.member_id)
        ids = [item.id for item in chain]
        exports = stored_acks.exports_of(session, ids)
        groups = {e.group for e in exports if e.group is not None}
        set_answers = stored_acks.set_answers(session, groups)
        claim_answers = stored_acks.claim_answers(session, ids)
        payments = stored_acks.payments_of(session, ids)
        views = [_view(session, item) for item in chain]
    result = []
    previous: StoredClaim | None = None
    for item, view in zip(chain, views, strict=True):
        steps = [_created(item, previous)]
        for export in (e for e in exports if e.claim_id == item.id):
            steps += _sent(export, set_answers, item.patient_control_number, tables)
        for answer in (a for a in claim_answers if a.claim_id == item.id):
            outcome = "claim accepted" if answer.accepted else "claim rejected"
            reasons = tuple(tables.status(*status) for status in answer.statuses)
            steps.append(Step(answer.effective_on, outcome, f"277CA {answer.file_name}", reasons))
        steps += _paid(item, [p for p in payments if p.claim_id == item.id])
        result.append(ClaimTimeline(view, tuple(steps)))
        previous = item
    return result


def _created(claim: StoredClaim, previous: StoredClaim | None) -> Step:
    detail = f"{FREQUENCY_WORDS[claim.frequency]} claim by the close of {claim.period}"
    if previous is not None and previous.status == stored.REJECTED:
        detail += f"; re-sends {previous.patient_control_number}, which the payer rejected"
    elif claim.original_reference:
        detail += f"; corrects {claim.original_reference}"
    return Step(stored.aware(claim.created_at).date(), "created", detail)


def _sent(
    export: stored_acks.Export,
    answers: list[stored_acks.SetAnswer],
    pcn: str,
    tables: PayerCodes,
) -> list[Step]:
    steps = [Step(stored.aware(export.exported_at).date(), "sent", f"{export.format} file "
                  f"{export.file_name}")]  # fmt: skip
    for answer in answers:
        if answer.group != export.group or answer.transaction not in (None, export.transaction):
            continue
        outcome = set_outcome(answer.status)
        reasons = set_reasons(answer.status, answer.codes, answer.errors, tables,
                              group=answer.transaction is None, claim=pcn)  # fmt: skip
        steps.append(
            Step(answer.created_on, f"file {outcome.value}",
                 f"999 {answer.file_name} (interchange {answer.control_number})",
                 reasons if outcome is not Outcome.ACCEPTED else ())
        )  # fmt: skip
    return steps


def _paid(claim: StoredClaim, payments: list[stored_acks.Payment]) -> list[Step]:
    steps, postings = [], []
    for payment in payments:
        postings.append(Posting(payment.paid, (), payment.status_code == REVERSAL))
        status = balance(Decimal(claim.total_charge), postings).status
        steps.append(
            Step(payment.payment_date, f"835 {status.value}",
                 f"TRN {payment.trace_number}: paid {payment.paid:.2f}")
        )  # fmt: skip
    return steps


@dataclass(frozen=True)
class RejectedClaim:
    """A claim the payer refused at the door, waiting to be corrected and sent again."""

    patient_control_number: str
    member_id: str
    period: str
    on: date
    source: str
    reasons: tuple[str, ...]


def rejected_claims(
    engine: Engine, period: Period | None = None, codes: PayerCodes | None = None
) -> list[RejectedClaim]:
    """The work list: rejected claims not yet sent again, with the payer's reasons. Correct
    what a reason names (a setting, the member, the time) and close the period again: that
    makes the member's claim anew, and the next 837P carries it."""
    with unit_of_work(engine) as session:
        claims = stored.rejected_and_newest(session, str(period) if period is not None else None)
    found = []
    for claim in claims:
        timeline = claim_timeline(engine, claim.patient_control_number, codes) or []
        steps = next(t.steps for t in timeline if t.claim.claim_id == claim.id)
        refusal = [s for s in steps if s.event in ("file rejected", "claim rejected")]
        last = refusal[-1] if refusal else steps[-1]
        found.append(
            RejectedClaim(claim.patient_control_number, claim.member_id, claim.period,
                          last.on, last.detail, last.reasons)
        )  # fmt: skip
    return found


# Lists of a period, a page at a time ------------------------------------------------------

CLAIM_SORTS = tuple(stored.CLAIM_SORTS)


def claims_page(
    engine: Engine,
    period: Period,
    *,
    status: str | None = None,
    sent: bool | None = None,
    sort: str = "number",
    descending: bool = False,
    page: int = 1,
    page_size: int = 25,
) -> stored.ClaimPage:
    """One page of the period's claims (filtered by status, sent or not, and sorted in the
    database), with how many match and their total charge."""
    if sort not in stored.CLAIM_SORTS:
        raise ValueError(f"claims sort by {', '.join(stored.CLAIM_SORTS)}, not {sort!r}")
    with unit_of_work(engine) as session:
        return stored.claims_page(
            session, str(period), status=status, sent=sent, sort=sort, descending=descending,
            offset=(max(page, 1) - 1) * page_size, limit=page_size,
        )  # fmt: skip


def claims_waiting(
    engine: Engine, period: Period, formats: tuple[str, ...], plans: Iterable[str] | None = None
) -> dict[str, int]:
    """Per format, the period's claims (of these plans, or all) not yet written in it (what a
    download would hold)."""
    with unit_of_work(engine) as session:
        return stored.waiting_counts(session, str(period), formats, plans)


NOT_BILLED_HEADER = ("Date", "Member ID", "Member", "What", "Record", "Reason")


def not_billed_rows(
    items: list[NotBilled], names: dict[str, str]
) -> list[tuple[date, str, str, str, str, str]]:
    """The not-billed list as a table a biller exports (CSV or XLSX), in words."""
    return [
        (item.on, item.member_id, names.get(item.member_id, ""), in_words(item.source),
         item.id, item.reason)
        for item in items
    ]  # fmt: skip
