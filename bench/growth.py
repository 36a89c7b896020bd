"""How cost grows: time and peak memory of rating, import and close at several sizes.

    python bench/growth.py --rate 100000 1000000 5000000 --import 100000 1000000 \
        --close 100000 1000000 --svg bench/growth.svg

Each step runs in a fresh child process on SQLite (rating reads Parquet files with DuckDB, as
``ecmbill rate --source --out`` does): the child prepares what the step needs untimed (the
generated month; for import, staff and members imported; for close, the month loaded into the
store), resets its peak resident set (Linux ``/proc/self/clear_refs``), and times the step:

- rate: ``rate_folder_to_file`` (checks, rating, lines and not-billed files) from Parquet;
- import: ``import_file("time", ...)`` of the time CSV (every row checked, audited);
- close: ``close_period`` (rating, claims with lines and audit) and the 837P export.

Peak memory is the child's ``VmHWM`` after the reset: what the step added on top of what the
set-up still holds (for import and close the set-up's data, for rating nothing but Python).
The load average is printed with each figure: the machine is shared. ``--svg`` draws seconds
against entries on log-log axes, with a dashed line of linear growth from the first point.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

PERIOD = "2026-10"
TODAY = date(2026, 11, 25)


def _reset_peak() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mib() -> float | None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def child_rate(entries: int, folder: Path) -> dict[str, Any]:
    from generate import make

    from ecmbill.contract import default_contract
    from ecmbill.domain.period import Period
    from ecmbill.rating.output import rate_folder_to_file

    data = HERE / "data" / str(entries)
    if not (data / "time.parquet").exists():
        make(entries, data)
    _reset_peak()
    started, cpu = time.perf_counter(), time.process_time()
    written = rate_folder_to_file(
        data, Period.parse(PERIOD), default_contract(), folder / "lines.parquet"
    )
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "detail": f"{written.line_count:,d} lines",
    }


def child_import(entries: int, folder: Path) -> dict[str, Any]:
    from importlib import import_module

    from ecmbill.contract import default_contract
    from ecmbill.imports.service import import_file

    bench_import = import_module("import")  # bench/import.py: its files and set-up
    paths = bench_import.write_files(entries, folder)
    engine = bench_import._prepared(f"sqlite:///{folder}/import.db", paths)
    _reset_peak()
    started, cpu = time.perf_counter(), time.process_time()
    result = import_file(
        engine, "time", paths["time"], default_contract(), actor="bench", today=TODAY
    )
    seconds = time.perf_counter() - started
    assert result.rejected == 0, result.rejections[:3]
    return {
        "seconds": seconds,
        "cpu": time.process_time() - cpu,
        "detail": f"{result.rows_read:,d} rows",
    }


def child_close(entries: int, folder: Path) -> dict[str, Any]:
    from ecmbill.claims.close import close_period
    from ecmbill.claims.export import export_claims
    from ecmbill.claims.settings import set_settings
    from ecmbill.contract import default_contract
    from ecmbill.demo.plan_scale import generate, load_store
    from ecmbill.demo.provider import DEMO_SETTINGS
    from ecmbill.domain.period import Period
    from ecmbill.store.db import open_store

    period = Period.parse(PERIOD)
    engine = open_store(f"sqlite:///{folder}/close.db")
    month = generate(entries, period)
    load_store(engine, month)
    del month
    set_settings(engine, {**DEMO_SETTINGS, "rendering_npi_on_line": "no"}, actor="bench")
    _reset_peak()
    started, cpu = time.perf_counter(), time.process_time()
    closed = close_period(engine, period, default_contract(), actor="bench", today=TODAY)
    closed_at = time.perf_counter()
    export_claims(engine, period, "837p", folder / "month.837", actor="bench")
    done = time.perf_counter()
    return {
        "seconds": done - started,
        "cpu": time.process_time() - cpu,
        "detail": f"{len(closed.created):,d} claims; close {closed_at - started:.1f} s, "
        f"837P {done - closed_at:.1f} s",
    }


CHILDREN = {"rate": child_rate, "import": child_import, "close": child_close}


def spawn(step: str, entries: int) -> dict[str, Any]:
    before = os.getloadavg()[0]
    command = [sys.executable, __file__, "--child", step, "--entries", str(entries)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{step} at {entries:,d} failed:\n{done.stderr[-3000:]}")
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    found.update(step=step, entries=entries, load=[before, os.getloadavg()[0]])
    return found


def svg(results: list[dict[str, Any]]) -> str:
    """Seconds against entries, log-log, one line per step, and dashed linear references: CPU
    seconds when every result has them (they move less with the load of a shared machine)."""
    width, height, left, bottom, top, right = 560, 340, 60, 40, 40, 110
    measure = "cpu" if all("cpu" in r for r in results) else "seconds"
    xs = [r["entries"] for r in results]
    ys = [r[measure] for r in results]
    x0, x1 = math.log10(min(xs)) - 0.1, math.log10(max(xs)) + 0.1
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))

    def px(entries: float) -> float:
        return left + (math.log10(entries) - x0) / (x1 - x0) * (width - left - right)

    def py(seconds: float) -> float:
        span = height - top - bottom
        return top + span - (math.log10(seconds) - y0) / (y1 - y0) * span

    what = "CPU seconds" if measure == "cpu" else "Seconds"
    parts = [
        f'<text x="{left}" y="14" font-size="13">{what} against entries (log-log)</text>',
        f'<text x="{left}" y="28" font-size="11" fill="#666">dashed: linear growth from the '
        "first size</text>",
    ]
    for power in range(y0, y1 + 1):
        y = py(10**power)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#ddd"/>')  # fmt: skip
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
                     f"{10**power:g} s</text>")  # fmt: skip
    for entries in sorted(set(xs)):
        x = px(entries)
        parts.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" font-size="11" '
                     f'text-anchor="middle">{entries:,d}</text>')  # fmt: skip
    colors = {"rate": "#2b6cb0", "import": "#c05621", "close": "#2f855a"}
    for step, color in colors.items():
        points = sorted((r["entries"], r[measure]) for r in results if r["step"] == step)
        if not points:
            continue
        line = " ".join(f"{px(e):.1f},{py(s):.1f}" for e, s in points)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{color}" '
                     'stroke-width="2"/>')  # fmt: skip
        for e, s in points:
            parts.append(f'<circle cx="{px(e):.1f}" cy="{py(s):.1f}" r="3" fill="{color}"/>')
        (e0, s0), (e_last, _) = points[0], points[-1]
        ideal = f"{px(e0):.1f},{py(s0):.1f} {px(e_last):.1f},{py(s0 * e_last / e0):.1f}"
        parts.append(f'<polyline points="{ideal}" fill="none" stroke="{color}" '
                     'stroke-dasharray="4 4"/>')  # fmt: skip
        e_end, s_end = points[-1]
        parts.append(f'<text x="{px(e_end) + 8:.1f}" y="{py(s_end) + 4:.1f}" font-size="12" '
                     f'fill="{color}">{step}</text>')  # fmt: skip
    body = "\n  ".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="sans-serif">\n  '
        f'<rect width="{width}" height="{height}" fill="white"/>\n  {body}\n</svg>\n'
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, nargs="*", default=[100_000, 1_000_000, 5_000_000])
    parser.add_argument("--import", dest="imports", type=int, nargs="*", default=[100_000])
    parser.add_argument("--close", type=int, nargs="*", default=[100_000])
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--svg", type=Path, help="draw the chart here")
    parser.add_argument("--from-json", type=Path, help="draw --svg from results written before")
    parser.add_argument("--child", choices=CHILDREN, help=argparse.SUPPRESS)
    parser.add_argument("--entries", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory() as name:
            found = CHILDREN[args.child](args.entries, Path(name))
        found["peak_mib"] = _peak_mib()
        print(json.dumps(found))
        return
    if args.from_json:
        results = json.loads(args.from_json.read_text())
    else:
        print(f"{date.today()}: SQLite; load average {os.getloadavg()[0]:.2f}", flush=True)
        results = []
        for step, sizes in (("rate", args.rate), ("import", args.imports), ("close", args.close)):
            for entries in sizes:
                found = spawn(step, entries)
                results.append(found)
                per = found["seconds"] / entries * 1e6
                print(
                    f"  {step:6s} {entries:>9,d}  {found['seconds']:7.2f} s  "
                    f"(CPU {found.get('cpu', float('nan')):7.2f} s)  "
                    f"({per:5.1f} µs/entry)  peak {found['peak_mib']:,.0f} MiB  "
                    f"load {found['load'][0]:.1f} -> {found['load'][1]:.1f}  {found['detail']}",
                    flush=True,
                )
        if args.json:
            args.json.write_text(json.dumps(results, indent=1) + "\n")
    if args.svg:
        args.svg.write_text(svg(results), encoding="utf-8")


if __name__ == "__main__":
    main()
