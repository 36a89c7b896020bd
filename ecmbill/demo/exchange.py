"""The demo month's exchange files: a fake Member Information File in (one per plan: each
plan sends its own members, a member who joined it this month from the day they joined), the
Outreach Tracker and Return Transmission files out. The provider identity is fictional and
says so."""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from ecmbill.contract import Contract
from ecmbill.contract.stored import current_plans
from ecmbill.demo.month import DemoFiles, fake_npi
from ecmbill.exchange.identity import set_provider_identity
from ecmbill.exchange.layouts import default_layouts
from ecmbill.exchange.otf import ExchangeFile, plan_file_name, write_otf
from ecmbill.exchange.rtf import write_rtf
from ecmbill.imports.batch import ImportResult
from ecmbill.imports.mif import import_mif
from ecmbill.members.lifecycle import assign_lead_care_managers
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import Engine, Session, unit_of_work
from ecmbill.store.files import write_table

POPULATIONS = (
    "Adults Experiencing Homelessness",
    "Adults At Risk for Avoidable Hospital or ED Utilization",
    "Adults with Serious Mental Health and/or SUD Needs",
    "Adults Living in the Community and At Risk for LTC Institutionalization",
    "Adults Transitioning from Incarceration",
)
CARE_MANAGERS = ("S001", "S002", "S003", "S004", "S005")


@dataclass(frozen=True)
class DemoExchange:
    # One Member Information File, Outreach Tracker File and Return Transmission File per
    # plan, in plan order (the first plan's files have the plain names).
    mifs: tuple[ImportResult, ...]
    otfs: tuple[ExchangeFile, ...]
    rtfs: tuple[ExchangeFile, ...]


def demo_exchange(
    engine: Engine,
    files: DemoFiles,
    contract: Contract,
    db: Path,
    *,
    seed: int = 2026,
    progress: Callable[[str, int, int], None] | None = None,
) -> DemoExchange:
    """``progress(step, done, total)`` is told which file is being made (a total of 0:
    unknown)."""
    tell = progress or (lambda _step, _done, _total: None)
    rng = random.Random(seed)
    month = files.period
    set_provider_identity(
        engine,
        {
            "provider_name": "Demo ECM Provider (fictional)",
            "provider_npi": fake_npi(rng),
            "provider_tin": "000000000",
            "provider_phone": "5550100000",
            "mcp_id": "DEMO-MCP",
            "mcp_name": "Demo Health Plan (fictional)",
        },
        "demo",
    )
    starts = _enrollment_starts(files.enrollments)
    layout = default_layouts().mif_columns
    with files.members.open(newline="", encoding="utf-8") as source:
        members = list(csv.DictReader(source))
    with unit_of_work(engine) as session:
        keys = [plan.key for plan in stored_plans.plans(session)]
        joined = _plan_at_month_end(session, [m["member_id"] for m in members], month.end)
    rows: dict[str, list[list[str]]] = {key: [] for key in keys}
    for member in members:
        start = starts.get(member["member_id"])
        assigned = min(start or month.start, month.start) - timedelta(days=rng.randint(7, 40))
        plan, since = joined.get(member["member_id"], (keys[0], None))
        if since is not None and since > month.start:
            assigned = since  # joined this plan during the month
        homeless = rng.random() < 0.15
        by_field = {
            "plan_id": "DEMO-MCP" if plan == keys[0] else f"DEMO-{plan.upper()}",
            "member_id": member["member_id"],
            "last_name": member["last_name"],
            "first_name": member["first_name"],
            "birth_date": member["birth_date"],
            "address": "" if homeless else f"{rng.randint(100, 9999)} Demo Street",
            "city": "El Centro",
            "state": "CA",
            "zip": "92243",
            "phone": f"555{rng.randint(0, 9_999_999):07d}",
            "homeless": "Y" if homeless else "N",
            "sex": member.get("sex", ""),
            "population_of_focus": POPULATIONS[0] if homeless else rng.choice(POPULATIONS[1:]),
            "assignment_date": assigned.isoformat(),
        }
        rows[plan].append([by_field[name] for name in layout])
    mifs = []
    for key, plan_rows in rows.items():
        name = "member-information-file" + ("" if len(keys) == 1 else f"-{key}")
        mif_path = write_table(
            files.members.with_name(f"{name}.csv"), list(layout.values()), plan_rows, kind="csv"
        )
        tell(f"importing plan {key}'s Member Information File", 0, 0)
        mifs.append(import_mif(engine, mif_path, actor="demo", today=date.today(), plan=key))
    tell("assigning lead care managers", 0, 0)
    assign_lead_care_managers(
        engine,
        [
            (member_id, rng.choice(CARE_MANAGERS), start)
            for member_id, start in sorted(starts.items())
            if start <= month.end
        ],
        "demo",
    )
    plans = current_plans(engine)
    otfs, rtfs = [], []
    for index, key in enumerate(rows):
        named = None if index == 0 else key
        tell(f"writing plan {key}'s Outreach Tracker File", 0, 0)
        otf_path = plan_file_name(db.with_name(f"{db.stem}-otf.xlsx"), named)
        otfs.append(write_otf(engine, month, otf_path, plan=key))
        tell(f"writing plan {key}'s Return Transmission File", 0, 0)
        rtf_path = plan_file_name(db.with_name(f"{db.stem}-rtf.xlsx"), named)
        terms = contract if index == 0 else plans[key]
        rtfs.append(write_rtf(engine, month, terms, rtf_path, plan=key))
    return DemoExchange(tuple(mifs), tuple(otfs), tuple(rtfs))


def _plan_at_month_end(
    session: Session, member_ids: list[str], end: date
) -> dict[str, tuple[str, date]]:
    """Each member's plan on the month's last day, and the day that plan's span began."""
    found: dict[str, tuple[str, date]] = {}
    for span in stored_plans.spans_of(session, member_ids):
        if span.start <= end and (span.end is None or span.end >= end):
            found[span.member_id] = (span.plan, span.start)
    return found


def _enrollment_starts(path: Path) -> dict[str, date]:
    with path.open(newline="", encoding="utf-8") as source:
        return {
            row["member_id"]: date.fromisoformat(row["start_date"])
            for row in csv.DictReader(source)
        }
