"""Period-close benchmark: rating, claims and the 837P file for a month of N time entries.

    python bench/close.py --entries 100000                 # SQLite, and PostgreSQL if installed
    python bench/close.py --entries 100000 --postgres URL  # an existing (empty) database

The month is written into the store with bulk inserts (untimed; ``bench/import.py`` times
importing). Timed: ``close_period`` (rating the month and creating the claims, with their audit
records) and ``export_claims`` to an 837P file, the two steps of ``ecmbill close`` and
``ecmbill claims export``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecmbill.claims.close import close_period  # noqa: E402
from ecmbill.claims.export import export_claims  # noqa: E402
from ecmbill.claims.settings import set_settings  # noqa: E402
from ecmbill.contract import default_contract  # noqa: E402
from ecmbill.demo.plan_scale import generate, load_store  # noqa: E402
from ecmbill.demo.provider import DEMO_SETTINGS  # noqa: E402
from ecmbill.domain.period import Period  # noqa: E402
from ecmbill.store.db import open_store  # noqa: E402

PERIOD = Period(2026, 10)
TODAY = date(2026, 11, 25)


def run(url: str, entries: int, folder: Path) -> None:
    engine = open_store(url)
    month = generate(entries, PERIOD)
    load_store(engine, month)
    # The synthetic staff have no NPIs: claims carry the billing provider's NPI only.
    set_settings(engine, {**DEMO_SETTINGS, "rendering_npi_on_line": "no"}, actor="bench")
    contract = default_contract()
    started = time.perf_counter()
    closed = close_period(engine, PERIOD, contract, actor="bench", today=TODAY)
    rated = time.perf_counter()
    exported = export_claims(engine, PERIOD, "837p", folder / "october.837", actor="bench")
    done = time.perf_counter()
    print(
        f"  {engine.dialect.name:10s} {entries:,d} entries: close {rated - started:.1f} s "
        f"({len(closed.created):,d} claims), 837P {done - rated:.1f} s "
        f"({exported.claims:,d} claims, {exported.lines:,d} lines, "
        f"{exported.path.stat().st_size / 2**20:.1f} MiB); total {done - started:.1f} s "
        "(target < 30 s)"
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--postgres", help="PostgreSQL URL of an empty database")
    args = parser.parse_args()
    print(f"{date.today()}: closing {PERIOD} with {args.entries:,d} time entries")
    with tempfile.TemporaryDirectory() as folder:
        if args.postgres:
            run(args.postgres, args.entries, Path(folder))
            return
        run(f"sqlite:///{folder}/bench.db", args.entries, Path(folder))
        from tests.postgres import PostgresServer, find_pg_bin

        if find_pg_bin() is None:
            print("  PostgreSQL: not installed (apt-get install postgresql), skipped")
            return
        server = PostgresServer()
        server.start()
        try:
            run(server.new_database(), args.entries, Path(folder))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
