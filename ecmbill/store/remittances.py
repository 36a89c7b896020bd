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
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from ecmbill.store import models

ZERO = Decimal("0.00")
# Keys per statement when a remittance's claims are looked up or written in bulk.
CHUNK = 500


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


@dataclass(frozen=True)
class BilledLine:
    """One of our claim lines, as a remittance's service line is matched to it."""

    id: int
    number: int
    code: str
    modifiers: tuple[str, ...]
    units: int
    first_date: date
    last_date: date


@dataclass(frozen=True)
class ClaimOnFile:
    """One of our claims, found by the patient control number a remittance gives (CLP01)."""

    id: int
    patient_control_number: str
    payer_claim_control_number: str | None
    lines: tuple[BilledLine, ...]


def claims_on_file(session: Session, numbers: Iterable[str]) -> dict[str, ClaimOnFile]:
    """Our claims and their lines for these patient control numbers, in a few statements
    however many there are (plain rows: a large 835 looks up a hundred thousand claims)."""
    wanted = sorted(set(numbers))
    claim, line = models.Claim.__table__.c, models.ClaimLineRecord.__table__.c
    found: dict[int, tuple[str, str | None]] = {}
    for start in range(0, len(wanted), CHUNK):
        rows = session.execute(
            select(claim.id, claim.patient_control_number, claim.payer_claim_control_number)
            .where(claim.patient_control_number.in_(wanted[start : start + CHUNK]))
        )  # fmt: skip
        found.update((row[0], (row[1], row[2])) for row in rows)
    lines: dict[int, list[BilledLine]] = {claim_id: [] for claim_id in found}
    ids = sorted(found)
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(line.claim_id, line.id, line.line_number, line.code, line.modifiers,
                   line.units, line.first_date, line.last_date)
            .where(line.claim_id.in_(ids[start : start + CHUNK]))
            .order_by(line.claim_id, line.line_number)
        )  # fmt: skip
        for claim_id, *values in rows:
            line_id, number, code, modifiers, units, first, last = values
            lines[claim_id].append(
                BilledLine(line_id, number, code, tuple(modifiers.split()), units, first, last)
            )
    return {
        number: ClaimOnFile(claim_id, number, payer_number, tuple(lines[claim_id]))
        for claim_id, (number, payer_number) in found.items()
    }


def _insert_finding_ids(
    session: Session, model: type[models.Base], rows: list[dict[str, object]], key: str
) -> list[int]:
    """Insert many rows as one executemany, then their new ids in the order of ``rows``,
    found again by (``key``, segment): one answer per segment of a file. (INSERT .. RETURNING
    in parameter order makes SQLAlchemy send SQLite one statement per row.)"""
    if not rows:
        return []
    table = cast(Table, model.__table__)
    session.execute(insert(table), rows)
    owners = sorted({row[key] for row in rows}, key=str)
    segments = [row["segment"] for row in rows]
    found: dict[tuple[object, object], int] = {}
    for start in range(0, len(owners), CHUNK):
        for row_id, owner, segment in session.execute(
            select(table.c.id, table.c[key], table.c.segment).where(
                table.c[key].in_(owners[start : start + CHUNK]),
                table.c.segment.between(min(segments), max(segments)),  # type: ignore[type-var]
            )
        ):
            found[(owner, segment)] = row_id
    return [found[(row[key], row["segment"])] for row in rows]


def add_claim_answers(session: Session, rows: list[dict[str, object]]) -> list[int]:
    """``RemitClaim`` rows (remittance_id, claim_id, patient_control_number, status_code,
    charge, paid, patient_responsibility, payer_claim_control_number, remarks, segment)."""
    return _insert_finding_ids(session, models.RemitClaim, rows, "remittance_id")


def add_line_answers(session: Session, rows: list[dict[str, object]]) -> list[int]:
    """``RemitLine`` rows (remit_claim_id, claim_line_id, match, code, modifiers, charge, paid,
    units, first_date, last_date, remarks, segment)."""
    return _insert_finding_ids(session, models.RemitLine, rows, "remit_claim_id")


def add_adjustment_rows(session: Session, rows: list[dict[str, object]]) -> None:
    """``RemitAdjustment`` rows (remit_claim_id, remit_line_id, group_code, reason_code,
    amount, quantity)."""
    if rows:
        session.execute(insert(cast(Table, models.RemitAdjustment.__table__)), rows)


def set_payer_claim_numbers(session: Session, numbers: dict[int, str]) -> None:
    """The payer's claim control number (CLP07) of each claim id."""
    if numbers:
        table = cast(Table, models.Claim.__table__)
        session.execute(
            update(table)
            .where(table.c.id == bindparam("claim_id"))
            .values(payer_claim_control_number=bindparam("number")),
            [{"claim_id": claim_id, "number": n} for claim_id, n in numbers.items()],
        )


def add_warnings(session: Session, remittance_id: int, warnings: Iterable[tuple[str, str]]) -> None:
    """The remittance's warnings as (fault, message)."""
    session.add_all(
        models.RemittanceWarning(remittance_id=remittance_id, fault=fault, message=message)
        for fault, message in warnings
    )


def warnings_of(
    session: Session, remittance_ids: Iterable[int] | None = None
) -> dict[int, list[str]]:
    """Each remittance's warnings, in the order found."""
    query = select(models.RemittanceWarning).order_by(models.RemittanceWarning.id)
    if remittance_ids is not None:
        query = query.where(models.RemittanceWarning.remittance_id.in_(list(remittance_ids)))
    found: dict[int, list[str]] = {}
    for row in session.scalars(query):
        found.setdefault(row.remittance_id, []).append(row.message)
    return found


@dataclass(frozen=True)
class RemittanceSummary:
    id: int
    trace_number: str
    payment_amount: Decimal
    payment_date: date
    file_name: str
    warnings: tuple[str, ...]


def remittances_with_warnings(session: Session) -> list[RemittanceSummary]:
    """Remittances posted with warnings, newest first."""
    warned = warnings_of(session)
    rows = session.scalars(
        select(models.Remittance)
        .where(models.Remittance.id.in_(list(warned)))
        .order_by(models.Remittance.id.desc())
    )
    return [
        RemittanceSummary(row.id, row.trace_number, Decimal(row.payment_amount),
                          row.payment_date, row.file_name, tuple(warned[row.id]))
        for row in rows
    ]  # fmt: skip


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
