"""Rating benchmark: ecmbill's Ibis expression on DuckDB against the same rule written by hand
in DuckDB SQL (the practical limit) and in plain pandas, on the same Parquet files.

    python bench/rating.py --entries 5000000
    python bench/rating.py --entries 5000000 --plans 2   # an office with two plans

Each contender runs in its own processes (``--worker``), reads the files from disk, and
computes the billable claim lines of October 2026 (member, code, modifiers, minutes, units,
first and last date), ``--repeat`` times per process; ``--rounds`` processes per contender run
round robin, so that load from elsewhere on a shared machine falls on all three alike. The best
time counts. Peak memory is the largest maximum resident set size of the contender's processes,
from ``os.wait4`` (Linux ``ru_maxrss``): the whole process, Python, DuckDB and all. ecmbill's
first process also runs the whole command once, so its peak includes that. The three results
are compared (count of lines, minutes and units) so a fast wrong answer cannot win.

With ``--plans 2`` the month is an office's with two plans (``generate(two_plans=True)``:
members split between the plans, some moving plan mid-month, some days with no plan); ecmbill
rates it with both contracts and the hand-written SQL joins each entry to the member's plan
on its date and that plan's eligibility, activities and code table. pandas is left out there.

ecmbill's time is reported three ways: the rating expression alone (the like-for-like figure,
used for the ratios); the file checks that ``ecmbill rate --source`` runs first; and the whole
command writing lines with source ids and the not-billed list with reasons (``--out``), which
runs as a contender of its own (``command``: ``rate_folder_to_file``, what the CLI calls), so
that whole command / rating expression is a ratio of two best times taken round robin.

    python bench/rating.py --entries 5000000 --only ecmbill command
    python bench/rating.py --only ecmbill command --before /tmp/previous   # previous code too

``--before DIR`` adds ``command-before``: the same whole command run with ``DIR`` (an extracted
older ecmbill, e.g. ``git archive COMMIT | tar -x -C DIR``) first on the path.

``phases`` is the whole command cut into its phases (file checks, classifying into the kept
table, lines, not-billed, writing both files), each timed in CPU seconds of the process (all
DuckDB threads); with ``--before``, the older code's phases too, the two run round robin.

    python bench/rating.py --only phases --before /tmp/previous --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

PERIOD = "2026-10"
WORKERS = ("ecmbill", "command", "sql", "pandas", "phases")
BEFORE = "command-before"
PHASES_BEFORE = "phases-before"
PHASES = ("checks", "classify", "lines", "not_billed", "write")


# -- the three contenders ----------------------------------------------------------------------


def contracts(plans: int) -> Any:
    from ecmbill.contract import default_contract
    from ecmbill.demo.plan_scale import two_plan_contracts

    return two_plan_contracts() if plans == 2 else default_contract()


def run_ecmbill(data: Path, repeat: int, *, command: bool = True, plans: int = 1) -> dict[str, Any]:
    import ibis

    from ecmbill.domain.period import Period
    from ecmbill.rating import files, output
    from ecmbill.rating.expression import billable_lines, classify

    period, contract = Period.parse(PERIOD), contracts(plans)
    found = files.find_files(data)
    rating, checks, cpus, table = [], [], [], None
    for _ in range(repeat):
        con = ibis.duckdb.connect()
        started = time.perf_counter()
        inputs = files.load_inputs(con, found, contract)
        checked, cpu = time.perf_counter(), time.process_time()
        expr = billable_lines(
            classify(inputs, period.start, period.end, contract), with_source_ids=False
        )
        table = expr.to_pyarrow()
        done = time.perf_counter()
        checks.append(checked - started)
        rating.append(done - checked)
        cpus.append(time.process_time() - cpu)
        con.disconnect()
    whole = None
    if command:
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            output.rate_folder_to_file(data, period, contract, Path(folder) / "lines.parquet")
            whole = time.perf_counter() - started
    return {
        "seconds": rating, "cpu": cpus, "checks": checks, "command": whole, **summary(table)
    }  # fmt: skip


def run_command(data: Path, repeat: int, plans: int = 1) -> dict[str, Any]:
    """The whole ``ecmbill rate --source DATA --out lines.parquet``: checks, rating, both files."""
    import pyarrow.parquet as pq

    import ecmbill
    from ecmbill.domain.period import Period
    from ecmbill.rating import output

    period, contract = Period.parse(PERIOD), contracts(plans)
    seconds, cpus, table = [], [], None
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "lines.parquet"
            started, cpu = time.perf_counter(), time.process_time()
            output.rate_folder_to_file(data, period, contract, out)
            seconds.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
            table = pq.read_table(out, columns=["minutes", "units"])
    code = str(Path(ecmbill.__file__).parent)
    return {"seconds": seconds, "cpu": cpus, "code": code, **summary(table)}


def run_phases(data: Path, repeat: int, plans: int = 1) -> dict[str, Any]:
    """The whole command's phases as ``output.write_rating`` runs them (Parquet out), each
    timed in CPU seconds of this process."""
    import ibis

    from ecmbill.domain.period import Period
    from ecmbill.rating import files, output
    from ecmbill.rating.engines import kept
    from ecmbill.rating.expression import billable_lines, classify

    period, contract = Period.parse(PERIOD), contracts(plans)
    found = files.find_files(data)
    runs: list[dict[str, float]] = []
    walls: list[float] = []
    table = None
    for _ in range(repeat):
        cpu: dict[str, float] = {}

        def timed(name: str, started: float, cpu: dict[str, float] = cpu) -> None:
            cpu[name] = time.process_time() - started

        con = ibis.duckdb.connect()
        wall = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "lines.parquet"
            started = time.process_time()
            inputs = files.load_inputs(con, found, contract)
            timed("checks", started)
            started = time.process_time()
            with kept(con, classify(inputs, period.start, period.end, contract)) as classified:
                timed("classify", started)
                started = time.process_time()
                lines = billable_lines(classified)
                table = output.lines_for_output(
                    lines, period, flat=False, lists_after_order=True
                ).to_pyarrow()
                timed("lines", started)
                started = time.process_time()
                refused = output.not_billed_for_output(classified, contract).to_pyarrow()
                timed("not_billed", started)
            started = time.process_time()
            output._write_atomically(table, out)
            output._write_atomically(refused, output.not_billed_path(out))
            timed("write", started)
            walls.append(time.perf_counter() - wall)
        con.disconnect()
        runs.append(cpu)
    return {
        "seconds": walls, "cpu": [sum(run.values()) for run in runs], "phases": runs,
        **summary(table),
    }  # fmt: skip


def sql_text(data: Path) -> str:
    from ecmbill.contract import default_contract

    contract = default_contract()
    codes = ", ".join(
        f"('{e.role.value}', '{e.modality.value}', '{e.kind.value}', '{e.code}', "
        f"'{':'.join(e.modifiers)}')"
        for e in contract.codes
    )
    activities = ", ".join(f"('{k}')" for k, a in contract.activities.items() if a.reimbursable)
    methods = ", ".join(
        f"('{m.value}', '{v}')"
        for m, v in contract.outreach_methods.items()
        if str(v) != "not_billable"
    )
    first, last = f"DATE '{PERIOD}-01'", f"DATE '{PERIOD}-31'"
    return f"""
WITH codes(role, modality, kind, code, modifiers) AS (VALUES {codes}),
activities(activity) AS (VALUES {activities}),
methods(method, modality) AS (VALUES {methods}),
roles AS (SELECT * FROM read_parquet('{data}/staff.parquet')),
eligible AS (
  SELECT DISTINCT member_id, month FROM read_parquet('{data}/eligibility.parquet') WHERE eligible
),
spans AS (SELECT * FROM read_parquet('{data}/enrollments.parquet')),
service AS (
  SELECT t.member_id, c.code, c.modifiers, t.minutes, t.date
  FROM read_parquet('{data}/time.parquet') t
  JOIN roles r ON r.staff_id = t.staff_id
    AND coalesce(r.effective_from, DATE '1900-01-01') <= t.date
    AND t.date <= coalesce(r.effective_to, DATE '9999-12-31')
  JOIN eligible e ON e.member_id = t.member_id AND e.month = strftime(t.date, '%Y-%m')
  JOIN activities a ON a.activity = t.activity
  JOIN codes c ON c.role = r.role AND c.modality = t.modality AND c.kind = 'service'
  SEMI JOIN spans s ON s.member_id = t.member_id AND s.start_date <= t.date
    AND t.date <= coalesce(s.end_date, DATE '9999-12-31')
  WHERE t.date BETWEEN {first} AND {last}
),
outreach AS (
  SELECT o.member_id, c.code, c.modifiers, coalesce(o.minutes, 0) AS minutes, o.date
  FROM read_parquet('{data}/outreach.parquet') o
  JOIN roles r ON r.staff_id = o.staff_id
    AND coalesce(r.effective_from, DATE '1900-01-01') <= o.date
    AND o.date <= coalesce(r.effective_to, DATE '9999-12-31')
  JOIN eligible e ON e.member_id = o.member_id AND e.month = strftime(o.date, '%Y-%m')
  JOIN methods m ON m.method = o.method
  JOIN codes c ON c.role = r.role AND c.modality = m.modality AND c.kind = 'outreach'
  ANTI JOIN spans s ON s.member_id = o.member_id AND s.start_date <= o.date
    AND o.date <= coalesce(s.end_date, DATE '9999-12-31')
  WHERE o.individualized AND o.date BETWEEN {first} AND {last}
)
SELECT member_id, 'service' AS kind, code, modifiers, sum(minutes) AS minutes,
       (sum(minutes) + 59) // 60 AS units, min(date) AS first_date, max(date) AS last_date
FROM service GROUP BY member_id, code, modifiers
UNION ALL
SELECT member_id, 'outreach', code, modifiers, minutes, 1, date, date FROM outreach
"""


def sql_text_two_plans(data: Path) -> str:
    """The rule for an office with several plans, by hand: each event joined to the member's
    plan on its date, and through it to that plan's eligibility, activities, methods and codes."""
    every = list(contracts(2).items())
    codes = ", ".join(
        f"('{plan}', '{e.role.value}', '{e.modality.value}', '{e.kind.value}', '{e.code}', "
        f"'{':'.join(e.modifiers)}')"
        for plan, contract in every
        for e in contract.codes
    )
    activities = ", ".join(
        f"('{plan}', '{k}')"
        for plan, contract in every
        for k, a in contract.activities.items()
        if a.reimbursable
    )
    methods = ", ".join(
        f"('{plan}', '{m.value}', '{v}')"
        for plan, contract in every
        for m, v in contract.outreach_methods.items()
        if str(v) != "not_billable"
    )
    first, last = f"DATE '{PERIOD}-01'", f"DATE '{PERIOD}-31'"
    return f"""
WITH codes(plan, role, modality, kind, code, modifiers) AS (VALUES {codes}),
activities(plan, activity) AS (VALUES {activities}),
methods(plan, method, modality) AS (VALUES {methods}),
roles AS (SELECT * FROM read_parquet('{data}/staff.parquet')),
plans AS (SELECT * FROM read_parquet('{data}/plan_assignments.parquet')),
eligible AS (
  SELECT DISTINCT member_id, month, plan FROM read_parquet('{data}/eligibility.parquet')
  WHERE eligible
),
spans AS (SELECT * FROM read_parquet('{data}/enrollments.parquet')),
service AS (
  SELECT t.member_id, p.plan, c.code, c.modifiers, t.minutes, t.date
  FROM read_parquet('{data}/time.parquet') t
  JOIN roles r ON r.staff_id = t.staff_id
    AND coalesce(r.effective_from, DATE '1900-01-01') <= t.date
    AND t.date <= coalesce(r.effective_to, DATE '9999-12-31')
  JOIN plans p ON p.member_id = t.member_id AND p.start_date <= t.date
    AND t.date <= coalesce(p.end_date, DATE '9999-12-31')
  JOIN eligible e ON e.member_id = t.member_id AND e.month = strftime(t.date, '%Y-%m')
    AND e.plan = p.plan
  JOIN activities a ON a.plan = p.plan AND a.activity = t.activity
  JOIN codes c ON c.plan = p.plan AND c.role = r.role AND c.modality = t.modality
    AND c.kind = 'service'
  SEMI JOIN spans s ON s.member_id = t.member_id AND s.start_date <= t.date
    AND t.date <= coalesce(s.end_date, DATE '9999-12-31')
  WHERE t.date BETWEEN {first} AND {last}
),
outreach AS (
  SELECT o.member_id, p.plan, c.code, c.modifiers, coalesce(o.minutes, 0) AS minutes, o.date
  FROM read_parquet('{data}/outreach.parquet') o
  JOIN roles r ON r.staff_id = o.staff_id
    AND coalesce(r.effective_from, DATE '1900-01-01') <= o.date
    AND o.date <= coalesce(r.effective_to, DATE '9999-12-31')
  JOIN plans p ON p.member_id = o.member_id AND p.start_date <= o.date
    AND o.date <= coalesce(p.end_date, DATE '9999-12-31')
  JOIN eligible e ON e.member_id = o.member_id AND e.month = strftime(o.date, '%Y-%m')
    AND e.plan = p.plan
  JOIN methods m ON m.plan = p.plan AND m.method = o.method
  JOIN codes c ON c.plan = p.plan AND c.role = r.role AND c.modality = m.modality
    AND c.kind = 'outreach'
  ANTI JOIN spans s ON s.member_id = o.member_id AND s.start_date <= o.date
    AND o.date <= coalesce(s.end_date, DATE '9999-12-31')
  WHERE o.individualized AND o.date BETWEEN {first} AND {last}
)
SELECT member_id, plan, 'service' AS kind, code, modifiers, sum(minutes) AS minutes,
       (sum(minutes) + 59) // 60 AS units, min(date) AS first_date, max(date) AS last_date
FROM service GROUP BY member_id, plan, code, modifiers
UNION ALL
SELECT member_id, plan, 'outreach', code, modifiers, minutes, 1, date, date FROM outreach
"""


def run_sql(data: Path, repeat: int, plans: int = 1) -> dict[str, Any]:
    import duckdb

    query = sql_text_two_plans(data) if plans == 2 else sql_text(data)
    seconds, table = [], None
    for _ in range(repeat):
        con = duckdb.connect()
        started = time.perf_counter()
        table = con.sql(query).to_arrow_table()
        seconds.append(time.perf_counter() - started)
        con.close()
    return {"seconds": seconds, **summary(table)}


def run_pandas(data: Path, repeat: int) -> dict[str, Any]:
    seconds, table = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        table = pandas_lines(data)
        seconds.append(time.perf_counter() - started)
    return {"seconds": seconds, **summary(table)}


def pandas_lines(data: Path) -> Any:
    """The rule as a pandas user would write it: merges, masks, one groupby."""
    import pandas as pd
    import pyarrow as pa

    from ecmbill.contract import default_contract

    contract = default_contract()
    first, last = pd.Timestamp(f"{PERIOD}-01"), pd.Timestamp(f"{PERIOD}-31")
    far_past, far_future = pd.Timestamp("1900-01-01"), pd.Timestamp("2262-01-01")

    def read(kind: str) -> pd.DataFrame:
        frame = pd.read_parquet(data / f"{kind}.parquet")
        for column in frame.columns:
            if column in {"date", "effective_from", "effective_to", "start_date", "end_date"}:
                frame[column] = pd.to_datetime(frame[column])
        return frame

    codes = pd.DataFrame(
        [
            (e.role.value, e.modality.value, e.kind.value, e.code, ":".join(e.modifiers))
            for e in contract.codes
        ],
        columns=["role", "modality", "kind", "code", "modifiers"],
    )
    reimbursable = [k for k, a in contract.activities.items() if a.reimbursable]
    methods = pd.DataFrame(
        [(m.value, str(v)) for m, v in contract.outreach_methods.items()],
        columns=["method", "modality"],
    )
    roles = read("staff")[["staff_id", "role", "effective_from", "effective_to"]]
    roles["effective_from"] = roles["effective_from"].fillna(far_past)
    roles["effective_to"] = roles["effective_to"].fillna(far_future)
    eligibility = read("eligibility")
    eligible = eligibility.loc[eligibility["eligible"], ["member_id", "month"]].drop_duplicates()
    eligible["ym"] = eligible["month"].str[:4].astype(int) * 100 + eligible["month"].str[5:].astype(
        int
    )
    spans = read("enrollments")
    spans["end_date"] = spans["end_date"].fillna(far_future)

    def with_context(events: pd.DataFrame) -> pd.DataFrame:
        events = events[(events["date"] >= first) & (events["date"] <= last)]
        events = events.merge(roles, on="staff_id")
        events = events[
            (events["effective_from"] <= events["date"])
            & (events["date"] <= events["effective_to"])
        ]
        events["ym"] = events["date"].dt.year * 100 + events["date"].dt.month
        events = events.merge(eligible[["member_id", "ym"]], on=["member_id", "ym"])
        joined = events.merge(spans[["member_id", "start_date", "end_date"]], on="member_id")
        inside = joined[
            (joined["start_date"] <= joined["date"]) & (joined["date"] <= joined["end_date"])
        ]
        return events.assign(enrolled=events["id"].isin(inside["id"]))

    time_entries = read("time").rename(columns={"entry_id": "id"})
    service = with_context(time_entries)
    service = service[service["enrolled"] & service["activity"].isin(reimbursable)]
    service = service.merge(codes[codes["kind"] == "service"], on=["role", "modality"])
    lines = (
        service.groupby(["member_id", "kind", "code", "modifiers"], as_index=False)
        .agg(minutes=("minutes", "sum"), first_date=("date", "min"), last_date=("date", "max"))
        .assign(units=lambda f: (f["minutes"] + 59) // 60)
    )
    attempts = read("outreach").rename(columns={"attempt_id": "id"})
    outreach = with_context(attempts)
    outreach = outreach[~outreach["enrolled"] & outreach["individualized"]]
    outreach = outreach.merge(methods, on="method")
    outreach = outreach[outreach["modality"] != "not_billable"]
    outreach = outreach.merge(codes[codes["kind"] == "outreach"], on=["role", "modality"])
    outreach_lines = pd.DataFrame(
        {
            "member_id": outreach["member_id"],
            "kind": "outreach",
            "code": outreach["code"],
            "modifiers": outreach["modifiers"],
            "minutes": outreach["minutes"].fillna(0).astype("int64"),
            "first_date": outreach["date"],
            "last_date": outreach["date"],
            "units": 1,
        }
    )
    return pa.Table.from_pandas(pd.concat([lines, outreach_lines]), preserve_index=False)


def summary(table: Any) -> dict[str, int]:
    import pyarrow.compute as pc

    return {
        "lines": table.num_rows,
        "minutes": int(pc.sum(table["minutes"]).as_py()),
        "units": int(pc.sum(table["units"]).as_py()),
    }


# -- the driver --------------------------------------------------------------------------------


def measure(
    worker: str,
    data: Path,
    repeat: int,
    *,
    first: bool,
    plans: int = 1,
    before: Path | None = None,
) -> dict[str, Any]:
    """Run one contender in a fresh process; its peak RSS comes from the kernel via wait4."""
    env = dict(os.environ)
    if worker in (BEFORE, PHASES_BEFORE):
        assert before is not None
        worker = "command" if worker == BEFORE else "phases"
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(before), env.get("PYTHONPATH")]))
    command = [sys.executable, __file__, "--worker", worker, "--data", str(data)]
    command += ["--repeat", str(repeat), "--plans", str(plans)]
    if worker == "ecmbill" and first:
        command.append("--whole-command")
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{worker} failed (exit {child.returncode})")
    result: dict[str, Any] = json.loads(output)
    result["peak_rss_mib"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return result


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB RAM, {platform.platform()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5_000_000)
    parser.add_argument("--data", type=Path, help="folder of Parquet files (default: generated)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per process")
    parser.add_argument("--rounds", type=int, default=2, help="processes per contender")
    parser.add_argument(
        "--plans", type=int, choices=(1, 2), default=1, help="plans in the office (2: no pandas)"
    )
    parser.add_argument(
        "--only", nargs="+", choices=WORKERS, default=list(WORKERS), help="contenders to run"
    )
    parser.add_argument("--before", type=Path, help="an older ecmbill to run the command with")
    parser.add_argument("--whole-command", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        if args.worker == "ecmbill":
            result = run_ecmbill(
                args.data, args.repeat, command=args.whole_command, plans=args.plans
            )
        elif args.worker == "sql":
            result = run_sql(args.data, args.repeat, args.plans)
        elif args.worker == "command":
            result = run_command(args.data, args.repeat, args.plans)
        elif args.worker == "phases":
            result = run_phases(args.data, args.repeat, args.plans)
        else:
            result = run_pandas(args.data, args.repeat)
        print(json.dumps(result))
        return

    two = args.plans == 2
    data = args.data or HERE / "data" / (f"{args.entries}-2plans" if two else str(args.entries))
    if not (data / "time.parquet").exists():
        from generate import make

        print(f"generating {args.entries:,d} entries into {data} ...", flush=True)
        make(args.entries, data, two_plans=two)
    import pyarrow.parquet as pq

    entries = pq.read_metadata(data / "time.parquet").num_rows
    print(f"{date.today()} on {machine()}")
    print(
        f"load average before: {os.getloadavg()[0]:.2f}; "
        f"best of {args.rounds} processes x {args.repeat} runs each, round robin"
    )
    # Round robin, so that load from elsewhere on a shared machine falls on all alike.
    # pandas has no two-plan contender.
    workers = [w for w in WORKERS if w in args.only and not (two and w == "pandas")]
    if args.before:
        workers += [
            w for w, asked in ((BEFORE, "command"), (PHASES_BEFORE, "phases")) if asked in args.only
        ]
    results: dict[str, dict[str, Any]] = {}
    for round_ in range(args.rounds):
        for worker in workers:
            result = measure(
                worker, data, args.repeat, first=round_ == 0 and "command" not in workers,
                plans=args.plans, before=args.before,
            )  # fmt: skip
            if worker not in results:
                results[worker] = result
                continue
            kept = results[worker]
            kept["seconds"] += result["seconds"]
            kept["cpu"] = kept.get("cpu", []) + result.get("cpu", [])
            kept["checks"] = kept.get("checks", []) + result.get("checks", [])
            kept["phases"] = kept.get("phases", []) + result.get("phases", [])
            kept["peak_rss_mib"] = max(kept["peak_rss_mib"], result["peak_rss_mib"])
            if (kept["lines"], kept["units"]) != (result["lines"], result["units"]):
                raise SystemExit(f"{worker} gave two different answers")
    answers = {(r["lines"], r["minutes"], r["units"]) for r in results.values()}
    if len(answers) != 1:
        raise SystemExit(f"the contenders disagree: {results}")
    lines, minutes, units = answers.pop()
    print(
        f"{entries:,d} entries{', two plans' if two else ''} -> {lines:,d} claim lines, "
        f"{minutes:,d} minutes, {units:,d} units (identical in all {len(results)})"
    )
    best = {worker: min(r["seconds"]) for worker, r in results.items()}
    labels = {
        "ecmbill": "ecmbill (Ibis on DuckDB)",
        "command": "ecmbill whole command",
        BEFORE: "whole command, --before",
        "sql": "hand-written DuckDB SQL",
        "pandas": "pandas",
        "phases": "whole command in phases",
        PHASES_BEFORE: "in phases, --before",
    }
    for worker in workers:
        r = results[worker]
        runs = ", ".join(f"{s:.2f}" for s in r["seconds"])
        cpu = f"  CPU {min(r['cpu']):.2f} s" if r.get("cpu") else ""
        print(
            f"  {labels[worker]:26s} {best[worker]:6.2f} s  (runs: {runs})  "
            f"peak RSS {r['peak_rss_mib']:,.0f} MiB{cpu}"
        )
    phased = [w for w in ("phases", PHASES_BEFORE) if w in results]
    if phased:
        print("  CPU seconds per phase, each run (" + ", ".join(labels[w] for w in phased) + "):")
        for phase in (*PHASES, "all"):
            cells = []
            for worker in phased:
                runs = results[worker]["phases"]
                times = [sum(run.values()) if phase == "all" else run[phase] for run in runs]
                cells.append(", ".join(f"{t:.2f}" for t in times))
            print(f"    {phase:12s} " + "  |  ".join(cells))
    if "ecmbill" in results:
        e = results["ecmbill"]
        print(f"  ecmbill file checks        {min(e['checks']):6.2f} s  (run before rating)")
        if e.get("command") is not None:
            print(
                f"  ecmbill whole command      {e['command']:6.2f} s  (once, in the first "
                "process: checks, rating, lines with source ids and not-billed list written)"
            )
    if {"ecmbill", "sql"} <= set(best):
        print(f"ecmbill / SQL    = {best['ecmbill'] / best['sql']:.2f}x   (target <= 1.2x)")
    if {"ecmbill", "pandas"} <= set(best):
        print(f"pandas / ecmbill = {best['pandas'] / best['ecmbill']:.2f}x   (target >= 3.5x)")
    if {"ecmbill", "command"} <= set(best):
        print(
            f"whole command / rating expression = {best['command'] / best['ecmbill']:.2f}x   "
            "(target <= 1.5x)"
        )
    if {"ecmbill", "command"} <= set(best) and results["ecmbill"].get("cpu"):
        cpu_ratio = min(results["command"]["cpu"]) / min(results["ecmbill"]["cpu"])
        print(f"  the same in CPU time (less moved by other load) = {cpu_ratio:.2f}x")
    if {"command", BEFORE} <= set(best):
        print(f"command --before / command = {best[BEFORE] / best['command']:.2f}x")
    peaks = [results[w]["peak_rss_mib"] for w in ("ecmbill", "command") if w in results]
    if peaks:
        print(f"ecmbill peak RSS = {max(peaks):,.0f} MiB   (target < 2048 MiB)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
