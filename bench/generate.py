"""Write a synthetic plan-scale month as Parquet (or CSV) files, one per kind.

    python bench/generate.py --entries 5000000 --out bench/data/5000000

The shape (members, staff, roles, outreach, eligibility and enrollment gaps) is described in
``ecmbill/synthetic.py``; the same generator feeds the equivalence tests.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ecmbill.demo.plan_scale import generate, write
from ecmbill.domain.period import Period

PERIOD = "2026-10"


def make(
    entries: int, out: Path, *, fmt: str = "parquet", seed: int = 2026, two_plans: bool = False
) -> dict[str, int]:
    month = generate(entries, Period.parse(PERIOD), seed=seed, two_plans=two_plans)
    write(month, out, fmt=fmt)
    return {kind: table.num_rows for kind, table in month.tables().items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--two-plans", action="store_true", help="an office with two plans")
    args = parser.parse_args()
    started = time.perf_counter()
    counts = make(args.entries, args.out, fmt=args.format, seed=args.seed, two_plans=args.two_plans)
    print(f"wrote {args.out} in {time.perf_counter() - started:.1f} s (period {PERIOD}):")
    for kind, rows in counts.items():
        print(f"  {kind:12s} {rows:>10,d} rows")


if __name__ == "__main__":
    main()
