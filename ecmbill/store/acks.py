"""The payer's acknowledgments as the store keeps them: each imported interchange, a 999's
answer per transaction set (or functional group), a 277CA's answer per claim, and what the
timeline of a claim reads back (its exports, these answers, its 835 payments).

Every function works inside the caller's transaction and hands back plain values."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ecmbill.store import models


@dataclass(frozen=True)
class Interchange:
    kind: str
    sender_id: str
    control_number: str
    file_name: str
    sha256: str
    created_on: date


@dataclass(frozen=True)
class Export:
    claim_id: int
    format: str
    file_name: str
    exported_at: datetime
    group: int | None
    transaction: int | None


@dataclass(frozen=True)
class SetAnswer:
    """A 999's answer about a file of ours (``transaction`` None: the whole group)."""

    group: int
    transaction: int | None
    status: str
    codes: tuple[str, ...]
    errors: tuple[dict[str, Any], ...]
    file_name: str
    control_number: str
    created_on: date


@dataclass(frozen=True)
class ClaimAnswer:
    claim_id: int | None
    patient_control_number: str
    payer_claim_control_number: str | None
    accepted: bool
    statuses: tuple[tuple[str, str, str | None], ...]
    effective_on: date
    file_name: str
    segment: int


@dataclass(frozen=True)
class Payment:
    """An 835's answer about a claim (CLP) with the payment's trace and date."""

    claim_id: int
    answer_id: int
    status_code: str
    paid: Decimal
    trace_number: str
    payment_date: date


# Importing --------------------------------------------------------------------------------


def already_imported(session: Session, interchange: Interchange) -> bool:
    """The same interchange (kind, sender, ISA13) or the same bytes were imported before."""
    row = models.AckInterchange
    found = session.scalar(
        select(row.id).where(
            row.kind == interchange.kind,
            or_(
                row.sha256 == interchange.sha256,
                (row.sender_id == interchange.sender_id)
                & (row.control_number == interchange.control_number),
            ),
        )
    )
    return found is not None


def add_interchange(
    session: Session, interchange: Interchange, *, imported_at: datetime, actor: str
) -> int:
    row = models.AckInterchange(
        kind=interchange.kind,
        sender_id=interchange.sender_id[:15],
        control_number=interchange.control_number[:9],
        file_name=interchange.file_name[:255],
        sha256=interchange.sha256,
        created_on=interchange.created_on,
        imported_at=imported_at,
        actor=actor,
    )
    session.add(row)
    session.flush()
    return row.id


def add_set_answer(
    session: Session,
    interchange_id: int,
    *,
    group: int,
    transaction: int | None,
    status: str,
    codes: Iterable[str],
    errors: Iterable[dict[str, Any]],
    segment: int,
) -> None:
    session.add(
        models.SetAck(
            interchange_id=interchange_id,
            group_control_number=group,
            transaction_control_number=transaction,
            status=status,
            codes=" ".join(codes)[:40],
            errors=json.dumps(list(errors)),
            segment=segment,
        )
    )


def add_claim_answer(
    session: Session,
    interchange_id: int,
    *,
    claim_id: int | None,
    patient_control_number: str,
    payer_claim_control_number: str | None,
    accepted: bool,
    statuses: Iterable[tuple[str, str, str | None]],
    effective_on: date,
    segment: int,
) -> None:
    session.add(
        models.ClaimAck(
            interchange_id=interchange_id,
            claim_id=claim_id,
            patient_control_number=patient_control_number[:50],
            payer_claim_control_number=payer_claim_control_number,
            accepted=accepted,
            statuses=json.dumps([list(status) for status in statuses]),
            effective_on=effective_on,
            segment=segment,
        )
    )


def claims_sent_in(session: Session, group: int, transaction: int | None) -> list[int]:
    """Our claims written in the 837P with this GS06 (and ST02, when given)."""
    export = models.ClaimExport
    query = select(export.claim_id).where(
        export.format == "837p", export.group_control_number == group
    )
    if transaction is not None:
        query = query.where(export.transaction_control_number == transaction)
    return sorted(set(session.scalars(query)))


def claim_by_payer_number(session: Session, number: str) -> int | None:
    return session.scalar(
        select(models.Claim.id)
        .where(models.Claim.payer_claim_control_number == number)
        .order_by(models.Claim.id.desc())
        .limit(1)
    )


# Reading back -----------------------------------------------------------------------------


def exports_of(session: Session, claim_ids: Iterable[int]) -> list[Export]:
    export = models.ClaimExport
    return [
        Export(row.claim_id, row.format, row.file_name, row.exported_at,
               row.group_control_number, row.transaction_control_number)
        for row in session.scalars(
            select(export).where(export.claim_id.in_(list(claim_ids))).order_by(export.id)
        )
    ]  # fmt: skip


def set_answers(session: Session, groups: Iterable[int]) -> list[SetAnswer]:
    """The 999 answers about these functional groups, oldest first."""
    ack, interchange = models.SetAck, models.AckInterchange
    rows = session.execute(
        select(ack, interchange)
        .join(interchange, ack.interchange_id == interchange.id)
        .where(ack.group_control_number.in_(list(set(groups))))
        .order_by(ack.id)
    ).all()
    return [
        SetAnswer(a.group_control_number, a.transaction_control_number, a.status,
                  tuple(a.codes.split()), tuple(json.loads(a.errors)), i.file_name,
                  i.control_number, i.created_on)
        for a, i in rows
    ]  # fmt: skip


def claim_answers(session: Session, claim_ids: Iterable[int] | None) -> list[ClaimAnswer]:
    """The 277CA answers about these claims (all of them, unmatched too, when None)."""
    ack, interchange = models.ClaimAck, models.AckInterchange
    query = select(ack, interchange).join(interchange, ack.interchange_id == interchange.id)
    if claim_ids is not None:
        query = query.where(ack.claim_id.in_(list(claim_ids)))
    return [
        ClaimAnswer(a.claim_id, a.patient_control_number, a.payer_claim_control_number,
                    a.accepted, tuple((s[0], s[1], s[2]) for s in json.loads(a.statuses)),
                    a.effective_on, i.file_name, a.segment)
        for a, i in session.execute(query.order_by(ack.id)).all()
    ]  # fmt: skip


def payments_of(session: Session, claim_ids: Iterable[int]) -> list[Payment]:
    answer, remittance = models.RemitClaim, models.Remittance
    rows = session.execute(
        select(answer, remittance)
        .join(remittance, answer.remittance_id == remittance.id)
        .where(answer.claim_id.in_(list(claim_ids)))
        .order_by(answer.id)
    ).all()
    return [
        Payment(a.claim_id, a.id, a.status_code, Decimal(a.paid), r.trace_number, r.payment_date)
        for a, r in rows
        if a.claim_id is not None
    ]


def last_acknowledged(session: Session) -> dict[int, date]:
    """The date of the newest 999 or 277CA answer about each claim."""
    latest: dict[int, date] = {}

    def keep(claim_id: int, on: date) -> None:
        if claim_id not in latest or latest[claim_id] < on:
            latest[claim_id] = on

    for claim_id, on in session.execute(
        select(models.ClaimAck.claim_id, models.ClaimAck.effective_on).where(
            models.ClaimAck.claim_id.is_not(None)
        )
    ):
        if claim_id is not None:
            keep(claim_id, on)
    export, ack, interchange = models.ClaimExport, models.SetAck, models.AckInterchange
    rows = session.execute(
        select(export.claim_id, interchange.created_on, ack.transaction_control_number,
               export.transaction_control_number)
        .join(ack, ack.group_control_number == export.group_control_number)
        .join(interchange, ack.interchange_id == interchange.id)
        .where(export.format == "837p")
    )  # fmt: skip
    for claim_id, on, answered_set, sent_set in rows:
        if answered_set is None or answered_set == sent_set:
            keep(claim_id, on)
    return latest


# Eligibility checks -----------------------------------------------------------------------


def members_to_check(session: Session, first: date, last: date) -> list[str]:
    """Members enrolled in ECM on a day between ``first`` and ``last``, or assigned by the
    plan (Member Information File) by ``last``: whom a month's 270 asks about."""
    span = models.Enrollment
    enrolled = session.scalars(
        select(span.member_id).where(
            span.start_date <= last, or_(span.end_date.is_(None), span.end_date >= first)
        )
    )
    assigned = session.scalars(
        select(models.MemberDetail.member_id).where(models.MemberDetail.assignment_date <= last)
    )
    return sorted(set(enrolled) | set(assigned))
