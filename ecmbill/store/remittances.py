"""Remittances (835s) as the store keeps them: each payment, the answer for each claim and
service line, their adjustments, and the provider-level adjustments.

Every function works inside the caller's transaction and takes or hands back plain values, so
the remittance services decide and this module only reads and writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecmbill.store import models

ZERO = Decimal("0.00")


# One CAS reason as stored: group code, CARC, amount, quantity.
AdjustmentRow = tuple[str, str, Decimal, Decimal | None]


@dataclass(frozen=True)
class ClaimAnswer:
    """What one remittance said about one of our claims."""

    id: int
    claim_id: int | None
    status_code: str
    paid: Decimal


@dataclass(frozen=True)
class LineAnswer:
    """What one remittance said about one service line, and which of our lines it matched."""

    id: int
    answer_id: int
    claim_line_id: int | None
    match: str
    paid: Decimal


@dataclass(frozen=True)
class AnswerAdjustment:
    """A CAS reason of a claim answer (``line_answer_id`` None) or of one service line."""

    answer_id: int
    line_answer_id: int | None
    group: str
    reason: str
    amount: Decimal


@dataclass(frozen=True)
class UnmatchedAnswer:
    """An answer for a claim we do not know (``code`` None), or for a service line of a known
    claim that matched none of its lines."""

    trace_number: str
    patient_control_number: str
    code: str | None
    paid: Decimal
    segment: int


# Posting ----------------------------------------------------------------------------------


def already_posted(session: Session, trace_number: str, payer_id: str) -> bool:
    return (
        session.scalar(
            select(models.Remittance.id).where(
                models.Remittance.trace_number == trace_number,
                models.Remittance.payer_id == payer_id,
            )
        )
        is not None
    )


def add_remittance(
    session: Session,
    *,
    trace_number: str,
    payer_id: str,
    payer_name: str,
    payment_amount: Decimal,
    payment_method: str,
    payment_date: date,
    file_name: str,
    sha256: str,
    imported_at: datetime,
    actor: str,
) -> int:
    row = models.Remittance(
        trace_number=trace_number,
        payer_id=payer_id,
        payer_name=payer_name[:60],
        payment_amount=payment_amount,
        payment_method=payment_method[:3],
        payment_date=payment_date,
        file_name=file_name,
        sha256=sha256,
        imported_at=imported_at,
        actor=actor,
    )
    session.add(row)
    session.flush()
    return row.id


def add_claim_answer(
    session: Session,
    *,
    remittance_id: int,
    claim_id: int | None,
    patient_control_number: str,
    status_code: str,
    charge: Decimal,
    paid: Decimal,
    patient_responsibility: Decimal,
    payer_claim_control_number: str | None,
    remarks: str,
    segment: int,
) -> int:
    row = models.RemitClaim(
        remittance_id=remittance_id,
        claim_id=claim_id,
        patient_control_number=patient_control_number,
        status_code=status_code,
        charge=charge,
        paid=paid,
        patient_responsibility=patient_responsibility,
        payer_claim_control_number=payer_claim_control_number,
        remarks=remarks,
        segment=segment,
    )
    session.add(row)
    session.flush()
    return row.id


def add_line_answer(
    session: Session,
    *,
    answer_id: int,
    claim_line_id: int | None,
    match: str,
    code: str,
    modifiers: str,
    charge: Decimal,
    paid: Decimal,
    units: int | None,
    first_date: date | None,
    last_date: date | None,
    remarks: str,
    segment: int,
) -> int:
    row = models.RemitLine(
        remit_claim_id=answer_id,
        claim_line_id=claim_line_id,
        match=match,
        code=code,
        modifiers=modifiers,
        charge=charge,
        paid=paid,
        units=units,
        first_date=first_date,
        last_date=last_date,
        remarks=remarks,
        segment=segment,
    )
    session.add(row)
    session.flush()
    return row.id


def add_adjustments(
    session: Session,
    answer_id: int,
    line_answer_id: int | None,
    adjustments: Iterable[AdjustmentRow],
) -> None:
    session.add_all(
        models.RemitAdjustment(
            remit_claim_id=answer_id,
            remit_line_id=line_answer_id,
            group_code=group,
            reason_code=reason,
            amount=amount,
            quantity=quantity,
        )
        for group, reason, amount, quantity in adjustments
    )


def add_provider_adjustment(
    session: Session,
    *,
    remittance_id: int,
    provider_id: str,
    fiscal_date: date,
    reason_code: str,
    reference: str | None,
    amount: Decimal,
) -> None:
    session.add(
        models.ProviderAdjustmentRecord(
            remittance_id=remittance_id,
            provider_id=provider_id,
            fiscal_date=fiscal_date,
            reason_code=reason_code,
            reference=reference,
            amount=amount,
        )
    )


# Reading back -----------------------------------------------------------------------------


def claim_answers(session: Session, claim_ids: Iterable[int]) -> list[ClaimAnswer]:
    """Every answer for these claims, in the order they were posted."""
    return [
        ClaimAnswer(row.id, row.claim_id, row.status_code, Decimal(row.paid))
        for row in session.scalars(
            select(models.RemitClaim)
            .where(models.RemitClaim.claim_id.in_(list(claim_ids)))
            .order_by(models.RemitClaim.id)
        )
    ]


def answer_adjustments(session: Session, answer_ids: Iterable[int]) -> list[AnswerAdjustment]:
    return [
        AnswerAdjustment(
            row.remit_claim_id,
            row.remit_line_id,
            row.group_code,
            row.reason_code,
            Decimal(row.amount),
        )
        for row in session.scalars(
            select(models.RemitAdjustment).where(
                models.RemitAdjustment.remit_claim_id.in_(list(answer_ids))
            )
        )
    ]


def line_answers(session: Session, answer_ids: Iterable[int]) -> list[LineAnswer]:
    """The service-line answers of these claim answers, in the order they were posted."""
    return [
        LineAnswer(row.id, row.remit_claim_id, row.claim_line_id, row.match, Decimal(row.paid))
        for row in session.scalars(
            select(models.RemitLine)
            .where(models.RemitLine.remit_claim_id.in_(list(answer_ids)))
            .order_by(models.RemitLine.id)
        )
    ]


def unmatched(session: Session) -> list[UnmatchedAnswer]:
    """Answers for claims we do not know, then service-line answers of known claims that
    matched none of our lines."""
    traces = dict(
        session.execute(select(models.Remittance.id, models.Remittance.trace_number)).all()
    )
    found = [
        UnmatchedAnswer(
            traces[a.remittance_id], a.patient_control_number, None, Decimal(a.paid), a.segment
        )
        for a in session.scalars(
            select(models.RemitClaim).where(models.RemitClaim.claim_id.is_(None))
        )
    ]
    rows = session.execute(
        select(models.RemitLine, models.RemitClaim)
        .join(models.RemitClaim, models.RemitLine.remit_claim_id == models.RemitClaim.id)
        .where(models.RemitLine.claim_line_id.is_(None), models.RemitClaim.claim_id.is_not(None))
    ).all()
    for line, answer in rows:
        found.append(
            UnmatchedAnswer(traces[answer.remittance_id], answer.patient_control_number,
                            f"{line.code} {line.modifiers}".strip(), Decimal(line.paid),
                            line.segment)
        )  # fmt: skip
    return found


def provider_adjustment_total(session: Session) -> Decimal:
    return sum(
        (Decimal(r.amount) for r in session.scalars(select(models.ProviderAdjustmentRecord))),
        ZERO,
    )
