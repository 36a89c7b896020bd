"""Period-close benchmark: rating, claims and the 837P file for a month of N time entries.

    python bench/close.py --entries 100000                 # SQLite, and PostgreSQL if installed
    python bench/close.py --entries 100000 --sqlite-only
    python bench/close.py --entries 100000 --postgres URL  # an existing (empty) database
    python bench/close.py --entries 1000000 --other-months 2 --sqlite-only --compare

``--other-months K``: the store also holds the K months before, each of as many entries
(with their outreach and eligibility), loaded untimed like the month. ``--compare``: each
store twice, in turn, the close reading every row of the store (as before issue 19's period
read) and only the month's rows (``--read all|period`` picks one; ``period`` is the default).

Each store is measured in its own child process. The month is written into the store untimed
(``bench/import.py`` times importing): members, staff and the rest by ``load_store``, the time
entries and outreach attempts by the bulk writer 100,000 rows per transaction, the enrollments
2,000 (in one transaction, the enrollments' trigger's advisory lock per member ran the
throw-away PostgreSQL server out of shared memory). The generated month is
then dropped, and the peak resident set reset (Linux ``/proc/self/clear_refs``) before each
timed step, so each step's peak is its own on top of what the set-up still holds (the
interpreter, the libraries). Timed: ``close_period`` (rating the month and creating the claims,
with their lines and audit records) and ``export_claims`` to an 837P file, the two steps of
``ecmbill close`` and ``ecmbill claims export``: wall clock and CPU time (the process's, all
threads: DuckDB rates on several) of each and of the two together, with the load average.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
from sqlalchemy import Table  # noqa: E402

from ecmbill.claims.close import close_period  # noqa: E402
from ecmbill.claims.export import export_claims  # noqa: E402
from ecmbill.claims.settings import set_settings  # noqa: E402
from ecmbill.contract import default_contract  # noqa: E402
from ecmbill.demo.plan_scale import PlanMonth, generate, load_store  # noqa: E402
from ecmbill.demo.provider import DEMO_SETTINGS  # noqa: E402
from ecmbill.domain.period import Period  # noqa: E402
from ecmbill.rating import service  # noqa: E402
from ecmbill.store import models  # noqa: E402
from ecmbill.store.bulk import insert_rows  # noqa: E402
from ecmbill.store.db import Engine, open_store, unit_of_work  # noqa: E402

PERIOD = Period(2026, 10)
TODAY = date(2026, 11, 25)
ROWS_PER_TRANSACTION = 100_000
TARGET_S = 60


def load_month(engine: Engine, month: PlanMonth) -> None:
    """The month into the store, the large tables a transaction per 100,000 rows; the
    enrollments 2,000 per transaction (on PostgreSQL their trigger takes an advisory lock per
    member, and the server's lock table holds a few thousand)."""
    empty = {kind: getattr(month, kind).slice(0, 0) for kind in ("enrollments", "time", "outreach")}
    load_store(engine, dataclasses.replace(month, **empty))
    for table, rows, size in (
        ("enrollments", month.enrollments, 2_000),
        ("time_entries", month.time, ROWS_PER_TRANSACTION),
        ("outreach_attempts", month.outreach, ROWS_PER_TRANSACTION),
    ):
        target = cast(Table, models.Base.metadata.tables[table])
        for batch in rows.to_batches(size):
            with unit_of_work(engine) as session:
                insert_rows(session, target, batch.to_pylist())


def load_other_months(engine: Engine, entries: int, months: int) -> None:
    """The ``months`` months before ``PERIOD``: their time entries and outreach attempts (ids
    tagged with the month) and eligibility, for the same members and staff (``generate``
    draws the same ids). The month before ``PERIOD`` has its eligibility already."""
    period = PERIOD
    for number in range(months):
        period = Period.of(period.start - timedelta(days=1))
        month = generate(entries, period, seed=3 + number)
        tag = f"{period}-"
        eligibility = month.eligibility.filter(pc.equal(month.eligibility["month"], str(period)))
        for table, rows, column, size in (
            ("eligibility", eligibility, None, ROWS_PER_TRANSACTION),
            ("time_entries", month.time, "entry_id", ROWS_PER_TRANSACTION),
            ("outreach_attempts", month.outreach, "attempt_id", ROWS_PER_TRANSACTION),
        ):
            if number == 0 and table == "eligibility":
                continue
            if column is not None:
                ids = pc.binary_join_element_wise(pa.scalar(tag), rows[column], "")
                rows = rows.set_column(rows.schema.get_field_index(column), column, ids)
            target = cast(Table, models.Base.metadata.tables[table])
            for batch in rows.to_batches(size):
                with unit_of_work(engine) as session:
                    insert_rows(session, target, batch.to_pylist())
        del month


def _reset_peak() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _timed(step: Any) -> tuple[Any, float, float, float, float]:
    """The step's result, wall and CPU seconds, resident set before it and its peak (MiB)."""
    gc.collect()
    _reset_peak()
    before = _status_mib("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    result = step()
    return (
        result,
        time.perf_counter() - wall,
        time.process_time() - cpu,
        before,
        _status_mib("VmHWM"),
    )


def child(url: str, entries: int, folder: Path, other_months: int, read: str) -> dict[str, Any]:
    engine = open_store(url)
    month = generate(entries, PERIOD)
    load_month(engine, month)
    del month
    load_other_months(engine, entries, other_months)
    if read == "all":
        # The close as before the period read: every row of the store into DuckDB.
        every_row = service.store_in_duckdb
        service.store_in_duckdb = lambda engine, period=None: every_row(engine, None)
    # The synthetic staff have no NPIs: claims carry the billing provider's NPI only.
    set_settings(engine, {**DEMO_SETTINGS, "rendering_npi_on_line": "no"}, actor="bench")
    contract = default_contract()
    load_before = os.getloadavg()[0]
    # When the close started each of its steps (rating, comparing, writing claims), and the
    # rating's peak resident set: the peak is reset when the rating ends, so the close's
    # peak is split into the rating's and the claims' (built, compared, written).
    steps: dict[str, float] = {}
    rating_peak: list[float] = []

    def tell(step: str, _done: int, _total: int) -> None:
        word = step.split(" ")[0]
        if word == "comparing" and word not in steps:
            rating_peak.append(_status_mib("VmHWM"))
            _reset_peak()
        steps.setdefault(word, time.perf_counter())

    closed, close_s, close_cpu, close_from, close_peak = _timed(
        lambda: close_period(engine, PERIOD, contract, actor="bench", today=TODAY, progress=tell)
    )
    rating_s = steps["comparing"] - steps["rating"]
    exported, export_s, export_cpu, export_from, export_peak = _timed(
        lambda: export_claims(engine, PERIOD, "837p", folder / "october.837", actor="bench")
    )
    found = {
        "store": engine.dialect.name,
        "entries": entries,
        "other_months": other_months,
        "read": read,
        "claims": len(closed.created),
        "lines": exported.lines,
        "mib_837p": round(exported.path.stat().st_size / 2**20, 1),
        "close_s": round(close_s, 2),
        "close_cpu_s": round(close_cpu, 2),
        "close_from_mib": round(close_from),
        "close_peak_mib": round(max(close_peak, *rating_peak)),
        "rating_peak_mib": round(rating_peak[0]),
        "claims_peak_mib": round(close_peak),
        "rating_s": round(rating_s, 2),
        "export_s": round(export_s, 2),
        "export_cpu_s": round(export_cpu, 2),
        "export_from_mib": round(export_from),
        "export_peak_mib": round(export_peak),
        "total_s": round(close_s + export_s, 2),
        "total_cpu_s": round(close_cpu + export_cpu, 2),
        "load": [round(load_before, 1), round(os.getloadavg()[0], 1)],
    }
    engine.dispose()
    return found


def show(found: dict[str, Any]) -> None:
    met = "met" if found["total_s"] < TARGET_S else "NOT met"
    print(
        f"  {found['store']:10s} {found['entries']:,d} entries (store: {found['other_months']} "
        f"other months, read {found['read']}), {found['claims']:,d} claims, "
        f"{found['lines']:,d} lines, 837P {found['mib_837p']} MiB (load {found['load'][0]} → "
        f"{found['load'][1]})\n"
        f"    close {found['close_s']:.1f} s (of which rating {found['rating_s']:.1f} s; CPU "
        f"{found['close_cpu_s']:.1f} s, RSS {found['close_from_mib']:,d} → peak "
        f"{found['close_peak_mib']:,d} MiB: rating {found['rating_peak_mib']:,d}, claims "
        f"{found['claims_peak_mib']:,d}), 837P {found['export_s']:.1f} s (CPU "
        f"{found['export_cpu_s']:.1f} s, RSS {found['export_from_mib']:,d} → peak "
        f"{found['export_peak_mib']:,d} MiB); together "
        f"{found['total_s']:.1f} s (CPU {found['total_cpu_s']:.1f} s): target < {TARGET_S} s "
        f"{met}"
    )


def measure(url: str, entries: int, folder: Path, other_months: int, read: str) -> None:
    """One store in a child process of its own (its peak memory is its own)."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", url, "--entries", str(entries), "--folder",
         str(folder), "--other-months", str(other_months), "--read", read],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode:
        print(f"  failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ''}")
        print(done.stderr[-3000:], file=sys.stderr)
        return
    show(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--postgres", help="PostgreSQL URL of an empty database")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--other-months", type=int, default=0)
    parser.add_argument("--read", choices=("all", "period"), default="period")
    parser.add_argument("--compare", action="store_true", help="read all, then period")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        found = child(args.child, args.entries, Path(args.folder), args.other_months, args.read)
        print(json.dumps(found))
        return
    reads = ("all", "period") if args.compare else (args.read,)
    print(
        f"{date.today()}: closing {PERIOD} with {args.entries:,d} time entries, "
        f"{args.other_months} other months in the store, read: {', '.join(reads)}"
    )
    with tempfile.TemporaryDirectory() as folder:
        if args.postgres:
            for read in reads:
                measure(args.postgres, args.entries, Path(folder), args.other_months, read)
            return
        if not args.postgres_only:
            for read in reads:
                database = Path(folder) / f"bench-{read}.db"
                measure(f"sqlite:///{database}", args.entries, Path(folder), args.other_months,
                        read)  # fmt: skip
                database.unlink(missing_ok=True)
        if args.sqlite_only:
            return
        from tests.postgres import PostgresServer, find_pg_bin

        if find_pg_bin() is None:
            print("  PostgreSQL: not installed (apt-get install postgresql), skipped")
            return
        server = PostgresServer()
        server.start()
        try:
            for read in reads:
                measure(server.new_database(), args.entries, Path(folder), args.other_months,
                        read)  # fmt: skip
        finally:
            server.stop()


if __name__ == "__main__":
    main()
