"""Import benchmark: ``ecmbill import time`` (every row parsed and checked, every change
audited, one transaction) against a bulk-load floor of the same rows, on SQLite and PostgreSQL.

    python bench/import.py --rows 1000000                 # SQLite, and PostgreSQL if installed
    python bench/import.py --rows 1000000 --postgres URL  # an existing (empty) database
    python bench/import.py --rows 1000000 --xlsx          # also: the same rows from an XLSX
    python bench/import.py --rows 1000000 --before DIR    # also: the import of other code
                                    # (e.g. ``git archive main ecmbill | tar -x -C DIR``)

The floor: the same CSV read with Python's ``csv`` module and inserted with ``executemany`` into
a same-shaped ``time_entries`` table (SQLite, foreign keys on as ecmbill has them), or loaded
with ``COPY`` (PostgreSQL). No checks, no audit: what a database takes at best. On SQLite a
second floor, ``floor+cache``, inserts with the page cache the import's write sets
(``bulk.WRITE_CACHE_KIB``), so that the ratio is also shown against a floor given the same help.

Each contender runs in its own process (a fresh database with staff and members imported
first, untimed), ``--rounds`` times round robin so load from elsewhere falls on both alike; the
best time counts and the ratio is import ÷ floor. The CPU time printed beside each time is the
child's own (user + system) over the timed part: it moves less with the load of a shared
machine than the wall clock, but it leaves out the database server's work (all of PostgreSQL's
``COPY``). Peak memory is the child's own maximum
resident set size (Linux ``VmHWM``, read by the child at its end; ``os.wait4``'s ``ru_maxrss``
where that is missing, which also counts the parent's memory at the fork).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TODAY = date(2026, 11, 25)


def write_files(rows: int, folder: Path, *, xlsx: bool = False) -> dict[str, Path]:
    import pyarrow.csv as pa_csv

    from ecmbill.demo.plan_scale import generate
    from ecmbill.domain.period import Period

    month = generate(rows, Period(2026, 10))
    paths = {}
    for kind in ("staff", "members", "time"):
        table = getattr(month, kind)
        if kind == "time":
            table = table.drop_columns(["note"])
        paths[kind] = folder / f"{kind}.csv"
        pa_csv.write_csv(table, paths[kind], pa_csv.WriteOptions(quoting_style="none"))
    if xlsx:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        with paths["time"].open(newline="") as source:
            for values in csv.reader(source):
                sheet.append(values)
        paths["xlsx"] = folder / "time.xlsx"
        book.save(paths["xlsx"])
    return paths


def _prepared(url: str, paths: dict[str, Path]) -> Any:
    from ecmbill.contract import default_contract
    from ecmbill.imports.service import import_file
    from ecmbill.store.db import open_store

    engine = open_store(url)
    for kind in ("staff", "members"):
        result = import_file(
            engine, kind, paths[kind], default_contract(), actor="bench", today=TODAY
        )
        assert result.rejected == 0, (kind, result.rejections[:3])
    return engine


def child_import(url: str, paths: dict[str, Path], kind_file: str) -> dict[str, Any]:
    from ecmbill.contract import default_contract
    from ecmbill.imports.service import import_file

    engine = _prepared(url, paths)
    started, cpu = time.perf_counter(), time.process_time()
    result = import_file(
        engine, "time", paths[kind_file], default_contract(), actor="bench", today=TODAY
    )
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert result.rejected == 0, result.rejections[:3]
    return {"seconds": seconds, "cpu": cpu, "rows": result.rows_read, "written": result.changed}


def child_floor(url: str, paths: dict[str, Path], *, cache: bool = False) -> dict[str, Any]:
    from ecmbill.store.bulk import WRITE_CACHE_KIB

    engine = _prepared(url, paths)
    columns = [
        "entry_id", "staff_id", "member_id", "date", "minutes", "start_time", "end_time",
        "activity", "modality",
    ]  # fmt: skip
    raw = engine.raw_connection()
    driver: Any = raw.driver_connection
    if cache and engine.dialect.name == "sqlite":
        driver.execute(f"PRAGMA cache_size = -{WRITE_CACHE_KIB}")
    started, cpu = time.perf_counter(), time.process_time()
    if engine.dialect.name == "postgresql":
        with driver.cursor() as cursor, paths["time"].open("rb") as source:
            header = source.readline().decode().strip()
            sql = f"COPY time_entries ({header}) FROM STDIN WITH (FORMAT csv)"
            with cursor.copy(sql) as copy:
                while block := source.read(1 << 20):
                    copy.write(block)
        driver.commit()
        rows = driver.execute("SELECT count(*) FROM time_entries").fetchone()[0]
    else:
        with paths["time"].open(newline="") as source:
            reader = csv.DictReader(source)
            marks = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO time_entries ({', '.join(columns)}) VALUES ({marks})"
            driver.executemany(sql, ([row.get(name) or None for name in columns] for row in reader))
        driver.commit()
        rows = driver.execute("SELECT count(*) FROM time_entries").fetchone()[0]
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    raw.close()
    return {"seconds": seconds, "cpu": cpu, "rows": rows, "written": rows}


def _spawn(args: list[str]) -> dict[str, Any]:
    command = [sys.executable, __file__, *args]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"child {args[:2]} failed ({status})")
    found: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    # ru_maxrss of a child started by fork counts the parent's memory at the fork (the
    # generated month, about 500 MiB at 1 M rows): the child's own peak is its VmHWM.
    found["peak_mib"] = found.get("hwm_mib") or usage.ru_maxrss / 1024
    return found


def _own_peak_mib() -> float | None:
    """This process's peak resident set since it started (Linux ``VmHWM``, reset by exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _fresh_url(base: str | None, folder: Path, n: int, server: Any) -> str:
    if server is not None:
        return str(server.new_database())
    if base is not None:
        raise SystemExit("--postgres URL: give an empty database per run (not supported yet)")
    return f"sqlite:///{folder}/run{n}.db"


def compare(
    label: str,
    folder: Path,
    paths: dict[str, Path],
    rounds: int,
    server: Any,
    only: list[str] | None = None,
    before: str | None = None,
) -> None:
    floors = ["floor", *(["floor+cache"] if server is None else [])]
    contenders = [*floors, *(["before"] if before else []), "import"]
    contenders += ["xlsx"] if "xlsx" in paths else []
    contenders = [name for name in contenders if only is None or name in only]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in contenders}
    n = 0
    for _ in range(rounds):
        for name in contenders:
            n += 1
            url = _fresh_url(None, folder, n, server)
            code = ["--code", before] if name == "before" and before else []
            child = "import" if name == "before" else name
            args = ["--child", child, "--url", url, "--folder", str(folder), *code]
            runs[name].append(_spawn(args))
            if url.startswith("sqlite:///"):
                Path(url.removeprefix("sqlite:///")).unlink()
    best = {name: min(r["seconds"] for r in found) for name, found in runs.items()}
    for name, found in runs.items():
        times = ", ".join(f"{r['seconds']:.2f}" for r in found)
        cpus = ", ".join(f"{r['cpu']:.2f}" for r in found)
        peak = max(r["peak_mib"] for r in found)
        rows = found[0]["rows"]
        print(
            f"  {label:10s} {name:11s} best {best[name]:7.2f} s ({times}; CPU {cpus}) "
            f"{rows / best[name]:>10,.0f} rows/s  peak RSS {peak:,.0f} MiB"
        )
    for floor in (name for name in floors if name in best):
        for name in ("before", "import"):
            if name not in best:
                continue
            ratio = best[name] / best[floor]
            print(f"  {label:10s} {name} ÷ {floor} = {ratio:.2f}x (target ≤ 4x)")
            if label == "SQLite":  # PostgreSQL's floor is the server's work, not the process's
                cpu = min(r["cpu"] for r in runs[name]) / min(r["cpu"] for r in runs[floor])
                print(f"  {label:10s} {name} ÷ {floor} in CPU time = {cpu:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--xlsx", action="store_true", help="also import the rows from an XLSX")
    parser.add_argument(
        "--only",
        help="run only these contenders (comma-separated: floor, floor+cache, import, xlsx)",
    )
    parser.add_argument(
        "--before", help="also time the import of the ecmbill package in this folder ('before')"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--code", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.code:
            sys.path.insert(0, str(Path(args.code).resolve()))
        folder = Path(args.folder)
        paths = {p.stem if p.suffix == ".csv" else "xlsx": p for p in folder.iterdir()}
        paths = {k: v for k, v in paths.items() if k in {"staff", "members", "time", "xlsx"}}
        if args.child in ("floor", "floor+cache"):
            found = child_floor(args.url, paths, cache=args.child == "floor+cache")
        else:
            found = child_import(args.url, paths, "xlsx" if args.child == "xlsx" else "time")
        found["hwm_mib"] = _own_peak_mib()
        print(json.dumps(found))
        return
    only = args.only.split(",") if args.only else None
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        paths = write_files(args.rows, folder, xlsx=args.xlsx)
        load = os.getloadavg()
        print(
            f"{date.today()}: importing {args.rows:,d} time entries, {args.rounds} rounds; "
            f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        )
        before = str(Path(args.before).resolve()) if args.before else None
        compare("SQLite", folder, paths, args.rounds, None, only, before)
        if not args.sqlite_only:
            from tests.postgres import PostgresServer, find_pg_bin

            if find_pg_bin() is None:
                print("  PostgreSQL: not installed (apt-get install postgresql), skipped")
            else:
                server = PostgresServer()
                server.start()
                try:
                    compare("PostgreSQL", folder, paths, args.rounds, server, only, before)
                finally:
                    server.stop()
        load = os.getloadavg()
        print(f"  load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
