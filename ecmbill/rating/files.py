"""Rating straight from files, at plan scale: a folder of Parquet or CSV files in the import
column layout, read by DuckDB (one machine) or Spark (local, or a cluster), rated by the same
Ibis expression as the store (``ecmbill.rating.expression``).

A folder holds one file per kind: ``time``, ``outreach``, ``staff``, ``eligibility`` and
``enrollments``, each ``.parquet`` or ``.csv``. There is no store to keep a bad row out, so the
files are checked first, with the same rules as an import where they matter to the bill; a file
with bad rows is refused as a whole with, per problem, the number of rows and an example id.
Problems never quote a member id: it is PHI.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import ibis.expr.types as ir
from ibis.backends import BaseBackend

from ecmbill.contract import Contract
from ecmbill.domain.lines import PeriodRating
from ecmbill.domain.period import Period
from ecmbill.rating.engines import opened
from ecmbill.rating.expression import RatingInputs
from ecmbill.rating.file_checks import (
    SOURCE_KINDS,
    SourceProblem,
    approvals_given,
    checked_inputs,
)
from ecmbill.rating.service import rate_period

SUFFIXES = (".parquet", ".csv")

Status = Callable[[str], None]
T = TypeVar("T")


def find_files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise SourceProblem(f"{folder} is not a folder")
    found: dict[str, Path] = {}
    problems = []
    for kind in SOURCE_KINDS:
        candidates = [folder / f"{kind}{suffix}" for suffix in SUFFIXES]
        present = [path for path in candidates if path.is_file()]
        if not present:
            problems.append(f"no {kind}.parquet or {kind}.csv")
        elif len(present) > 1:
            problems.append(f"both {kind}.parquet and {kind}.csv: keep one")
        else:
            found[kind] = present[0]
    if problems:
        raise SourceProblem(f"{folder}: " + "; ".join(problems))
    return found


def read_source(con: BaseBackend, path: Path) -> ir.Table:
    if path.suffix == ".parquet":
        return con.read_parquet(str(path))
    # Every CSV column is read as text and parsed by the checks below, the same way for both
    # engines: neither engine's type sniffing decides what a value means.
    if con.name == "duckdb":
        return con.read_csv(str(path), all_varchar=True, header=True)
    return con.read_csv(str(path), header=True, inferSchema=False)


def load_inputs(con: BaseBackend, files: dict[str, Path]) -> RatingInputs:
    """The five files as rating inputs; raises ``SourceProblem`` listing every bad row kind."""
    return checked_inputs({kind: read_source(con, path) for kind, path in files.items()}, files)


def rate_folder(
    folder: Path,
    period: Period,
    contract: Contract,
    *,
    engine: str = "duckdb",
    spark_master: str | None = None,
    status: Status | None = None,
) -> PeriodRating:
    """The rating of ``period`` from the files in ``folder``, as the store path returns it."""
    return rate_checked(
        folder,
        period,
        contract,
        lambda _, inputs: rate_period(inputs, period, contract),
        engine=engine,
        spark_master=spark_master,
        status=status,
    )


def rate_checked(
    folder: Path,
    period: Period,
    contract: Contract,
    rate: Callable[[BaseBackend, RatingInputs], T],
    *,
    engine: str,
    spark_master: str | None,
    status: Status | None,
) -> T:
    """``rate`` applied to the engine's connection and the checked files of ``folder``, on
    ``engine``; ``contract`` says
    what the files must hold (an approved column when it requires approval)."""
    say = status or (lambda _: None)
    files = find_files(folder)
    say(f"starting {engine}")
    with opened(engine, spark_master=spark_master) as con:
        say("checking the files")
        inputs = load_inputs(con, files)
        approvals_given(inputs, contract.require_approval, files["time"])
        say(f"rating {period}")
        return rate(con, inputs)
