"""Importing an 835 into the store: each payment posted against our claims and lines.

One service for every door (``ecmbill remit import``, the web upload, the demo). The file is
read a segment at a time and its claims are posted in batches inside one database
transaction: a refusal found anywhere in the file, even in its last segment, rolls back all
of it, and memory stays flat however large the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ecmbill.claims.settings import PREFIX, plan_payer_values
from ecmbill.remit.levels import Fault
from ecmbill.remit.model import ZERO, ClaimPayment, Match, OurLine, Payment, match_lines
from ecmbill.remit.reader import (
    Findings,
    Header,
    Payee,
    Problem,
    RemitFileError,
    Trailer,
    read_events,
)
from ecmbill.store import audit
from ecmbill.store import remittances as stored
from ecmbill.store.db import Engine, Session, serialise, unit_of_work
from ecmbill.store.settings import read_settings

# Claims posted per batch: a few statements each, whatever the size of the file.
BATCH = 1000


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
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportOutcome:
    file: Path
    posted: list[Posted] = field(default_factory=list)
    already_imported: list[str] = field(default_factory=list)
    # Warnings of transactions imported before (nothing of them was posted again).
    warnings: list[str] = field(default_factory=list)


def our_payee(session: Session, accepted: Sequence[str]) -> Payee:
    """Our billing NPI and TIN from the claims settings, and the payee ids the biller
    accepted (``--accept-payee``)."""
    found = read_settings(session, (f"{PREFIX}billing_npi", f"{PREFIX}billing_ein"))
    tin = found.get(f"{PREFIX}billing_ein")
    return Payee(
        npi=found.get(f"{PREFIX}billing_npi"),
        tin=tin.replace("-", "") if tin else None,
        accepted=tuple(value.strip().replace("-", "") for value in accepted if value.strip()),
    )


def payer_plans(session: Session, payment: Payment) -> frozenset[str] | None:
    """The plans whose payer sent this payment: those whose payer is named by an id the 835
    gives (TRN03, N1*PR N104, REF*2U against each plan's ``remit_payer_ids``, else its
    ``payer_id``), else those whose payer name is the 835's N1*PR name. None when the office
    bills one plan: every claim is that payer's, as before plans existed. Empty when no plan's
    payer sent it: the 835 then pays none of our claims."""
    plans = plan_payer_values(session)
    if len(plans) <= 1:
        return None
    said = {ident.strip().upper() for ident in (payment.payer_id, *payment.payer_ids)} - {""}
    by_id = frozenset(plan for plan, values in plans.items() if said & _payer_ids(values))
    if by_id:
        return by_id
    name = " ".join(payment.payer_name.split()).casefold()
    return frozenset(
        plan
        for plan, values in plans.items()
        if name and " ".join((values.get("payer_name") or "").split()).casefold() == name
    )


def _payer_ids(values: dict[str, str]) -> set[str]:
    named = values.get("remit_payer_ids") or values.get("payer_id") or ""
    return {part.strip().upper() for part in named.split(",")} - {""}


def import_835(
    engine: Engine, path: Path, *, actor: str, accept_payee: Sequence[str] = ()
) -> ImportOutcome:
    """Post every transaction of the file, or none. A transaction whose trace number (TRN02,
    per payer TRN03) was posted before is skipped and reported. A file with any fault of the
    refuse level (``ecmbill.remit.levels``) raises ``RemitFileError`` and nothing is posted;
    faults of the warn level are posted and kept with each remittance."""
    digest = _sha256(path)
    outcome = ImportOutcome(file=path)
    findings = Findings()
    with unit_of_work(engine) as session:
        # The same new 835 uploaded twice at once: the second waits here for the first to
        # commit, then finds its trace numbers posted (instead of a duplicate-key error).
        serialise(session, "ecmbill-remit-post")
        poster = _Poster(session, path.name, digest, actor, audit.now(), outcome)
        for event in read_events(path, findings, our_payee(session, accept_payee)):
            if findings.refused:
                poster.stop()
            elif isinstance(event, Header):
                poster.start(event)
            elif isinstance(event, ClaimPayment):
                poster.claim(event)
            else:
                poster.end(event, findings)
        if findings.refused:
            raise findings.refusal()
        if not outcome.posted and not outcome.already_imported:
            raise RemitFileError(["the file holds no 835 transaction"])
        poster.file_warnings(findings)
    return outcome


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class _Poster:
    def __init__(
        self,
        session: Session,
        file_name: str,
        digest: str,
        actor: str,
        now: datetime,
        outcome: ImportOutcome,
    ) -> None:
        self.session = session
        self.file_name = file_name
        self.digest = digest
        self.actor = actor
        self.now = now
        self.outcome = outcome
        self.remittance_id: int | None = None
        self.posted: Posted | None = None
        self.waiting: list[ClaimPayment] = []
        self.ids: list[int] = []
        self.warned: set[str] = set()
        # The plans whose claims this transaction may pay (None: every claim, one plan).
        self.plans: frozenset[str] | None = None

    def stop(self) -> None:
        """A refusal: nothing more is written; the transaction rolls back at the end."""
        self.remittance_id, self.posted, self.waiting = None, None, []

    def start(self, header: Header) -> None:
        payment = header.payment
        if stored.already_posted(self.session, payment.trace_number, payment.payer_id):
            self.outcome.already_imported.append(payment.trace_number)
            self.remittance_id, self.posted = None, None
            return
        self.remittance_id = stored.add_remittance(
            self.session,
            trace_number=payment.trace_number, payer_id=payment.payer_id,
            payer_name=payment.payer_name, payment_amount=payment.payment_amount,
            payment_method=payment.payment_method, payment_date=payment.payment_date,
            file_name=self.file_name, sha256=self.digest, imported_at=self.now, actor=self.actor,
        )  # fmt: skip
        self.ids.append(self.remittance_id)
        self.posted = Posted(payment.trace_number, payment.payment_amount)
        self.outcome.posted.append(self.posted)
        self.plans = payer_plans(self.session, payment)
        if self.plans is not None and not self.plans:
            message = (
                f"TRN {payment.trace_number}: the payer {payment.payer_name or '(no name)'} "
                f"(TRN03 {payment.payer_id or '-'}"
                f"{''.join(f', {ident}' for ident in payment.payer_ids)}) is the payer of no "
                "plan, so none of its claims was matched: set the plan's payer_id, "
                "remit_payer_ids or payer_name and import the file again"
            )
            stored.add_warnings(
                self.session, self.remittance_id, [(Fault.UNKNOWN_PAYER.value, message)]
            )
            self.posted.warnings.append(message)

    def claim(self, payment: ClaimPayment) -> None:
        if self.posted is None:
            return
        self.waiting.append(payment)
        if len(self.waiting) >= BATCH:
            self.flush()

    def end(self, trailer: Trailer, findings: Findings) -> None:
        warnings = [p for p in findings.warnings if p.transaction is trailer.transaction]
        if self.posted is None or self.remittance_id is None:
            self.outcome.warnings.extend(str(p) for p in warnings)
            return
        self.flush()
        for plb in trailer.provider_adjustments:
            stored.add_provider_adjustment(
                self.session, remittance_id=self.remittance_id, provider_id=plb.provider_id,
                fiscal_date=plb.fiscal_date, reason_code=plb.reason, reference=plb.reference,
                amount=plb.amount,
            )  # fmt: skip
            self.posted.provider_adjustments += plb.amount
        self._warn(self.remittance_id, self.posted, warnings)
        audit.record_change(
            self.session, actor=self.actor, at=self.now, action="create", entity="remittance",
            key=self.posted.trace_number, before=None,
            after={"payment": self.posted.payment_amount, "claims": self.posted.claims,
                   "file": self.file_name, "warnings": len(self.posted.warnings)},
        )  # fmt: skip
        self.remittance_id, self.posted = None, None

    def file_warnings(self, findings: Findings) -> None:
        """Warnings of the file as a whole (no envelope, lower-case ids) go with every
        remittance it posted."""
        general = [p for p in findings.warnings if p.transaction is None]
        for remittance_id, posted in zip(self.ids, self.outcome.posted, strict=True):
            self._warn(remittance_id, posted, general)
        if not self.ids:
            self.outcome.warnings.extend(str(p) for p in general)

    def _warn(self, remittance_id: int, posted: Posted, problems: list[Problem]) -> None:
        stored.add_warnings(
            self.session, remittance_id, ((p.fault.value, str(p)) for p in problems)
        )
        posted.warnings.extend(str(p) for p in problems)

    def flush(self) -> None:
        payments, self.waiting = self.waiting, []
        posted, remittance_id = self.posted, self.remittance_id
        if not payments or posted is None or remittance_id is None:
            return
        ours = stored.claims_on_file(
            self.session, (p.patient_control_number for p in payments), self.plans
        )
        numbers: dict[int, str] = {}
        trail: list[dict[str, Any]] = []
        answers: list[dict[str, object]] = []
        for payment in payments:
            claim = ours.get(payment.patient_control_number)
            posted.claims += 1
            posted.reversals += payment.reversal
            if claim is None:
                posted.unmatched_claims.append(payment.patient_control_number)
            elif (
                payment.payer_claim_control_number
                and not payment.reversal
                and numbers.get(claim.id, claim.payer_claim_control_number)
                != payment.payer_claim_control_number
            ):
                trail.append(
                    audit.audit_row(
                        actor=self.actor, at=self.now, action="update", entity="claim",
                        key=claim.patient_control_number,
                        before={"payer_claim_control_number":
                                numbers.get(claim.id, claim.payer_claim_control_number)},
                        after={"payer_claim_control_number": payment.payer_claim_control_number},
                    )
                )  # fmt: skip
                numbers[claim.id] = payment.payer_claim_control_number
            answers.append(
                {
                    "remittance_id": remittance_id, "claim_id": claim.id if claim else None,
                    "patient_control_number": payment.patient_control_number,
                    "status_code": payment.status, "charge": payment.charge,
                    "paid": payment.paid, "patient_responsibility": payment.patient_responsibility,
                    "payer_claim_control_number": payment.payer_claim_control_number,
                    "remarks": " ".join(payment.remarks)[:200], "segment": payment.segment,
                }
            )  # fmt: skip
        answer_ids = stored.add_claim_answers(self.session, answers)
        stored.set_payer_claim_numbers(self.session, numbers)
        adjustments: list[dict[str, object]] = []
        lines: list[dict[str, object]] = []
        line_adjustments: list[tuple[int, ClaimPayment, int]] = []
        for answer_id, payment in zip(answer_ids, payments, strict=True):
            adjustments += _adjustment_rows(answer_id, None, payment.adjustments)
            claim = ours.get(payment.patient_control_number)
            billed = [
                OurLine(line.number, line.code, line.modifiers, line.units, line.first_date,
                        line.last_date)
                for line in (claim.lines if claim else ())
            ]  # fmt: skip
            line_ids = {line.number: line.id for line in (claim.lines if claim else ())}
            for index, (svc, our_line, how) in enumerate(match_lines(billed, payment.lines)):
                lines.append(
                    {
                        "remit_claim_id": answer_id,
                        "claim_line_id": line_ids[our_line.number] if our_line else None,
                        "match": how.value, "code": svc.code[:48],
                        "modifiers": " ".join(svc.modifiers)[:11], "charge": svc.charge,
                        "paid": svc.paid, "units": svc.units, "first_date": svc.first_date,
                        "last_date": svc.last_date, "remarks": " ".join(svc.remarks)[:200],
                        "segment": svc.segment,
                    }
                )  # fmt: skip
                line_adjustments.append((answer_id, payment, index))
                if how is Match.EXACT:
                    posted.exact_lines += 1
                elif how is Match.INFERRED:
                    posted.inferred_lines += 1
                else:
                    posted.unmatched_lines.append(
                        UnmatchedLine(payment.patient_control_number, svc.code, svc.modifiers,
                                      svc.segment)
                    )  # fmt: skip
        line_ids_posted = stored.add_line_answers(self.session, lines)
        for line_answer_id, (answer_id, payment, index) in zip(
            line_ids_posted, line_adjustments, strict=True
        ):
            adjustments += _adjustment_rows(
                answer_id, line_answer_id, payment.lines[index].adjustments
            )
        stored.add_adjustment_rows(self.session, adjustments)
        audit.record(self.session, trail)


def _adjustment_rows(
    answer_id: int, line_answer_id: int | None, adjustments: Sequence[Any]
) -> list[dict[str, object]]:
    return [
        {
            "remit_claim_id": answer_id, "remit_line_id": line_answer_id,
            "group_code": a.group[:2], "reason_code": a.reason[:5], "amount": a.amount,
            "quantity": a.quantity,
        }
        for a in adjustments
    ]  # fmt: skip


def warned_remittances(engine: Engine, most: int = 20) -> list[stored.RemittanceSummary]:
    """The latest remittances posted with warnings, each with its warnings."""
    with unit_of_work(engine) as session:
        return stored.remittances_with_warnings(session)[:most]
