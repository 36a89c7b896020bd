"""A synthetic plan-scale month, for the equivalence tests and the benchmarks.

Built with numpy so that millions of entries take seconds. Every identifier is fake: member CINs
start with 9 and end with F, staff ids with S, names with "Synthetic". The shape follows what a
plan sees from many providers: thousands of members, many staff of both roles (some promoted
mid-month, some with no role in the period), both modalities, pre-enrollment outreach
(including mass mailings and letters), months without eligibility and gaps between enrollment
spans. Every reason an entry does not bill occurs.

With ``two_plans`` the month is an office's with two health plans: the first plan (key
``default``, the guide's contract) and plan ``b`` (``plan_b_toml``: other rates, and clinical
in-person service billed U1 HE instead of U1). Members are split between them, some move plan
mid-month, and some have no plan for the last days of the month (reason NO_PLAN).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ecmbill.contract import Contract, default_contract
from ecmbill.contract.model import default_toml, parse_contract
from ecmbill.contract.plans import PlanContracts
from ecmbill.domain.period import Period
from ecmbill.domain.plans import DEFAULT_PLAN
from ecmbill.store import plans as stored_plans
from ecmbill.store.bulk import bulk_insert
from ecmbill.store.db import Engine, unit_of_work
from ecmbill.store.files import write_arrow_csv

OUTREACH_METHODS = ("phone", "phone", "in_person", "text", "video", "email", "mail")
KINDS = ("staff", "members", "eligibility", "enrollments", "time", "outreach")
PLAN_B = "b"
PLAN_B_NAME = "Synthetic Plan B"
# Plan B pays 20% more on every code.
PLAN_B_RATE = 1.2


def plan_b_toml() -> str:
    """Plan B's contract: the guide's with every rate 20% higher and one modifier difference,
    clinical in-person service billed U1 HE (the first plan: U1)."""
    first = 'modifiers = ["U1"]\n'
    text = default_toml()
    assert first in text
    text = text.replace(first, 'modifiers = ["U1", "HE"]\n', 1)
    text = re.sub(
        r'^rate = "([0-9.]+)"$',
        lambda m: f'rate = "{float(m.group(1)) * PLAN_B_RATE:.2f}"',
        text,
        flags=re.MULTILINE,
    )
    return text.replace(
        'name = "ECM fee-for-service (plan billing guide)"', f'name = "{PLAN_B_NAME}"'
    )


def two_plan_contracts(first: Contract | None = None) -> PlanContracts:
    """The contracts of a two-plan month: the first plan's (default: the guide's), then B's."""
    return PlanContracts(
        {DEFAULT_PLAN: first or default_contract(), PLAN_B: parse_contract(plan_b_toml(), PLAN_B)}
    )


def write_plans(folder: Path) -> Path:
    """``default.toml`` (the guide's) and ``b.toml``, the folder ``ecmbill rate --source
    --plans`` reads (with ``--first-plan default``: files are read in name order)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{DEFAULT_PLAN}.toml").write_text(default_toml(), encoding="utf-8")
    (folder / f"{PLAN_B}.toml").write_text(plan_b_toml(), encoding="utf-8")
    return folder


@dataclass(frozen=True)
class PlanMonth:
    """The six tables in the import files' column layout (dates as dates, flags as booleans)."""

    period: Period
    staff: pa.Table
    members: pa.Table
    eligibility: pa.Table
    enrollments: pa.Table
    time: pa.Table
    outreach: pa.Table
    # Two plans: each member's plan by date span (and eligibility has a plan column).
    plan_assignments: pa.Table | None = None

    def tables(self) -> dict[str, pa.Table]:
        tables = {kind: getattr(self, kind) for kind in KINDS}
        if self.plan_assignments is not None:
            tables["plan_assignments"] = self.plan_assignments
        return tables


def _days(rng: np.random.Generator, start: date, low: int, high: int, size: int) -> np.ndarray:
    offsets = rng.integers(low, high, size=size)
    return np.datetime64(start, "D") + offsets


def _ids(prefix: str, count: int, width: int) -> pa.Array:
    return pa.array([f"{prefix}{i:0{width}d}" for i in range(1, count + 1)], pa.string())


def generate(
    entries: int,
    period: Period,
    *,
    seed: int = 2026,
    contract: Contract | None = None,
    two_plans: bool = False,
) -> PlanMonth:
    """About ``entries`` time entries in ``period`` (2% dated just before it), on the contract's
    activities (default: the plan's billing guide), and outreach; with ``two_plans``, the
    members split between two plans (``_two_plans``)."""
    rng = np.random.default_rng(seed)
    catalogue = contract or default_contract()
    reimbursable = catalogue.activity_names(reimbursable=True)
    not_reimbursable = catalogue.activity_names(reimbursable=False) or reimbursable
    start, end = period.start, period.end
    length = (end - start).days + 1
    members = max(1000, entries // 12)
    # About eight entries per staff member and working day keeps everyone under 24 hours a
    # day, so the same files also import cleanly.
    staff = max(36, entries // 200)

    # Staff: both roles; 3% promoted from non-clinical to clinical on the 15th (two role
    # periods), 2% whose role starts after the month (their time does not bill).
    staff_ids = _ids("S", staff, 6).to_numpy(zero_copy_only=False)
    clinical = rng.random(staff) < 0.45
    draw = rng.random(staff)
    promoted, no_role = draw < 0.03, (draw >= 0.03) & (draw < 0.05)
    mid = np.datetime64(start, "D") + 14
    none_date = np.datetime64("NaT", "D")
    s_ids = np.concatenate([staff_ids, staff_ids[promoted]])
    s_role = np.concatenate(
        [
            np.where(clinical & ~promoted, "clinical", "non_clinical"),
            np.full(promoted.sum(), "clinical"),
        ]
    )
    s_from = np.concatenate(
        [
            np.where(no_role, np.datetime64(end, "D") + 1, none_date),
            np.full(promoted.sum(), mid),
        ]
    )
    s_to = np.concatenate(
        [np.where(promoted, mid - 1, none_date), np.full(promoted.sum(), none_date)]
    )
    staff_table = pa.table(
        {
            "staff_id": pa.array(s_ids, pa.string()),
            "name": pa.array(np.char.add("Synthetic Staff ", s_ids.astype(str)), pa.string()),
            "role": pa.array(s_role, pa.string()),
            "npi": pa.nulls(len(s_ids), pa.string()),
            "effective_from": pa.array(s_from, pa.date32(), from_pandas=True),
            "effective_to": pa.array(s_to, pa.date32(), from_pandas=True),
        }
    )

    # Members: 72% enrolled before the month (5% of them leave mid-month, 3% have a gap
    # between two spans), 13% enrolled mid-month after outreach, 15% not enrolled (outreach).
    member_ids = np.array([f"9{i:07d}F" for i in range(1, members + 1)])
    category = rng.choice(3, size=members, p=[0.72, 0.13, 0.15])
    births = _days(rng, date(1940, 1, 1), 0, 65 * 365, members)
    members_table = pa.table(
        {
            "member_id": pa.array(member_ids, pa.string()),
            "first_name": pa.array(np.full(members, "Synthetic"), pa.string()),
            "last_name": pa.array(np.char.add("Member-", (np.arange(members) % 97).astype(str))),
            "birth_date": pa.array(births, pa.date32()),
        }
    )

    previous = Period.of(start - timedelta(days=1))
    eligible_draw = rng.random(members)
    has_month = eligible_draw >= 0.03  # 3%: no eligibility on file for the month yet
    eligibility_table = pa.table(
        {
            "member_id": pa.array(np.concatenate([member_ids, member_ids[has_month]]), pa.string()),
            "month": pa.array(
                [str(previous)] * members + [str(period)] * int(has_month.sum()), pa.string()
            ),
            "eligible": pa.array(
                np.concatenate([np.ones(members, bool), eligible_draw[has_month] >= 0.07]),
                pa.bool_(),
            ),
        }
    )

    before = category == 0
    leaves = before & (rng.random(members) < 0.05)
    gap = before & ~leaves & (rng.random(members) < 0.03)
    enrolled_mid = category == 1
    first_start = np.where(
        before,
        _days(rng, start, -400, -20, members),
        _days(rng, start, 6, 22, members),
    )
    first_end = np.where(
        leaves,
        _days(rng, start, 8, 20, members),
        np.where(gap, np.datetime64(start, "D") + 9, none_date),
    )
    enrolled = before | enrolled_mid
    e_member = np.concatenate([member_ids[enrolled], member_ids[gap]])
    e_start = np.concatenate(
        [first_start[enrolled], np.full(gap.sum(), np.datetime64(start, "D") + 19)]
    )
    e_end = np.concatenate([first_end[enrolled], np.full(gap.sum(), none_date)])
    enrollments_table = pa.table(
        {
            "member_id": pa.array(e_member, pa.string()),
            "start_date": pa.array(e_start, pa.date32()),
            "end_date": pa.array(e_end, pa.date32(), from_pandas=True),
        }
    )

    # Time: mostly for enrolled members; a little for members not (or not yet) enrolled.
    weight = np.where(enrolled, 1.0, 0.05)
    who = rng.choice(members, size=entries, p=weight / weight.sum())
    outside = rng.random(entries) < 0.02
    on = np.where(outside, _days(rng, start, -5, 0, entries), _days(rng, start, 0, length, entries))
    activity = np.where(
        rng.random(entries) < 0.03,
        rng.choice(not_reimbursable, size=entries),
        rng.choice(reimbursable, size=entries),
    )
    time_table = pa.table(
        {
            "entry_id": _ids("T", entries, 9),
            "staff_id": pa.array(staff_ids[rng.integers(0, staff, size=entries)], pa.string()),
            "member_id": pa.array(member_ids[who], pa.string()),
            "date": pa.array(on, pa.date32()),
            "minutes": pa.array(rng.integers(5, 121, size=entries), pa.int64()),
            "activity": pa.array(activity, pa.string()),
            "modality": pa.array(
                np.where(rng.random(entries) < 0.75, "in_person", "telephonic"), pa.string()
            ),
            "note": pa.nulls(entries, pa.string()),
        }
    )

    # Outreach: one to four attempts for each member not enrolled before the month. For a
    # mid-month enrollee, most fall before the enrollment start (a few on or after it).
    reached_for = np.flatnonzero(~before)
    counts = rng.integers(1, 5, size=len(reached_for))
    o_member = np.repeat(reached_for, counts)
    attempts = len(o_member)
    o_day = _days(rng, start, 0, length, attempts)
    mid_start = first_start[o_member]
    early = enrolled_mid[o_member] & (rng.random(attempts) < 0.9)
    span = np.maximum((mid_start - np.datetime64(start, "D")).astype(int), 1)
    o_day = np.where(
        early,
        np.datetime64(start, "D") + (rng.random(attempts) * span).astype(int),
        o_day,
    )
    outreach_table = pa.table(
        {
            "attempt_id": _ids("O", attempts, 9),
            "staff_id": pa.array(staff_ids[rng.integers(0, staff, size=attempts)], pa.string()),
            "member_id": pa.array(member_ids[o_member], pa.string()),
            "date": pa.array(o_day, pa.date32()),
            "method": pa.array(rng.choice(OUTREACH_METHODS, size=attempts), pa.string()),
            "individualized": pa.array(rng.random(attempts) >= 0.1, pa.bool_()),
            "outcome": pa.array(
                rng.choice(["not_reached", "not_reached", "reached", "declined"], size=attempts),
                pa.string(),
            ),
            "minutes": pa.array(rng.integers(0, 31, size=attempts), pa.int64()),
        }
    )
    assignments = None
    if two_plans:
        # Drawn from a generator of its own: the single-plan month stays exactly as it was.
        eligibility_table, assignments = _two_plans(
            np.random.default_rng(seed + 17), period, member_ids, has_month, eligibility_table
        )
    return PlanMonth(
        period=period,
        plan_assignments=assignments,
        staff=staff_table,
        members=members_table,
        eligibility=eligibility_table,
        enrollments=enrollments_table,
        time=time_table,
        outreach=outreach_table,
    )


def _two_plans(
    rng: np.random.Generator,
    period: Period,
    member_ids: np.ndarray,
    has_month: np.ndarray,
    eligibility: pa.Table,
) -> tuple[pa.Table, pa.Table]:
    """Eligibility per plan, and plan spans: 55% start with the first plan, 45% with B, all a
    year before the month. 6% move to the other plan mid-month, 4% have no plan after a day
    mid-month (NO_PLAN), 2% have a gap of four days between two spans of their plan. Each plan
    says a member's eligibility for the months the member is its member (the same answer)."""
    members = len(member_ids)
    start = np.datetime64(period.start, "D")
    initial = np.where(rng.random(members) < 0.55, DEFAULT_PLAN, PLAN_B)
    other = np.where(initial == DEFAULT_PLAN, PLAN_B, DEFAULT_PLAN)
    draw = rng.random(members)
    moves, ends, gap = draw < 0.06, (draw >= 0.06) & (draw < 0.10), (draw >= 0.10) & (draw < 0.12)
    last = start + rng.integers(4, 25, size=members)  # last day of the first span, if it ends
    none_date = np.datetime64("NaT", "D")
    assignments = pa.table(
        {
            "member_id": pa.array(
                np.concatenate([member_ids, member_ids[moves], member_ids[gap]]), pa.string()
            ),
            "plan": pa.array(np.concatenate([initial, other[moves], initial[gap]]), pa.string()),
            "start_date": pa.array(
                np.concatenate([np.full(members, start - 365), last[moves] + 1, last[gap] + 5]),
                pa.date32(),
            ),
            "end_date": pa.array(
                np.concatenate(
                    [
                        np.where(moves | ends | gap, last, none_date),
                        np.full(moves.sum() + gap.sum(), none_date),
                    ]
                ),
                pa.date32(),
                from_pandas=True,
            ),
        }
    )
    current = np.flatnonzero(has_month)
    flags = eligibility["eligible"].to_numpy()
    month_flags = flags[members:]
    movers = moves[current]
    with_plan = pa.table(
        {
            "member_id": pa.array(
                np.concatenate([member_ids, member_ids[current], member_ids[current][movers]]),
                pa.string(),
            ),
            "month": pa.array(
                [str(Period.of(period.start - timedelta(days=1)))] * members
                + [str(period)] * (len(current) + int(movers.sum())),
                pa.string(),
            ),
            "plan": pa.array(
                np.concatenate([initial, initial[current], other[current][movers]]), pa.string()
            ),
            "eligible": pa.array(
                np.concatenate([flags[:members], month_flags, month_flags[movers]]), pa.bool_()
            ),
        }
    )
    return with_plan, assignments


def write(month: PlanMonth, folder: Path, *, fmt: str = "parquet") -> dict[str, Path]:
    """One file per kind (``time.parquet``, ...), the layout ``ecmbill rate --source`` reads
    (with two plans, ``plan_assignments`` too and eligibility with its plan)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind, table in month.tables().items():
        path = folder / f"{kind}.{fmt}"
        if fmt == "parquet":
            pq.write_table(table, path)
        elif fmt == "csv":
            write_arrow_csv(table, path)
        else:
            raise ValueError(f"unknown format {fmt!r}: parquet or csv")
        written[kind] = path
    return written


_ADDRESS = {"address": "1 Synthetic Way", "city": "Sacramento", "state": "CA", "zip": "95814"}


def load_store(engine: Engine, month: PlanMonth) -> None:
    """Write the month straight into a migrated store with bulk inserts, for tests and
    benchmarks that are not about importing. No audit records: this is set-up, not billing
    work. The rows pass the import's checks (``bench/import.py`` imports the same shape).
    A two-plan month adds plan B (its contract stored with it) and the members' plan spans."""
    if month.plan_assignments is not None:
        with unit_of_work(engine) as session:
            # Added before the members: adding a second plan gives every member already on
            # file the first plan, and these members' spans come from the month.
            if stored_plans.plan(session, PLAN_B) is None:
                stored_plans.add_plan(session, PLAN_B, PLAN_B_NAME, plan_b_toml(), {}, "demo")
    staff = month.staff.to_pylist()
    people = {row["staff_id"]: row for row in staff}
    role_columns = ("staff_id", "role", "effective_from", "effective_to")
    bulk_insert(
        engine,
        {
            "staff": [
                {"staff_id": s, "name": r["name"], "npi": r["npi"]} for s, r in people.items()
            ],
            # Every member with an address, as a plan's roster gives it: a claim needs one.
            "members": [{**row, **_ADDRESS} for row in month.members.to_pylist()],
            "staff_roles": [{k: row[k] for k in role_columns} for row in staff],
            "eligibility": month.eligibility.to_pylist(),
            "enrollments": month.enrollments.to_pylist(),
            "time_entries": month.time.to_pylist(),
            "outreach_attempts": month.outreach.to_pylist(),
            "plan_assignments": (
                month.plan_assignments.to_pylist() if month.plan_assignments is not None else []
            ),
        },
    )
