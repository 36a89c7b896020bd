"""The reconciliation and the denial work list as files a biller keeps or sends on: CSV or
XLSX, written by the formula-safe writer (a member's name or a payer's remark that starts
with "=" stays text)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ecmbill.remit.denials import STATUS_WORDS, DenialQuery, WorkStatus, all_denials
from ecmbill.remit.reconcile import ReconciliationQuery
from ecmbill.store import remittances as stored
from ecmbill.store.db import Engine, unit_of_work
from ecmbill.store.files import write_table
from ecmbill.store.lookups import member_names

FREQUENCY_WORDS = {"1": "original", "7": "replacement", "8": "void"}
RECONCILIATION_HEADER = (
    "Claim", "Member ID", "Member", "Period", "Kind", "Status", "Billed", "Paid",
    "Contractual adjustment", "Other adjustment", "Patient responsibility", "Outstanding",
)  # fmt: skip
DENIAL_HEADER = (
    "Claim", "Line", "Code", "Member ID", "Member", "Period", "Billed", "Paid", "Amount",
    "835 date", "Days since the 835", "Reasons", "Status", "Note", "Corrected claim",
)  # fmt: skip


def export_reconciliation(engine: Engine, query: ReconciliationQuery, target: Path) -> Path:
    """Every claim the query's filters keep (not only one page), in its sort order."""
    with unit_of_work(engine) as session:
        _, rows = stored.reconciliation_rows(
            session, period=str(query.period) if query.period else None,
            status=query.status.value if query.status else None, sort=query.sort,
            descending=query.descending, offset=0, limit=10_000_000, plan=query.plan,
        )  # fmt: skip
    names = member_names(engine, {row.member_id for row in rows})
    return write_table(
        target,
        RECONCILIATION_HEADER,
        (
            (
                r.patient_control_number,
                r.member_id,
                names.get(r.member_id, ""),
                r.period,
                FREQUENCY_WORDS.get(r.frequency, r.frequency),
                r.status,
                r.billed,
                r.paid,
                r.contractual,
                r.other_adjusted,
                r.patient_responsibility,
                r.outstanding,
            )
            for r in rows
        ),
        sheet="Reconciliation",
    )


def export_denials(engine: Engine, query: DenialQuery, target: Path, today: date) -> Path:
    denials = all_denials(engine, query, today)
    names = member_names(engine, {d.item.member_id for d in denials})
    return write_table(
        target,
        DENIAL_HEADER,
        (
            (
                d.item.patient_control_number,
                d.item.line_number,
                " ".join(filter(None, (d.item.code, d.item.modifiers))),
                d.item.member_id,
                names.get(d.item.member_id, ""),
                d.item.period,
                d.item.billed,
                d.item.paid,
                d.item.amount,
                d.item.answered_on,
                d.age_days,
                "; ".join(r.label for r in d.reasons),
                STATUS_WORDS[WorkStatus(d.item.status)],
                d.item.note,
                d.item.replacement,
            )
            for d in denials
        ),
        sheet="Denials",
    )
