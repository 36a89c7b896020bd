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
from typing import Any, cast

from sqlalchemy import (
    String,
    Table,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from ecmbill.store import models
from ecmbill.store.claims import StoredClaim, StoredLine, as_stored_claim, as_stored_line

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


def claims_on_file(
    session: Session, numbers: Iterable[str], plans: Iterable[str] | None = None
) -> dict[str, ClaimOnFile]:
    """Our claims (of these plans, or of any) and their lines for these patient control
    numbers, in a few statements however many there are (plain rows: a large 835 looks up a
    hundred thousand claims). A claim of another plan is not found: one payer's 835 never
    pays another payer's claim."""
    wanted = sorted(set(numbers))
    claim, line = models.Claim.__table__.c, models.ClaimLineRecord.__table__.c
    found: dict[int, tuple[str, str | None]] = {}
    only = sorted(set(plans)) if plans is not None else None
    for start in range(0, len(wanted), CHUNK):
        query = select(
            claim.id, claim.patient_control_number, claim.payer_claim_control_number
        ).where(claim.patient_control_number.in_(wanted[start : start + CHUNK]))
        if only is not None:
            query = query.where(claim.plan.in_(only))
        rows = session.execute(query)
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


def unmatched(session: Session, most: int | None = None) -> list[UnmatchedAnswer]:
    """Answers for claims we do not know, then service-line answers of known claims that
    matched none of our lines (the first ``most`` of each, when given)."""
    traces = dict(
        session.execute(select(models.Remittance.id, models.Remittance.trace_number)).all()
    )
    found = [
        UnmatchedAnswer(
            traces[a.remittance_id], a.patient_control_number, None, Decimal(a.paid), a.segment
        )
        for a in session.scalars(
            select(models.RemitClaim)
            .where(models.RemitClaim.claim_id.is_(None))
            .order_by(models.RemitClaim.id)
            .limit(most)
        )
    ]
    rows = session.execute(
        select(models.RemitLine, models.RemitClaim)
        .join(models.RemitClaim, models.RemitLine.remit_claim_id == models.RemitClaim.id)
        .where(models.RemitLine.claim_line_id.is_(None), models.RemitClaim.claim_id.is_not(None))
        .order_by(models.RemitLine.id)
        .limit(most)
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


# Money and the reconciliation list, summed in SQL ---------------------------------------
# The Remittances page of a large caseload shows totals of every claim and one page of them:
# the sums, the statuses and the paging are done by the database, never claim by claim here.

CONTRACTUAL = "CO"
RECONCILIATION_SORTS = ("claim", "period", "member", "billed", "paid", "outstanding", "status")


@dataclass(frozen=True)
class ClaimMoney:
    """One claim's money as its remittances left it. ``status`` as the domain's ``balance``:
    no answer yet, reversed, denied, partial or paid."""

    claim_id: int
    patient_control_number: str
    member_id: str
    period: str
    frequency: str
    billed: Decimal
    paid: Decimal
    contractual: Decimal
    other_adjusted: Decimal
    patient_responsibility: Decimal
    outstanding: Decimal
    status: str


@dataclass(frozen=True)
class PeriodMoney:
    period: str
    claims: int
    billed: Decimal
    paid: Decimal
    contractual: Decimal
    other_adjusted: Decimal
    patient_responsibility: Decimal
    outstanding: Decimal


def _money(value: object) -> Decimal:
    return Decimal(str(value if value is not None else 0)).quantize(Decimal("0.01"))


def _claim_money(period: str | None, plan: str | None = None) -> Any:
    """Per claim (voids left out; a replaced claim only when the payer answered it, as the
    reconciliation always did; of one plan, or of all): billed, paid, adjustments by kind,
    outstanding and status."""
    claim = models.Claim.__table__.c
    answer = models.RemitClaim.__table__.c
    adjustment = models.RemitAdjustment.__table__.c
    answers = (
        select(answer.claim_id, func.sum(answer.paid).label("paid"),
               func.max(answer.id).label("last_id"))
        .where(answer.claim_id.is_not(None))
        .group_by(answer.claim_id)
        .subquery("answers")
    )  # fmt: skip

    def of_group(condition: Any) -> Any:
        return func.sum(case((condition, adjustment.amount), else_=0))

    adjustments = (
        select(
            answer.claim_id,
            of_group(adjustment.group_code == CONTRACTUAL).label("contractual"),
            of_group(adjustment.group_code == "PR").label("patient"),
            of_group(adjustment.group_code.not_in([CONTRACTUAL, "PR"])).label("other"),
        )
        .select_from(adjustment.id.table)
        .join(answer.id.table, adjustment.remit_claim_id == answer.id)
        .where(answer.claim_id.is_not(None))
        .group_by(answer.claim_id)
        .subquery("adjusted")
    )
    last = cast(Table, models.RemitClaim.__table__).alias("last_answer")
    paid = func.coalesce(answers.c.paid, 0)
    contractual = func.coalesce(adjustments.c.contractual, 0)
    patient = func.coalesce(adjustments.c.patient, 0)
    other = func.coalesce(adjustments.c.other, 0)
    status = case(
        (answers.c.last_id.is_(None), "no answer yet"),
        (and_(last.c.status_code == "22", paid == 0), "reversed"),
        (paid <= 0, "denied"),
        (paid < claim.total_charge, "partial"),
        else_="paid",
    )
    query = (
        select(
            claim.id.label("claim_id"), claim.patient_control_number, claim.member_id,
            claim.period, claim.frequency, claim.total_charge.label("billed"),
            paid.label("paid"), contractual.label("contractual"), other.label("other"),
            patient.label("patient"),
            (claim.total_charge - paid - contractual - other - patient).label("outstanding"),
            status.label("status"), claim.created_at,
        )
        .select_from(claim.id.table)
        .outerjoin(answers, answers.c.claim_id == claim.id)
        .outerjoin(adjustments, adjustments.c.claim_id == claim.id)
        .outerjoin(last, last.c.id == answers.c.last_id)
        .where(claim.frequency != "8",
               or_(claim.status == "active", answers.c.last_id.is_not(None)))
    )  # fmt: skip
    if period is not None:
        query = query.where(claim.period == period)
    if plan is not None:
        query = query.where(claim.plan == plan)
    return query.subquery("money")


def money_by_period(session: Session, period: str | None = None) -> list[PeriodMoney]:
    """Billed, paid, adjusted (contractual and other), patient responsibility and outstanding
    per period, newest period first."""
    money = _claim_money(period)
    rows = session.execute(
        select(money.c.period, func.count(), func.sum(money.c.billed), func.sum(money.c.paid),
               func.sum(money.c.contractual), func.sum(money.c.other),
               func.sum(money.c.patient), func.sum(money.c.outstanding))
        .group_by(money.c.period)
        .order_by(money.c.period.desc())
    )  # fmt: skip
    return [PeriodMoney(row[0], int(row[1]), *(_money(value) for value in row[2:])) for row in rows]


def money_and_counts(
    session: Session, period: str | None = None, plan: str | None = None
) -> tuple[list[PeriodMoney], dict[str, int]]:
    """``money_by_period`` and ``status_counts`` in one pass over the claims (of one plan, or
    of all)."""
    money = _claim_money(period, plan)
    rows = session.execute(
        select(money.c.period, money.c.status, func.count(), func.sum(money.c.billed),
               func.sum(money.c.paid), func.sum(money.c.contractual), func.sum(money.c.other),
               func.sum(money.c.patient), func.sum(money.c.outstanding))
        .group_by(money.c.period, money.c.status)
    ).all()  # fmt: skip
    counts: dict[str, int] = {}
    periods: dict[str, list[Decimal]] = {}
    claims: dict[str, int] = {}
    for row in rows:
        counts[str(row[1])] = counts.get(str(row[1]), 0) + int(row[2])
        claims[row[0]] = claims.get(row[0], 0) + int(row[2])
        sums = periods.setdefault(row[0], [ZERO] * 6)
        for index, value in enumerate(row[3:]):
            sums[index] += _money(value)
    return [
        PeriodMoney(period_of, claims[period_of], *periods[period_of])
        for period_of in sorted(periods, reverse=True)
    ], counts


def status_counts(session: Session, period: str | None = None) -> dict[str, int]:
    money = _claim_money(period)
    return {
        str(status): int(count)
        for status, count in session.execute(
            select(money.c.status, func.count()).group_by(money.c.status)
        )
    }


def reconciliation_rows(
    session: Session,
    *,
    period: str | None,
    status: str | None,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
    matching: int | None = None,
    plan: str | None = None,
) -> tuple[int, list[ClaimMoney]]:
    """How many claims match (counted unless the caller knows: ``matching``), and one page
    of them, sorted (then by claim number)."""
    money = _claim_money(period, plan)
    where = [money.c.status == status] if status else []
    total = (
        matching
        if matching is not None
        else session.scalar(select(func.count()).select_from(money).where(*where)) or 0
    )
    column = {
        "claim": money.c.claim_id, "period": money.c.period, "member": money.c.member_id,
        "billed": money.c.billed, "paid": money.c.paid, "outstanding": money.c.outstanding,
        "status": money.c.status,
    }[sort]  # fmt: skip
    order = [column.desc() if descending else column.asc(), money.c.claim_id]
    rows = session.execute(
        select(money).where(*where).order_by(*order).offset(offset).limit(limit)
    ).mappings()
    return int(total), [
        ClaimMoney(
            row["claim_id"], row["patient_control_number"], row["member_id"], row["period"],
            row["frequency"], _money(row["billed"]), _money(row["paid"]),
            _money(row["contractual"]), _money(row["other"]), _money(row["patient"]),
            _money(row["outstanding"]), str(row["status"]),
        )
        for row in rows
    ]  # fmt: skip


def unanswered_claims(
    session: Session, period: str | None, plan: str | None = None
) -> list[tuple[int, datetime]]:
    """(claim id, created at) of the claims the payer has not answered: their ageing."""
    money = _claim_money(period, plan)
    return [
        (row[0], row[1])
        for row in session.execute(
            select(money.c.claim_id, money.c.created_at).where(money.c.status == "no answer yet")
        )
    ]


def first_sent(session: Session, claim_ids: Iterable[int]) -> dict[int, datetime]:
    """When each of these claims was first written to a file."""
    ids = sorted(set(claim_ids))
    export = models.ClaimExport.__table__.c
    found: dict[int, datetime] = {}
    for start in range(0, len(ids), CHUNK):
        for claim_id, moment in session.execute(
            select(export.claim_id, func.min(export.exported_at))
            .where(export.claim_id.in_(ids[start : start + CHUNK]))
            .group_by(export.claim_id)
        ):
            found[claim_id] = moment
    return found


def unmatched_count(session: Session) -> int:
    answer, line = models.RemitClaim.__table__.c, models.RemitLine.__table__.c
    claims = session.scalar(select(func.count()).where(answer.claim_id.is_(None))) or 0
    lines = session.scalar(
        select(func.count())
        .select_from(line.id.table)
        .join(answer.id.table, line.remit_claim_id == answer.id)
        .where(line.claim_line_id.is_(None), answer.claim_id.is_not(None))
    )  # fmt: skip
    return int(claims) + int(lines or 0)


# The denial work list ---------------------------------------------------------------------
# An item is a claim line the payer denied or paid in part, or a claim it denied or paid in
# part without answering its lines. Found in SQL from the posted answers each time, so a
# later 835 that pays the line takes it off the list; the biller's status is kept apart.

DENIAL_SORTS = ("age", "amount", "claim", "member", "status")


@dataclass(frozen=True)
class DenialItem:
    item_key: str
    claim_id: int
    claim_line_id: int | None
    patient_control_number: str
    member_id: str
    period: str
    line_number: int | None
    code: str | None
    modifiers: str | None
    billed: Decimal
    paid: Decimal
    amount: Decimal
    answered_on: date
    status: str
    note: str
    replacement_claim_id: int | None
    replacement: str | None


@dataclass(frozen=True)
class DenialReason:
    """A CAS reason (or a remark, ``group`` "RARC") of a denial item."""

    item_key: str
    group: str
    code: str
    amount: Decimal | None


@dataclass(frozen=True)
class ReasonTotal:
    code: str
    items: int
    amount: Decimal


@dataclass(frozen=True)
class StatusChange:
    status: str
    note: str
    replacement_claim_id: int | None
    at: datetime
    actor: str


def _denial_items(
    reason: str | None, lines: list[int] | None = None, claims: list[int] | None = None
) -> Any:
    """Every denial item with its claim, line, money, the date of the newest 835 about it and
    the biller's status (open when never worked)."""
    claim = models.Claim.__table__.c
    line = models.ClaimLineRecord.__table__.c
    answer = models.RemitClaim.__table__.c
    remit_line = models.RemitLine.__table__.c
    adjustment = models.RemitAdjustment.__table__.c
    remittance = models.Remittance.__table__.c
    last = cast(Table, models.RemitClaim.__table__).alias("last_answer")
    # Asked for a few items: only their answers are summed, not every answer of every 835.
    only_lines = [remit_line.claim_line_id.in_(lines)] if lines is not None else []
    only_claims = [answer.claim_id.in_(claims)] if claims is not None else []
    paid_of_lines = (
        select(remit_line.claim_line_id, func.sum(remit_line.paid).label("paid"),
               func.max(remit_line.remit_claim_id).label("last_id"))
        .where(remit_line.claim_line_id.is_not(None), *only_lines)
        .group_by(remit_line.claim_line_id)
        .subquery("line_paid")
    )  # fmt: skip
    line_items = (
        select(
            (literal("L") + sql_cast(line.id, String)).label("item_key"),
            claim.id.label("claim_id"), line.id.label("claim_line_id"),
            claim.patient_control_number, claim.member_id, claim.period,
            line.line_number.label("line_number"), line.code.label("code"),
            line.modifiers.label("modifiers"), line.charge.label("billed"),
            paid_of_lines.c.paid.label("paid"), remittance.payment_date.label("answered_on"),
        )
        .select_from(paid_of_lines)
        .join(line.id.table, line.id == paid_of_lines.c.claim_line_id)
        .join(claim.id.table, claim.id == line.claim_id)
        .join(last, last.c.id == paid_of_lines.c.last_id)
        .join(remittance.id.table, remittance.id == last.c.remittance_id)
        .where(paid_of_lines.c.paid < line.charge, last.c.status_code != "22",
               claim.frequency != "8")
    )  # fmt: skip
    lines_answered = select(remit_line.id).where(
        remit_line.remit_claim_id == answer.id, remit_line.claim_line_id.is_not(None)
    )
    paid_of_claims = (
        select(answer.claim_id, func.sum(answer.paid).label("paid"),
               func.max(answer.id).label("last_id"))
        .where(answer.claim_id.is_not(None), ~lines_answered.exists(), *only_claims)
        .group_by(answer.claim_id)
        .subquery("claim_paid")
    )  # fmt: skip
    claim_items = (
        select(
            (literal("C") + sql_cast(claim.id, String)).label("item_key"),
            claim.id.label("claim_id"), null().label("claim_line_id"),
            claim.patient_control_number, claim.member_id, claim.period,
            null().label("line_number"), null().label("code"), null().label("modifiers"),
            claim.total_charge.label("billed"), paid_of_claims.c.paid.label("paid"),
            remittance.payment_date.label("answered_on"),
        )
        .select_from(paid_of_claims)
        .join(claim.id.table, claim.id == paid_of_claims.c.claim_id)
        .join(last, last.c.id == paid_of_claims.c.last_id)
        .join(remittance.id.table, remittance.id == last.c.remittance_id)
        .where(paid_of_claims.c.paid < claim.total_charge, last.c.status_code != "22",
               claim.frequency != "8",
               # A claim whose lines were answered elsewhere is worked line by line.
               ~select(remit_line.id).join(answer.id.table, remit_line.remit_claim_id == answer.id)
               .where(answer.claim_id == claim.id, remit_line.claim_line_id.is_not(None))
               .exists())
    )  # fmt: skip
    if reason is not None:
        line_items = line_items.where(
            select(adjustment.id)
            .join(remit_line.id.table, adjustment.remit_line_id == remit_line.id)
            .where(remit_line.claim_line_id == line.id, adjustment.reason_code == reason)
            .exists()
        )
        claim_items = claim_items.where(
            select(adjustment.id)
            .join(answer.id.table, adjustment.remit_claim_id == answer.id)
            .where(answer.claim_id == claim.id, adjustment.reason_code == reason)
            .exists()
        )
    if lines is not None:
        line_items = line_items.where(line.id.in_(lines))
    if claims is not None:
        claim_items = claim_items.where(claim.id.in_(claims))
    return union_all(line_items, claim_items).subquery("items")


def _worked(
    reason: str | None, lines: list[int] | None = None, claims: list[int] | None = None
) -> tuple[Any, Any, Any]:
    items = _denial_items(reason, lines, claims)
    work = models.DenialWork.__table__.c
    replacement = cast(Table, models.Claim.__table__).alias("replacement")
    status = func.coalesce(work.status, "open")
    query = (
        select(items, status.label("status"), func.coalesce(work.note, "").label("note"),
               work.replacement_claim_id,
               replacement.c.patient_control_number.label("replacement"),
               (items.c.billed - items.c.paid).label("amount"))
        .select_from(items)
        .outerjoin(work.id.table, work.item_key == items.c.item_key)
        .outerjoin(replacement, replacement.c.id == work.replacement_claim_id)
    )  # fmt: skip
    return query.subquery("worked"), items, status


def denial_items(
    session: Session,
    *,
    reason: str | None = None,
    status: str | None = None,
    answered_before: date | None = None,
    answered_since: date | None = None,
    sort: str = "age",
    descending: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> tuple[int, Decimal, list[DenialItem]]:
    """How many items match, their amount, and one page of them. ``age`` sorts the oldest
    835 first; ``answered_before``/``answered_since`` bound the 835's date."""
    worked, _items, _status = _worked(reason)
    where = []
    if status:
        where.append(worked.c.status == status)
    if answered_before is not None:
        where.append(worked.c.answered_on <= answered_before)
    if answered_since is not None:
        where.append(worked.c.answered_on >= answered_since)
    count, amount = session.execute(
        select(func.count(), func.sum(worked.c.amount)).select_from(worked).where(*where)
    ).one()
    column = {
        "age": worked.c.answered_on, "amount": worked.c.amount, "claim": worked.c.claim_id,
        "member": worked.c.member_id, "status": worked.c.status,
    }[sort]  # fmt: skip
    # Oldest first is "age ascending" to a biller: the longest-waiting denial on top.
    order = [column.desc() if descending else column.asc(), worked.c.claim_id,
             worked.c.line_number]  # fmt: skip
    rows = session.execute(
        select(worked).where(*where).order_by(*order).offset(offset).limit(limit)
    ).mappings()
    return int(count), _money(amount), [_item(row) for row in rows]


def _item(row: Any) -> DenialItem:
    return DenialItem(
        row["item_key"], row["claim_id"], row["claim_line_id"], row["patient_control_number"],
        row["member_id"], row["period"], row["line_number"], row["code"], row["modifiers"],
        _money(row["billed"]), _money(row["paid"]), _money(row["amount"]),
        _as_date(row["answered_on"]), row["status"], row["note"], row["replacement_claim_id"],
        row["replacement"],
    )  # fmt: skip


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def denial_item(session: Session, item_key: str) -> DenialItem | None:
    worked, _items, _status = _worked(None)
    row = session.execute(select(worked).where(worked.c.item_key == item_key)).mappings().first()
    return _item(row) if row is not None else None


def denial_items_of_claims(session: Session, claim_ids: Iterable[int]) -> list[DenialItem]:
    worked, _items, _status = _worked(None)
    ids = sorted(set(claim_ids))
    if not ids:
        return []
    rows = session.execute(
        select(worked).where(worked.c.claim_id.in_(ids)).order_by(worked.c.item_key)
    ).mappings()
    return [_item(row) for row in rows]


def denial_reasons(session: Session, items: Iterable[DenialItem]) -> list[DenialReason]:
    """The CAS reasons and remark codes of these items, as the payer gave them."""
    wanted = list(items)
    answer, remit_line = models.RemitClaim.__table__.c, models.RemitLine.__table__.c
    adjustment = models.RemitAdjustment.__table__.c
    found: list[DenialReason] = []
    line_keys = {item.claim_line_id: item.item_key for item in wanted if item.claim_line_id}
    claim_keys = {item.claim_id: item.item_key for item in wanted if not item.claim_line_id}
    if line_keys:
        for line_id, group, code, amount in session.execute(
            select(remit_line.claim_line_id, adjustment.group_code, adjustment.reason_code,
                   func.sum(adjustment.amount))
            .select_from(adjustment.id.table)
            .join(remit_line.id.table, adjustment.remit_line_id == remit_line.id)
            .where(remit_line.claim_line_id.in_(list(line_keys)))
            .group_by(remit_line.claim_line_id, adjustment.group_code, adjustment.reason_code)
        ):  # fmt: skip
            found.append(DenialReason(line_keys[line_id], group, code, _money(amount)))
        for line_id, remarks in session.execute(
            select(remit_line.claim_line_id, remit_line.remarks).where(
                remit_line.claim_line_id.in_(list(line_keys))
            )
        ):
            found += [DenialReason(line_keys[line_id], "RARC", r, None) for r in remarks.split()]
    if claim_keys:
        for claim_id, group, code, amount in session.execute(
            select(answer.claim_id, adjustment.group_code, adjustment.reason_code,
                   func.sum(adjustment.amount))
            .select_from(adjustment.id.table)
            .join(answer.id.table, adjustment.remit_claim_id == answer.id)
            .where(answer.claim_id.in_(list(claim_keys)))
            .group_by(answer.claim_id, adjustment.group_code, adjustment.reason_code)
        ):  # fmt: skip
            found.append(DenialReason(claim_keys[claim_id], group, code, _money(amount)))
    if wanted:
        for claim_id, remarks in session.execute(
            select(answer.claim_id, answer.remarks).where(
                answer.claim_id.in_(list({item.claim_id for item in wanted}))
            )
        ):
            for key in [i.item_key for i in wanted if i.claim_id == claim_id]:
                found += [DenialReason(key, "RARC", r, None) for r in remarks.split()]
    unique: dict[tuple[str, str, str], DenialReason] = {}
    for reason in found:
        if reason.amount is None or reason.amount != 0:
            unique.setdefault((reason.item_key, reason.group, reason.code), reason)
    return list(unique.values())


def denials_by_reason(session: Session) -> list[ReasonTotal]:
    """Per CARC: how many denial items carry it and the amount it took (patient
    responsibility left out: the member owes it, the payer did not deny it). The items are
    found once and used as a set (an IN list the database indexes), never joined row by row."""
    items = _denial_items(None)
    answer, remit_line = models.RemitClaim.__table__.c, models.RemitLine.__table__.c
    adjustment = models.RemitAdjustment.__table__.c
    lines = select(items.c.claim_line_id).where(items.c.claim_line_id.is_not(None))
    claims = select(items.c.claim_id).where(items.c.claim_line_id.is_(None))
    by_line = (
        select(adjustment.reason_code, func.count(func.distinct(remit_line.claim_line_id)),
               func.sum(adjustment.amount))
        .select_from(adjustment.id.table)
        .join(remit_line.id.table, adjustment.remit_line_id == remit_line.id)
        .where(adjustment.group_code != "PR", remit_line.claim_line_id.in_(lines))
        .group_by(adjustment.reason_code)
    )  # fmt: skip
    by_claim = (
        select(adjustment.reason_code, func.count(func.distinct(answer.claim_id)),
               func.sum(adjustment.amount))
        .select_from(adjustment.id.table)
        .join(answer.id.table, adjustment.remit_claim_id == answer.id)
        .where(adjustment.group_code != "PR", answer.claim_id.in_(claims))
        .group_by(adjustment.reason_code)
    )  # fmt: skip
    totals: dict[str, tuple[int, Decimal]] = {}
    for query in (by_line, by_claim):
        for code, count, amount in session.execute(query):
            before = totals.get(code, (0, ZERO))
            totals[code] = (before[0] + int(count), before[1] + _money(amount))
    return sorted(
        (ReasonTotal(code, count, amount) for code, (count, amount) in totals.items()
         if amount != 0),
        key=lambda total: (-total.amount, total.code),
    )  # fmt: skip


def set_denial_work(
    session: Session,
    item: DenialItem,
    *,
    status: str,
    note: str,
    replacement_claim_id: int | None,
    at: datetime,
    actor: str,
) -> None:
    """The item's new status, and a row of its history."""
    row = session.scalar(
        select(models.DenialWork).where(models.DenialWork.item_key == item.item_key)
    )
    if row is None:
        row = models.DenialWork(
            item_key=item.item_key, claim_id=item.claim_id, claim_line_id=item.claim_line_id,
            status=status, note=note, replacement_claim_id=replacement_claim_id,
            updated_at=at, actor=actor,
        )  # fmt: skip
        session.add(row)
    else:
        row.status, row.note, row.updated_at, row.actor = status, note, at, actor
        row.replacement_claim_id = replacement_claim_id
    session.flush()
    session.add(
        models.DenialStatusChange(
            work_id=row.id, status=status, note=note,
            replacement_claim_id=replacement_claim_id, at=at, actor=actor,
        )
    )  # fmt: skip


def denial_history(session: Session, item_key: str) -> list[StatusChange]:
    change, work = models.DenialStatusChange, models.DenialWork
    return [
        StatusChange(row.status, row.note, row.replacement_claim_id, row.at, row.actor)
        for row in session.scalars(
            select(change)
            .join(work, work.id == change.work_id)
            .where(work.item_key == item_key)
            .order_by(change.id)
        )
    ]


def newer_claim_of(session: Session, claim_id: int) -> tuple[int, str] | None:
    """The newest claim of the same member and period made after this one (its replacement,
    or the new original sent after a denial), as (id, patient control number)."""
    claim = models.Claim.__table__.c
    mine = session.execute(
        select(claim.member_id, claim.period).where(claim.id == claim_id)
    ).one_or_none()
    if mine is None:
        return None
    row = session.execute(
        select(claim.id, claim.patient_control_number)
        .where(claim.member_id == mine[0], claim.period == mine[1], claim.id > claim_id,
               claim.frequency != "8")
        .order_by(claim.id.desc())
        .limit(1)
    ).one_or_none()  # fmt: skip
    return (row[0], row[1]) if row is not None else None


def claims_with_lines(
    session: Session, claim_ids: Iterable[int]
) -> list[tuple[StoredClaim, list[StoredLine]]]:
    """These claims, in the order given, each with its lines: two statements per few hundred
    claims instead of two per claim."""
    ids = list(dict.fromkeys(claim_ids))
    claims: dict[int, StoredClaim] = {}
    lines: dict[int, list[StoredLine]] = {claim_id: [] for claim_id in ids}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for row in session.scalars(select(models.Claim).where(models.Claim.id.in_(chunk))):
            claims[row.id] = as_stored_claim(row)
        for line in session.scalars(
            select(models.ClaimLineRecord)
            .where(models.ClaimLineRecord.claim_id.in_(chunk))
            .order_by(models.ClaimLineRecord.claim_id, models.ClaimLineRecord.line_number)
        ):
            lines[line.claim_id].append(as_stored_line(line))
    return [(claims[claim_id], lines[claim_id]) for claim_id in ids if claim_id in claims]


def last_acknowledged_of(session: Session, claim_ids: Iterable[int]) -> dict[int, date]:
    """The date of the newest 999 or 277CA answer about each of these claims (as
    ``store.acks.last_acknowledged``, for the claims asked about only)."""
    ids = sorted(set(claim_ids))
    latest: dict[int, date] = {}

    def keep(claim_id: int, on: date) -> None:
        if claim_id not in latest or latest[claim_id] < on:
            latest[claim_id] = on

    export, ack, interchange = models.ClaimExport, models.SetAck, models.AckInterchange
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for claim_id, on in session.execute(
            select(models.ClaimAck.claim_id, func.max(models.ClaimAck.effective_on))
            .where(models.ClaimAck.claim_id.in_(chunk))
            .group_by(models.ClaimAck.claim_id)
        ):
            if claim_id is not None:
                keep(claim_id, on)
        rows = session.execute(
            select(export.claim_id, interchange.created_on, ack.transaction_control_number,
                   export.transaction_control_number)
            .join(ack, ack.group_control_number == export.group_control_number)
            .join(interchange, ack.interchange_id == interchange.id)
            .where(export.format == "837p", export.claim_id.in_(chunk))
        )  # fmt: skip
        for claim_id, on, answered_set, sent_set in rows:
            if answered_set is None or answered_set == sent_set:
                keep(claim_id, on)
    return latest


def remittance_fingerprint(session: Session) -> tuple[object, ...]:
    """Changes whenever what the Remittances and Denials pages show can change: a claim made
    (a close marks the claims it replaces in the same step), an 835 posted, a file sent, a
    999/277CA posted, a denial worked. Each part is an index lookup, not a scan."""
    parts = (
        models.Claim.id, models.RemitClaim.id, models.ClaimExport.id, models.ClaimAck.id,
        models.SetAck.id, models.DenialStatusChange.id, models.RemittanceWarning.id,
    )  # fmt: skip
    newest = tuple(session.scalar(select(func.max(part))) for part in parts)
    # A reopened period deletes claims that may sit below the newest: their count tells.
    return (*newest, session.scalar(select(func.count()).select_from(models.Claim)))


def claim_page_by_number(
    session: Session, period: str | None, offset: int, limit: int, plan: str | None = None
) -> list[int]:
    """One page of the reconciled claims in claim-number order, without summing any money:
    the page the Remittances page opens on."""
    claim = models.Claim.__table__.c
    answer = models.RemitClaim.__table__.c
    answered = select(answer.id).where(answer.claim_id == claim.id).exists()
    query = select(claim.id).where(claim.frequency != "8", or_(claim.status == "active", answered))
    if period is not None:
        # Compared as an expression, not by its index: walking the claims in number order
        # and stopping after one page beats sorting every claim of the period by number.
        query = query.where(claim.period + "" == period)
    if plan is not None:
        query = query.where(claim.plan == plan)
    return list(session.scalars(query.order_by(claim.id).offset(offset).limit(limit)))


def denial_item_keys(
    session: Session,
    *,
    reason: str | None = None,
    status: str | None = None,
    answered_before: date | None = None,
    answered_since: date | None = None,
    sort: str = "age",
    descending: bool = False,
    plan: str | None = None,
) -> tuple[int, Decimal, list[str]]:
    """As ``denial_items``, every matching item's key in order (a page is then read by
    ``denial_items_by_keys``); with ``plan``, only items of that plan's claims."""
    worked, _items, _status = _worked(reason)
    where = []
    if plan is not None:
        where.append(
            worked.c.claim_id.in_(select(models.Claim.id).where(models.Claim.plan == plan))
        )
    if status:
        where.append(worked.c.status == status)
    if answered_before is not None:
        where.append(worked.c.answered_on <= answered_before)
    if answered_since is not None:
        where.append(worked.c.answered_on >= answered_since)
    column = {
        "age": worked.c.answered_on, "amount": worked.c.amount, "claim": worked.c.claim_id,
        "member": worked.c.member_id, "status": worked.c.status,
    }[sort]  # fmt: skip
    order = [column.desc() if descending else column.asc(), worked.c.claim_id,
             worked.c.line_number]  # fmt: skip
    rows = session.execute(
        select(worked.c.item_key, worked.c.amount).where(*where).order_by(*order)
    ).all()
    return len(rows), sum((_money(amount) for _, amount in rows), ZERO), [r[0] for r in rows]


def denial_items_by_keys(session: Session, keys: list[str]) -> list[DenialItem]:
    """These items, in the order of ``keys`` (those the payer has paid since left out)."""
    lines = [int(key[1:]) for key in keys if key.startswith("L")]
    claims = [int(key[1:]) for key in keys if key.startswith("C")]
    if not keys:
        return []
    worked, _items, _status = _worked(None, lines, claims)
    found = {row["item_key"]: _item(row) for row in session.execute(select(worked)).mappings()}
    return [found[key] for key in keys if key in found]


def reconciliation_ids(
    session: Session,
    *,
    period: str | None,
    status: str | None,
    sort: str,
    descending: bool,
    plan: str | None = None,
) -> list[int]:
    """Every matching claim's id, in the list's order (a page is then read by its ids)."""
    money = _claim_money(period, plan)
    where = [money.c.status == status] if status else []
    column = {
        "claim": money.c.claim_id, "period": money.c.period, "member": money.c.member_id,
        "billed": money.c.billed, "paid": money.c.paid, "outstanding": money.c.outstanding,
        "status": money.c.status,
    }[sort]  # fmt: skip
    order = [column.desc() if descending else column.asc(), money.c.claim_id]
    return list(session.scalars(select(money.c.claim_id).where(*where).order_by(*order)))
