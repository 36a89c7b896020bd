"""What an 835 says, as plain values, and the pure rules on it: matching service lines to our
claim lines, and a claim's or line's status and balance."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal("0.00")
REVERSAL = "22"
DENIED = "4"
PATIENT_RESPONSIBILITY = "PR"


@dataclass(frozen=True)
class Adjustment:
    """One CAS reason: group code (CO, PR, OA, PI, CR), CARC, amount (positive reduces pay)."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True)
class ServicePayment:
    """SVC and what follows it. ``code``/``modifiers`` are what was billed: SVC06 when the payer
    changed the procedure, else SVC01."""

    code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    paid: Decimal
    units: int | None
    first_date: date | None
    last_date: date | None
    adjustments: tuple[Adjustment, ...]
    remarks: tuple[str, ...]
    segment: int


@dataclass(frozen=True)
class ClaimPayment:
    patient_control_number: str
    status: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    payer_claim_control_number: str | None
    adjustments: tuple[Adjustment, ...]
    remarks: tuple[str, ...]
    lines: tuple[ServicePayment, ...]
    segment: int

    @property
    def reversal(self) -> bool:
        return self.status == REVERSAL


@dataclass(frozen=True)
class ProviderAdjustment:
    """PLB: a provider-level adjustment; a positive amount reduces the payment."""

    provider_id: str
    fiscal_date: date
    reason: str
    reference: str | None
    amount: Decimal


@dataclass(frozen=True)
class Payment:
    """One 835 transaction's payment: its trace (TRN02, TRN03), payer, amount and date."""

    trace_number: str
    payer_id: str
    payer_name: str
    payment_amount: Decimal
    payment_method: str
    payment_date: date
    # Other ids the payer gives itself: N1*PR N104, REF*2U (TRN03 is ``payer_id``).
    payer_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Remittance:
    payment: Payment
    claims: tuple[ClaimPayment, ...]
    provider_adjustments: tuple[ProviderAdjustment, ...]


# Matching ---------------------------------------------------------------------------------


class Match(StrEnum):
    EXACT = "exact"  # code + every modifier + dates
    INFERRED = "inferred"  # modifiers dropped or changed: code + dates + units
    UNMATCHED = "unmatched"


@dataclass(frozen=True)
class OurLine:
    number: int
    code: str
    modifiers: tuple[str, ...]
    units: int
    first_date: date
    last_date: date


def _same_dates(svc: ServicePayment, line: OurLine) -> bool:
    first = svc.first_date
    last = svc.last_date or svc.first_date
    if first is None:
        return True  # no line date: the claim's dates apply
    return first == line.first_date and last == line.last_date


def match_lines(
    ours: Sequence[OurLine], theirs: Sequence[ServicePayment]
) -> list[tuple[ServicePayment, OurLine | None, Match]]:
    """Each SVC to at most one of our lines: first by code, all modifiers and dates; what is
    left by code, dates and units (a payer that drops modifiers), marked inferred."""
    free = list(ours)
    result: dict[int, tuple[OurLine | None, Match]] = {}
    for index, svc in enumerate(theirs):
        for line in free:
            if (
                svc.code == line.code
                and sorted(svc.modifiers) == sorted(line.modifiers)
                and _same_dates(svc, line)
            ):
                result[index] = (line, Match.EXACT)
                free.remove(line)
                break
    for index, svc in enumerate(theirs):
        if index in result:
            continue
        for line in free:
            if (
                svc.code == line.code
                and _same_dates(svc, line)
                and (svc.units is None or abs(svc.units) == line.units)
            ):
                result[index] = (line, Match.INFERRED)
                free.remove(line)
                break
        else:
            result[index] = (None, Match.UNMATCHED)
    return [(svc, *result[index]) for index, svc in enumerate(theirs)]


# Status and balance -----------------------------------------------------------------------


class Status(StrEnum):
    PAID = "paid"
    PARTIAL = "partial"
    DENIED = "denied"
    REVERSED = "reversed"
    NO_ANSWER = "no answer yet"


@dataclass(frozen=True)
class Posting:
    """One answer about a claim or a line, from one 835 (a reversal carries negative amounts)."""

    paid: Decimal
    adjustments: tuple[Adjustment, ...]
    reversal: bool
    denied: bool = False


@dataclass(frozen=True)
class Balance:
    billed: Decimal
    paid: Decimal
    adjusted: Decimal
    patient_responsibility: Decimal
    balance: Decimal
    status: Status


def balance(billed: Decimal, postings: Iterable[Posting]) -> Balance:
    """Sum every posting, reversals included (they cancel what they reverse). Status: no
    posting → no answer yet; the last posting a reversal with nothing left paid → reversed;
    nothing paid → denied; less than billed → partial; else paid."""
    items = list(postings)
    paid = sum((p.paid for p in items), ZERO)
    adjustments = [a for p in items for a in p.adjustments]
    patient = sum((a.amount for a in adjustments if a.group == PATIENT_RESPONSIBILITY), ZERO)
    adjusted = sum((a.amount for a in adjustments if a.group != PATIENT_RESPONSIBILITY), ZERO)
    if not items:
        status = Status.NO_ANSWER
    elif items[-1].reversal and paid == ZERO:
        status = Status.REVERSED
    elif paid <= ZERO:
        status = Status.DENIED
    elif paid < billed:
        status = Status.PARTIAL
    else:
        status = Status.PAID
    return Balance(billed, paid, adjusted, patient, billed - paid - adjusted - patient, status)


AGEING_BUCKETS = ("0-30", "31-60", "61-90", "90+")


def ageing_bucket(sent: date, today: date) -> str:
    days = (today - sent).days
    if days <= 30:
        return AGEING_BUCKETS[0]
    if days <= 60:
        return AGEING_BUCKETS[1]
    if days <= 90:
        return AGEING_BUCKETS[2]
    return AGEING_BUCKETS[3]
