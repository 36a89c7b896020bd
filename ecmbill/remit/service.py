"""Importing 835s into the store and reconciling them with our claims: what the shells call."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ecmbill.domain.period import Period
from ecmbill.remit.codes import CodeTables, default_codes
from ecmbill.remit.model import (
    AGEING_BUCKETS,
    ZERO,
    Adjustment,
    Balance,
    ClaimPayment,
    Match,
    OurLine,
    Posting,
    Remittance,
    Status,
    ageing_bucket,
    balance,
    match_lines,
)
from ecmbill.remit.reader import read_835
from ecmbill.store import audit, models
from ecmbill.store.db import unit_of_work


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
        now = audit.now()
        for remittance in remittances:
            seen = session.scalar(
                select(models.Remittance.id).where(
                    models.Remittance.trace_number == remittance.trace_number,
                    models.Remittance.payer_id == remittance.payer_id,
                )
            )
            if seen is not None:
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
    row = models.Remittance(
        trace_number=remittance.trace_number,
        payer_id=remittance.payer_id,
        payer_name=remittance.payer_name[:60],
        payment_amount=remittance.payment_amount,
        payment_method=remittance.payment_method[:3],
        payment_date=remittance.payment_date,
        file_name=file_name,
        sha256=digest,
        imported_at=now,
        actor=actor,
    )
    session.add(row)
    session.flush()
    posted = Posted(remittance.trace_number, remittance.payment_amount)
    trail = []
    for payment in remittance.claims:
        claim = session.scalar(
            select(models.Claim).where(
                models.Claim.patient_control_number == payment.patient_control_number
            )
        )
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
            claim.payer_claim_control_number = payment.payer_claim_control_number
        _post_claim(session, row.id, claim, payment, posted)
    for plb in remittance.provider_adjustments:
        session.add(
            models.ProviderAdjustmentRecord(
                remittance_id=row.id,
                provider_id=plb.provider_id,
                fiscal_date=plb.fiscal_date,
                reason_code=plb.reason,
                reference=plb.reference,
                amount=plb.amount,
            )
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
    claim: models.Claim | None,
    payment: ClaimPayment,
    posted: Posted,
) -> None:
    answer = models.RemitClaim(
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
    session.add(answer)
    session.flush()
    _add_adjustments(session, answer.id, None, payment.adjustments)
    ours: list[OurLine] = []
    ids: dict[int, int] = {}
    if claim is not None:
        for line in session.scalars(
            select(models.ClaimLineRecord).where(models.ClaimLineRecord.claim_id == claim.id)
        ):
            ours.append(
                OurLine(line.line_number, line.code, tuple(line.modifiers.split()), line.units,
                        line.first_date, line.last_date)
            )  # fmt: skip
            ids[line.line_number] = line.id
    for svc, ours_line, how in match_lines(ours, payment.lines):
        record = models.RemitLine(
            remit_claim_id=answer.id,
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
        session.add(record)
        session.flush()
        _add_adjustments(session, answer.id, record.id, svc.adjustments)
        if how is Match.EXACT:
            posted.exact_lines += 1
        elif how is Match.INFERRED:
            posted.inferred_lines += 1
        else:
            posted.unmatched_lines.append(
                UnmatchedLine(payment.patient_control_number, svc.code, svc.modifiers, svc.segment)
            )


def _add_adjustments(
    session: Session, claim_id: int, line_id: int | None, adjustments: tuple[Adjustment, ...]
) -> None:
    session.add_all(
        models.RemitAdjustment(
            remit_claim_id=claim_id,
            remit_line_id=line_id,
            group_code=a.group,
            reason_code=a.reason,
            amount=a.amount,
            quantity=a.quantity,
        )
        for a in adjustments
    )


# Reconciliation report --------------------------------------------------------------------


@dataclass(frozen=True)
class LineReport:
    number: int
    code: str
    modifiers: tuple[str, ...]
    first_date: date
    last_date: date
    balance: Balance
    inferred: bool


@dataclass(frozen=True)
class ClaimReport:
    patient_control_number: str
    member_id: str
    period: str
    frequency: str
    balance: Balance
    lines: tuple[LineReport, ...]
    sent_on: date | None
    ageing: str | None


@dataclass(frozen=True)
class DenialGroup:
    carc: str
    description: str
    lines: int
    amount: Decimal


@dataclass(frozen=True)
class UnmatchedAnswer:
    trace_number: str
    patient_control_number: str
    code: str | None
    paid: Decimal
    segment: int


@dataclass
class Reconciliation:
    claims: list[ClaimReport]
    denials: list[DenialGroup]
    ageing: dict[str, int]
    unmatched: list[UnmatchedAnswer]
    provider_adjustments: Decimal

    def count(self, status: Status) -> int:
        return sum(1 for claim in self.claims if claim.balance.status is status)


def _as_adjustment(row: models.RemitAdjustment, sign: Decimal = Decimal(1)) -> Adjustment:
    return Adjustment(row.group_code, row.reason_code, Decimal(row.amount) * sign)


def reconcile(
    engine: Engine,
    period: Period | None,
    today: date,
    codes: CodeTables | None = None,
) -> Reconciliation:
    """Per claim and line: billed, paid, adjusted, patient responsibility, balance and status;
    denials by CARC; ageing of claims not answered; answers we could not match."""
    tables = codes or default_codes()
    with unit_of_work(engine) as session:
        query = select(models.Claim).where(models.Claim.frequency != "8").order_by(models.Claim.id)
        if period is not None:
            query = query.where(models.Claim.period == str(period))
        claims = list(session.scalars(query))
        answers = defaultdict(list)
        for answer in session.scalars(
            select(models.RemitClaim)
            .where(models.RemitClaim.claim_id.in_([c.id for c in claims]))
            .order_by(models.RemitClaim.id)
        ):
            answers[answer.claim_id].append(answer)
        adjustments = defaultdict(list)
        line_answers = defaultdict(list)
        answer_ids = [a.id for items in answers.values() for a in items]
        for adjustment in session.scalars(
            select(models.RemitAdjustment).where(
                models.RemitAdjustment.remit_claim_id.in_(answer_ids)
            )
        ):
            adjustments[(adjustment.remit_claim_id, adjustment.remit_line_id)].append(adjustment)
        for remit_line in session.scalars(
            select(models.RemitLine)
            .where(models.RemitLine.remit_claim_id.in_(answer_ids))
            .order_by(models.RemitLine.id)
        ):
            line_answers[remit_line.claim_line_id].append(remit_line)
        reversal_of = {a.id: a.status_code == "22" for items in answers.values() for a in items}
        sent = dict(
            (claim_id, moment)
            for claim_id, moment in session.execute(
                select(models.ClaimExport.claim_id, models.ClaimExport.exported_at).order_by(
                    models.ClaimExport.exported_at.desc()
                )
            )
        )
        reports: list[ClaimReport] = []
        denial_lines: dict[str, list[Decimal]] = defaultdict(list)
        for claim in claims:
            mine = answers.get(claim.id, [])
            if claim.status != "active" and not mine:
                continue
            line_reports = []
            answered_lines = False
            for line in session.scalars(
                select(models.ClaimLineRecord)
                .where(models.ClaimLineRecord.claim_id == claim.id)
                .order_by(models.ClaimLineRecord.line_number)
            ):
                postings = [
                    Posting(
                        paid=Decimal(r.paid),
                        adjustments=tuple(
                            _as_adjustment(a) for a in adjustments[(r.remit_claim_id, r.id)]
                        ),
                        reversal=reversal_of[r.remit_claim_id],
                    )
                    for r in line_answers.get(line.id, [])
                ]
                answered_lines = answered_lines or bool(postings)
                result = balance(Decimal(line.charge), postings)
                if result.status is Status.DENIED:
                    for posting in postings:
                        for a in posting.adjustments:
                            denial_lines[a.reason].append(a.amount)
                line_reports.append(
                    LineReport(
                        line.line_number, line.code, tuple(line.modifiers.split()),
                        line.first_date, line.last_date, result,
                        any(r.match == Match.INFERRED.value for r in line_answers.get(line.id, [])),
                    )
                )  # fmt: skip
            claim_postings = [
                Posting(
                    paid=Decimal(a.paid),
                    adjustments=tuple(
                        _as_adjustment(adj)
                        for (claim_answer, _line), items in adjustments.items()
                        if claim_answer == a.id
                        for adj in items
                    ),
                    reversal=a.status_code == "22",
                )
                for a in mine
            ]
            result = balance(Decimal(claim.total_charge), claim_postings)
            if result.status is Status.DENIED and not answered_lines:
                for posting in claim_postings:
                    for a in posting.adjustments:
                        denial_lines[a.reason].append(a.amount)
            sent_at = sent.get(claim.id) or claim.created_at
            sent_on = _aware(sent_at).date()
            reports.append(
                ClaimReport(
                    claim.patient_control_number, claim.member_id, claim.period,
                    claim.frequency, result, tuple(line_reports), sent_on,
                    ageing_bucket(sent_on, today) if result.status is Status.NO_ANSWER else None,
                )
            )  # fmt: skip
        unmatched = _unmatched(session)
        plb = sum(
            (Decimal(r.amount) for r in session.scalars(select(models.ProviderAdjustmentRecord))),
            ZERO,
        )
    ageing = {bucket: 0 for bucket in AGEING_BUCKETS}
    for report in reports:
        if report.ageing:
            ageing[report.ageing] += 1
    denials = sorted(
        (
            DenialGroup(code, tables.describe_carc(code), len(amounts), sum(amounts, ZERO))
            for code, amounts in denial_lines.items()
        ),
        key=lambda group: (-group.amount, group.carc),
    )
    return Reconciliation(reports, denials, ageing, unmatched, plb)


def _unmatched(session: Session) -> list[UnmatchedAnswer]:
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


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_json(reconciliation: Reconciliation) -> str:
    return json.dumps(
        {
            "claims": [
                {"patient_control_number": c.patient_control_number,
                 "status": c.balance.status.value, "billed": f"{c.balance.billed:.2f}",
                 "paid": f"{c.balance.paid:.2f}", "balance": f"{c.balance.balance:.2f}"}
                for c in reconciliation.claims
            ],
            "ageing": reconciliation.ageing,
        },
        indent=2,
    )  # fmt: skip
