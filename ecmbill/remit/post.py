"""Importing an 835 into the store: each payment posted against our claims and lines."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from ecmbill.remit.model import (
    ZERO,
    Adjustment,
    ClaimPayment,
    Match,
    OurLine,
    Remittance,
    match_lines,
)
from ecmbill.remit.reader import read_835
from ecmbill.store import audit
from ecmbill.store import claims as stored_claims
from ecmbill.store import remittances as stored
from ecmbill.store.claims import StoredClaim
from ecmbill.store.db import Engine, Session, serialise, unit_of_work


@dataclass(frozen=True)
class UnmatchedLine:
    patient_control_number: str
    code: str
    modifiers: tuple[str, ...]
    segment: int


@dataclass
class Posted:
    trace_number: str
    payment_amount: Decimal
    claims: int = 0
    unmatched_claims: list[str] = field(default_factory=list)
    exact_lines: int = 0
    inferred_lines: int = 0
    unmatched_lines: list[UnmatchedLine] = field(default_factory=list)
    reversals: int = 0
    provider_adjustments: Decimal = ZERO


@dataclass
class ImportOutcome:
    file: Path
    posted: list[Posted] = field(default_factory=list)
    already_imported: list[str] = field(default_factory=list)


def import_835(engine: Engine, path: Path, *, actor: str) -> ImportOutcome:
    """Post every transaction of the file in one database transaction. A transaction whose
    trace number (TRN02, per payer TRN03) was posted before is skipped and reported. A file
    pyx12 finds invalid raises ``RemitFileError`` and nothing is posted."""
    remittances = read_835(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    outcome = ImportOutcome(file=path)
    with unit_of_work(engine) as session:
        # The same new 835 uploaded twice at once: the second waits here for the first to
        # commit, then finds its trace numbers posted (instead of a duplicate-key error).
        serialise(session, "ecmbill-remit-post")
        now = audit.now()
        for remittance in remittances:
            if stored.already_posted(session, remittance.trace_number, remittance.payer_id):
                outcome.already_imported.append(remittance.trace_number)
                continue
            outcome.posted.append(_post(session, remittance, path.name, digest, actor, now))
    return outcome


def _post(
    session: Session,
    remittance: Remittance,
    file_name: str,
    digest: str,
    actor: str,
    now: datetime,
) -> Posted:
    remittance_id = stored.add_remittance(
        session,
        trace_number=remittance.trace_number,
        payer_id=remittance.payer_id,
        payer_name=remittance.payer_name,
        payment_amount=remittance.payment_amount,
        payment_method=remittance.payment_method,
        payment_date=remittance.payment_date,
        file_name=file_name,
        sha256=digest,
        imported_at=now,
        actor=actor,
    )
    posted = Posted(remittance.trace_number, remittance.payment_amount)
    trail = []
    for payment in remittance.claims:
        claim = stored_claims.claim_by_control_number(session, payment.patient_control_number)
        posted.claims += 1
        posted.reversals += payment.reversal
        if claim is None:
            posted.unmatched_claims.append(payment.patient_control_number)
        elif (
            payment.payer_claim_control_number
            and not payment.reversal
            and claim.payer_claim_control_number != payment.payer_claim_control_number
        ):
            trail.append(
                audit.audit_row(
                    actor=actor, at=now, action="update", entity="claim",
                    key=claim.patient_control_number,
                    before={"payer_claim_control_number": claim.payer_claim_control_number},
                    after={"payer_claim_control_number": payment.payer_claim_control_number},
                )
            )  # fmt: skip
            stored_claims.set_payer_claim_control_number(
                session, claim.id, payment.payer_claim_control_number
            )
        _post_claim(session, remittance_id, claim, payment, posted)
    for plb in remittance.provider_adjustments:
        stored.add_provider_adjustment(
            session,
            remittance_id=remittance_id,
            provider_id=plb.provider_id,
            fiscal_date=plb.fiscal_date,
            reason_code=plb.reason,
            reference=plb.reference,
            amount=plb.amount,
        )
        posted.provider_adjustments += plb.amount
    trail.append(
        audit.audit_row(
            actor=actor, at=now, action="create", entity="remittance",
            key=remittance.trace_number, before=None,
            after={"payer_id": remittance.payer_id, "payment": remittance.payment_amount,
                   "claims": posted.claims, "file": file_name},
        )
    )  # fmt: skip
    audit.record(session, trail)
    return posted


def _post_claim(
    session: Session,
    remittance_id: int,
    claim: StoredClaim | None,
    payment: ClaimPayment,
    posted: Posted,
) -> None:
    answer_id = stored.add_claim_answer(
        session,
        remittance_id=remittance_id,
        claim_id=claim.id if claim else None,
        patient_control_number=payment.patient_control_number,
        status_code=payment.status,
        charge=payment.charge,
        paid=payment.paid,
        patient_responsibility=payment.patient_responsibility,
        payer_claim_control_number=payment.payer_claim_control_number,
        remarks=" ".join(payment.remarks),
        segment=payment.segment,
    )
    _add_adjustments(session, answer_id, None, payment.adjustments)
    ours: list[OurLine] = []
    ids: dict[int, int] = {}
    if claim is not None:
        for row in stored_claims.stored_lines(session, claim.id):
            line = row.line
            ours.append(
                OurLine(row.number, line.code, line.modifiers, line.units, line.first_date,
                        line.last_date)
            )  # fmt: skip
            ids[row.number] = row.id
    for svc, ours_line, how in match_lines(ours, payment.lines):
        line_answer_id = stored.add_line_answer(
            session,
            answer_id=answer_id,
            claim_line_id=ids[ours_line.number] if ours_line else None,
            match=how.value,
            code=svc.code,
            modifiers=" ".join(svc.modifiers),
            charge=svc.charge,
            paid=svc.paid,
            units=svc.units,
            first_date=svc.first_date,
            last_date=svc.last_date,
            remarks=" ".join(svc.remarks),
            segment=svc.segment,
        )
        _add_adjustments(session, answer_id, line_answer_id, svc.adjustments)
        if how is Match.EXACT:
            posted.exact_lines += 1
        elif how is Match.INFERRED:
            posted.inferred_lines += 1
        else:
            posted.unmatched_lines.append(
                UnmatchedLine(payment.patient_control_number, svc.code, svc.modifiers, svc.segment)
            )


def _add_adjustments(
    session: Session,
    answer_id: int,
    line_answer_id: int | None,
    adjustments: tuple[Adjustment, ...],
) -> None:
    stored.add_adjustments(
        session,
        answer_id,
        line_answer_id,
        ((a.group, a.reason, a.amount, a.quantity) for a in adjustments),
    )
