"""Peak memory of reading and importing a large XLSX of time entries.

    python bench/xlsx_memory.py --rows 1000000                # generate once, then measure
    python bench/xlsx_memory.py --rows 1000000 --import       # also the whole import command
    python bench/xlsx_memory.py --import --csv --only none    # the import commands only

The workbook is the synthetic month of ``bench/import.py`` (``ecmbill/demo/plan_scale.py``)
written by openpyxl's write-only workbook, every value a text cell. openpyxl writes text as
inline strings; Excel (and most writers) as shared strings, so the cells are then turned into
shared strings (``tests/imports/xlsx_shared.py``): about 1.1 million distinct ones (the entry
ids, members, staff, dates, times), as in a workbook saved from Excel. Generated into
``bench/data/xlsx-N/`` (ignored by git) on first use and reused.

Each measure runs in its own process and reports that process's peak resident set size
(Linux ``VmHWM``, the kernel's high-water mark, read by the child at its end):

- ``read plain``: every row as imports read it before (``_xlsx_rows(compact=False)``):
  openpyxl's read-only mode as it is, the whole shared-strings table a Python list and every
  parsed ``<row>`` element left (cleared) in the tree;
- ``read ecmbill``: every row as imports read it now (``_xlsx_rows``): the shared strings in
  one buffer, each parsed row dropped;
- ``import`` (with ``--import``; ``--csv``: also the same rows from the CSV they were written
  from): ``ecmbill import time FILE.xlsx`` into a fresh SQLite database
  holding the staff and members (imported first, not measured), under ``/usr/bin/time -v``:
  its "Maximum resident set size".

The two readers' rows are compared by a hash of every value (they must be the same).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _own_peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(rows: int, folder: Path) -> Path:
    """The month's time entries as an XLSX with shared strings (``time-shared.xlsx``), made
    from openpyxl's (``time.xlsx``, inline strings) once and reused."""
    target = folder / "time-shared.xlsx"
    if target.exists():
        return target
    from importlib import import_module

    from tests.imports.xlsx_shared import share_strings

    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if not (folder / "time.xlsx").exists():
        import_module("import").write_files(rows, folder, xlsx=True)
    distinct = share_strings(folder / "time.xlsx", target)
    print(f"generated {target} ({target.stat().st_size / 2**20:.0f} MiB, {distinct:,} distinct "
          f"shared strings) in {time.perf_counter() - started:.0f} s")  # fmt: skip
    return target


def child_read(kind: str, path: Path) -> dict[str, object]:
    digest = hashlib.sha256()
    count = 0
    started = time.perf_counter()
    from ecmbill.imports.reading import _xlsx_rows

    for row in _xlsx_rows(path, compact=kind == "ecmbill"):
        values = row if isinstance(row, tuple) else row.values
        digest.update("\x1f".join(values).encode() + b"\x1e")
        count += 1
    return {
        "rows": count,
        "sha256": digest.hexdigest()[:16],
        "seconds": round(time.perf_counter() - started, 1),
        "peak_mib": round(_own_peak_mib(), 1),
    }


def _spawn_read(kind: str, path: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--file", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    found: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return found


def measure_import(folder: Path, file: str = "time-shared.xlsx") -> None:
    ecmbill = str(Path(sys.executable).parent / "ecmbill")
    database = folder / "import.db"
    database.unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    for kind in ("staff", "members"):
        subprocess.run(
            [ecmbill, "import", kind, str(folder / f"{kind}.csv"), "--database", url],
            check=True, capture_output=True,
        )  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-v", ecmbill, "import", "time", str(folder / file),
         "--database", url],
        capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    peak = int(found[1]) / 1024 if found else float("nan")
    tail = done.stdout.strip().splitlines()[-3:]
    print(f"  import {file}: exit {done.returncode}, {seconds:.0f} s, peak RSS {peak:,.0f} MiB")
    for line in tail:
        print(f"           {line}")
    database.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--folder", type=Path, help="default: bench/data/xlsx-ROWS")
    parser.add_argument("--import", dest="run_import", action="store_true")
    parser.add_argument(
        "--csv", action="store_true", help="with --import: also the same rows from time.csv"
    )
    parser.add_argument(
        "--only", choices=["plain", "ecmbill", "none"], help="one reader only (none: no reader)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_read(args.child, args.file)))
        return
    folder = args.folder or ROOT / "bench" / "data" / f"xlsx-{args.rows}"
    path = generate(args.rows, folder)
    load = os.getloadavg()
    print(f"{path}: {path.stat().st_size / 2**20:.0f} MiB; load average {load[0]:.2f}")
    for kind in ("plain", "ecmbill"):
        if args.only and kind != args.only:
            continue
        found = _spawn_read(kind, path)
        print(f"  read {kind:8s} {found['rows']:>9,} rows in {found['seconds']:>6} s, "
              f"peak RSS {found['peak_mib']:>6,.0f} MiB, rows hash {found['sha256']}")  # fmt: skip
    if args.run_import:
        measure_import(folder)
        if args.csv:
            measure_import(folder, "time.csv")
    load = os.getloadavg()
    print(f"  load average after: {load[0]:.2f}")


if __name__ == "__main__":
    main()
