"""Reconciling remittances with our claims: what was billed, paid, adjusted and still due."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ecmbill.domain.period import Period
from ecmbill.remit.codes import CodeTables, default_codes
from ecmbill.remit.model import (
    AGEING_BUCKETS,
    ZERO,
    Adjustment,
    Balance,
    Match,
    Posting,
    Status,
    ageing_bucket,
    balance,
)
from ecmbill.store import claims as stored_claims
from ecmbill.store import remittances as stored
from ecmbill.store.claims import StoredClaim
from ecmbill.store.db import Engine, Session, unit_of_work
from ecmbill.store.remittances import AnswerAdjustment, LineAnswer, UnmatchedAnswer


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


@dataclass
class Reconciliation:
    claims: list[ClaimReport]
    denials: list[DenialGroup]
    ageing: dict[str, int]
    unmatched: list[UnmatchedAnswer]
    provider_adjustments: Decimal

    def count(self, status: Status) -> int:
        return sum(1 for claim in self.claims if claim.balance.status is status)


def _as_adjustment(row: AnswerAdjustment) -> Adjustment:
    return Adjustment(row.group, row.reason, row.amount)


def reconcile(
    engine: Engine,
    period: Period | None,
    today: date,
    codes: CodeTables | None = None,
    *,
    plan: str | None = None,
) -> Reconciliation:
    """Per claim and line: billed, paid, adjusted, patient responsibility, balance and status;
    denials by CARC; ageing of claims not answered; answers we could not match. With
    ``plan``, that plan's claims only (the unmatched answers and provider adjustments are the
    whole office's)."""
    tables = codes or default_codes()
    with unit_of_work(engine) as session:
        claims = stored_claims.claims_of(
            session, str(period) if period is not None else None, voids=False, plan=plan
        )
        reports, denial_lines = _claim_reports(session, claims, today)
        unmatched = stored.unmatched(session)
        plb = stored.provider_adjustment_total(session)
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


def _claim_reports(
    session: Session, claims: list[StoredClaim], today: date
) -> tuple[list[ClaimReport], dict[str, list[Decimal]]]:
    """Each claim with its lines, as its answers left them, and the denied amounts by CARC."""
    lines_of = {
        claim.id: lines
        for claim, lines in stored.claims_with_lines(session, [c.id for c in claims])
    }
    answers = defaultdict(list)
    for answer in stored.claim_answers(session, [c.id for c in claims]):
        answers[answer.claim_id].append(answer)
    adjustments: dict[tuple[int, int | None], list[AnswerAdjustment]] = defaultdict(list)
    line_answers: dict[int | None, list[LineAnswer]] = defaultdict(list)
    answer_ids = [a.id for items in answers.values() for a in items]
    for adjustment in stored.answer_adjustments(session, answer_ids):
        adjustments[(adjustment.answer_id, adjustment.line_answer_id)].append(adjustment)
    for remit_line in stored.line_answers(session, answer_ids):
        line_answers[remit_line.claim_line_id].append(remit_line)
    # Every adjustment of an answer (its claim's and its lines'), in the order read: looked up
    # per answer, not by scanning every adjustment of the month for each claim (quadratic).
    of_answer: dict[int, list[AnswerAdjustment]] = defaultdict(list)
    for (answer_id, _line), items in adjustments.items():
        of_answer[answer_id].extend(items)
    reversal_of = {a.id: a.status_code == "22" for items in answers.values() for a in items}
    sent = stored.first_sent(session, [c.id for c in claims])
    # Ageing counts from the last answer: a 999 or 277CA that accepted the claim restarts it.
    acknowledged = stored.last_acknowledged_of(session, [c.id for c in claims])
    reports: list[ClaimReport] = []
    denial_lines: dict[str, list[Decimal]] = defaultdict(list)
    for claim in claims:
        mine = answers.get(claim.id, [])
        if claim.status != "active" and not mine:
            continue
        line_reports = []
        answered_lines = False
        for row in lines_of[claim.id]:
            line = row.line
            postings = [
                Posting(
                    paid=r.paid,
                    adjustments=tuple(_as_adjustment(a) for a in adjustments[(r.answer_id, r.id)]),
                    reversal=reversal_of[r.answer_id],
                )
                for r in line_answers.get(row.id, [])
            ]
            answered_lines = answered_lines or bool(postings)
            result = balance(line.charge, postings)
            if result.status is Status.DENIED:
                for posting in postings:
                    for a in posting.adjustments:
                        denial_lines[a.reason].append(a.amount)
            line_reports.append(
                LineReport(
                    row.number, line.code, line.modifiers, line.first_date, line.last_date,
                    result,
                    any(r.match == Match.INFERRED.value for r in line_answers.get(row.id, [])),
                )
            )  # fmt: skip
        claim_postings = [
            Posting(
                paid=a.paid,
                adjustments=tuple(_as_adjustment(adj) for adj in of_answer.get(a.id, [])),
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
        sent_on = max(stored_claims.aware(sent_at).date(), acknowledged.get(claim.id, date.min))
        reports.append(
            ClaimReport(
                claim.patient_control_number, claim.member_id, claim.period,
                claim.frequency, result, tuple(line_reports), sent_on,
                ageing_bucket(sent_on, today) if result.status is Status.NO_ANSWER else None,
            )
        )  # fmt: skip
    return reports, denial_lines


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


# The Remittances page: totals of every claim, one page of the list ------------------------

PAGE_SIZE = 50


@dataclass(frozen=True)
class MoneyTotals:
    """Billed, paid, adjusted (contractual and other), patient responsibility and outstanding
    of the claims of one period, or of every period (``period`` None)."""

    period: str | None
    claims: int
    billed: Decimal
    paid: Decimal
    contractual: Decimal
    other_adjusted: Decimal
    patient_responsibility: Decimal
    outstanding: Decimal

    @property
    def adjusted(self) -> Decimal:
        return self.contractual + self.other_adjusted


@dataclass(frozen=True)
class ReconciliationQuery:
    period: Period | None = None
    status: Status | None = None
    sort: str = "claim"
    descending: bool = False
    page: int = 1
    size: int = PAGE_SIZE
    # Only this plan's claims (None: every plan); denials by reason, answers not matched and
    # provider adjustments stay the whole office's.
    plan: str | None = None


@dataclass
class ReconciliationPage:
    query: ReconciliationQuery
    by_period: list[MoneyTotals]
    total: MoneyTotals
    counts: dict[Status, int]
    matching: int
    claims: list[ClaimReport]
    ageing: dict[str, int]
    denials: list[DenialGroup]
    unmatched: list[UnmatchedAnswer]
    unmatched_count: int
    provider_adjustments: Decimal

    @property
    def pages(self) -> int:
        return max(1, -(-self.matching // self.query.size))


def _totals(rows: list[stored.PeriodMoney], period: str | None) -> MoneyTotals:
    def total(name: str) -> Decimal:
        return sum((getattr(row, name) for row in rows), ZERO)

    return MoneyTotals(
        period, sum(row.claims for row in rows), total("billed"), total("paid"),
        total("contractual"), total("other_adjusted"), total("patient_responsibility"),
        total("outstanding"),
    )  # fmt: skip


def money(engine: Engine, period: Period | None = None) -> tuple[list[MoneyTotals], MoneyTotals]:
    """The money of every period (newest first) and in total, summed by the database."""
    wanted = str(period) if period is not None else None
    with unit_of_work(engine) as session:
        rows = stored.money_by_period(session, wanted)
    return [_totals([row], row.period) for row in rows], _totals(rows, wanted)


@dataclass(frozen=True)
class _Summary:
    """What the Remittances page shows above and beside its list: the same until the data
    changes (``store.remittances.remittance_fingerprint``)."""

    rows: list[stored.PeriodMoney]
    counts: dict[str, int]
    ageing: dict[str, int]
    denials: list[DenialGroup]
    unmatched: list[UnmatchedAnswer]
    unmatched_count: int
    provider_adjustments: Decimal


# A few summaries per process, by database, period, day and fingerprint: a second look at
# the page, or the next page of its list, does not sum every claim again.
_SUMMARIES: dict[tuple[object, ...], _Summary] = {}
# The claims of a filtered or sorted list in its order, kept the same way.
_ORDERS: dict[tuple[object, ...], list[int]] = {}
_KEPT = 16


def _summary(
    session: Session,
    where: str,
    wanted: str | None,
    today: date,
    tables: CodeTables,
    shown: int,
    plan: str | None = None,
) -> _Summary:
    key = (where, wanted, plan, today, shown, stored.remittance_fingerprint(session))
    found = _SUMMARIES.get(key)
    if found is not None:
        return found
    rows, counts = stored.money_and_counts(session, wanted, plan)
    waiting = stored.unanswered_claims(session, wanted, plan)
    sent = stored.first_sent(session, [claim_id for claim_id, _ in waiting])
    acknowledged = stored.last_acknowledged_of(session, [c for c, _ in waiting])
    ageing = {bucket: 0 for bucket in AGEING_BUCKETS}
    for claim_id, created_at in waiting:
        on = max(
            stored_claims.aware(sent.get(claim_id) or created_at).date(),
            acknowledged.get(claim_id, date.min),
        )
        ageing[ageing_bucket(on, today)] += 1
    found = _Summary(
        rows,
        counts,
        ageing,
        [
            DenialGroup(r.code, tables.describe_carc(r.code), r.items, r.amount)
            for r in stored.denials_by_reason(session)
        ],
        stored.unmatched(session, shown)[:shown],
        stored.unmatched_count(session),
        stored.provider_adjustment_total(session),
    )
    if len(_SUMMARIES) >= _KEPT:
        _SUMMARIES.pop(next(iter(_SUMMARIES)))
    _SUMMARIES[key] = found
    return found


def reconciliation_page(
    engine: Engine,
    query: ReconciliationQuery,
    today: date,
    codes: CodeTables | None = None,
    unmatched_shown: int = 50,
) -> ReconciliationPage:
    """What the Remittances page shows: money per period and in total, claims by status, one
    page of the claims (each with its lines), the ageing of claims not answered, denials by
    reason and answers we could not match. Sums, counts and paging are the database's, and
    the sums are kept until the data changes, so the page costs about the same for a hundred
    claims and a hundred thousand."""
    tables = codes or default_codes()
    wanted = str(query.period) if query.period is not None else None
    offset = (max(1, query.page) - 1) * query.size
    with unit_of_work(engine) as session:
        summary = _summary(
            session, str(engine.url), wanted, today, tables, unmatched_shown, query.plan
        )
        counts = summary.counts
        known = counts.get(query.status.value, 0) if query.status else sum(counts.values())
        if query.status is None and query.sort == "claim" and not query.descending:
            ids = stored.claim_page_by_number(session, wanted, offset, query.size, query.plan)
        else:
            status = query.status.value if query.status else None
            order_key = (str(engine.url), wanted, query.plan, status, query.sort,
                         query.descending, stored.remittance_fingerprint(session))  # fmt: skip
            ordered = _ORDERS.get(order_key)
            if ordered is None:
                ordered = stored.reconciliation_ids(
                    session, period=wanted, status=status, sort=query.sort,
                    descending=query.descending, plan=query.plan,
                )  # fmt: skip
                if len(_ORDERS) >= _KEPT:
                    _ORDERS.pop(next(iter(_ORDERS)))
                _ORDERS[order_key] = ordered
            ids = ordered[offset : offset + query.size]
        reports, _ = _claim_reports(
            session, [claim for claim, _ in stored.claims_with_lines(session, ids)], today
        )
    return ReconciliationPage(
        query=query,
        by_period=[_totals([row], row.period) for row in summary.rows],
        total=_totals(summary.rows, wanted),
        counts={status: counts.get(status.value, 0) for status in Status},
        matching=known,
        claims=reports,
        ageing=summary.ageing,
        denials=summary.denials,
        unmatched=summary.unmatched,
        unmatched_count=summary.unmatched_count,
        provider_adjustments=summary.provider_adjustments,
    )
