"""Import benchmark: rows per second of a time-entry CSV through ``ecmbill import`` (every row
parsed and checked, every change audited) into SQLite and PostgreSQL.

    python bench/import.py --rows 1000000                 # SQLite, and PostgreSQL if installed
    python bench/import.py --rows 1000000 --postgres URL  # an existing (empty) database

Staff and members are imported first, untimed. Without ``--postgres`` a throw-away PostgreSQL
server is started from Debian's binaries, as the tests do (``tests/postgres.py``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pyarrow.csv as pa_csv

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecmbill.contract import default_contract  # noqa: E402
from ecmbill.demo.plan_scale import generate  # noqa: E402
from ecmbill.domain.period import Period  # noqa: E402
from ecmbill.imports.service import import_file  # noqa: E402
from ecmbill.store.db import open_store  # noqa: E402

TODAY = date(2026, 11, 25)


def write_files(rows: int, folder: Path) -> dict[str, Path]:
    month = generate(rows, Period(2026, 10))
    paths = {}
    for kind in ("staff", "members", "time"):
        table = getattr(month, kind)
        if kind == "time":
            table = table.drop_columns(["note"])
        paths[kind] = folder / f"{kind}.csv"
        pa_csv.write_csv(table, paths[kind], pa_csv.WriteOptions(quoting_style="none"))
    return paths


def run(url: str, paths: dict[str, Path], label: str) -> float:
    engine = open_store(url)
    contract = default_contract()
    for kind in ("staff", "members"):
        result = import_file(engine, kind, paths[kind], contract, actor="bench", today=TODAY)
        assert result.rejected == 0, (kind, result.rejections[:3])
    started = time.perf_counter()
    result = import_file(engine, "time", paths["time"], contract, actor="bench", today=TODAY)
    seconds = time.perf_counter() - started
    assert result.rejected == 0, result.rejections[:3]
    print(
        f"  {label:10s} {result.rows_read:>10,d} rows in {seconds:7.1f} s = "
        f"{result.rows_read / seconds:>9,.0f} rows/s ({result.changed:,d} written)"
    )
    engine.dispose()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="PostgreSQL URL (default: a throw-away server)")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        paths = write_files(args.rows, Path(folder))
        print(f"{date.today()}: importing {args.rows:,d} time entries")
        run(f"sqlite:///{folder}/bench.db", paths, "SQLite")
        if args.sqlite_only:
            return
        if args.postgres:
            run(args.postgres, paths, "PostgreSQL")
            return
        from tests.postgres import PostgresServer, find_pg_bin

        if find_pg_bin() is None:
            print("  PostgreSQL: not installed (apt-get install postgresql), skipped")
            return
        server = PostgresServer()
        server.start()
        try:
            run(server.new_database(), paths, "PostgreSQL")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
