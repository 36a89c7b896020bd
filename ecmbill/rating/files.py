"""Rating straight from files, at plan scale: a folder of Parquet or CSV files in the import
column layout, read by DuckDB (one machine) or Spark (local, or a cluster), rated by the same
Ibis expression as the store (``ecmbill.rating.expression``).

A folder holds one file per kind: ``time``, ``outreach``, ``staff``, ``eligibility`` and
``enrollments``, each ``.parquet`` or ``.csv``; with several plans, also ``plan_assignments``
(each member's plan by date span; eligibility may then say its plan). There is no store to
keep a bad row out, so the files are checked first, with the same rules as an import where
they matter to the bill; a file with bad rows is refused as a whole with, per problem, the
number of rows and an example id.
Problems never quote a member id: it is PHI.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import ibis.expr.types as ir
from ibis.backends import BaseBackend

from ecmbill.contract import Contract, ContractError, load_contract
from ecmbill.contract.plans import PlanContracts, as_plans
from ecmbill.domain.lines import PeriodRating
from ecmbill.domain.period import Period
from ecmbill.domain.plans import PLAN_KEY_PATTERN
from ecmbill.rating.engines import opened
from ecmbill.rating.expression import RatingInputs
from ecmbill.rating.file_checks import (
    PLAN_ASSIGNMENTS,
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
    optional = _optional_file(folder, PLAN_ASSIGNMENTS)
    if isinstance(optional, str):
        problems.append(optional)
    elif optional is not None:
        found[PLAN_ASSIGNMENTS] = optional
    if problems:
        raise SourceProblem(f"{folder}: " + "; ".join(problems))
    return found


def _optional_file(folder: Path, kind: str) -> Path | str | None:
    """The file of ``kind`` if there is one, or a problem (both suffixes present)."""
    present = [
        folder / f"{kind}{suffix}" for suffix in SUFFIXES if (folder / f"{kind}{suffix}").is_file()
    ]
    if len(present) > 1:
        return f"both {kind}.parquet and {kind}.csv: keep one"
    return present[0] if present else None


def plans_from_folder(folder: Path, first_plan: str | None = None) -> PlanContracts:
    """The contracts of ``ecmbill rate --source --plans FOLDER``: one ``KEY.toml`` per plan,
    in the order of the file names, except that ``first_plan`` (when given) comes first. The
    first plan is the one an eligibility row without a plan belongs to."""
    if not folder.is_dir():
        raise SourceProblem(f"{folder} is not a folder")
    paths = sorted(folder.glob("*.toml"))
    if not paths:
        raise SourceProblem(f"{folder}: no KEY.toml contract files")
    bad = [path.name for path in paths if not re.fullmatch(PLAN_KEY_PATTERN, path.stem)]
    if bad:
        raise SourceProblem(
            f"{folder}: {', '.join(bad)}: a plan key is lower-case letters, digits, - and _ "
            "(at most 20, starting with a letter or digit)"
        )
    keys = [path.stem for path in paths]
    if first_plan is not None:
        if first_plan not in keys:
            raise SourceProblem(f"{folder}: no {first_plan}.toml for the first plan")
        paths.sort(key=lambda path: path.stem != first_plan)
    try:
        return PlanContracts({path.stem: load_contract(path) for path in paths})
    except ContractError as err:
        raise SourceProblem(str(err)) from err


def read_source(con: BaseBackend, path: Path) -> ir.Table:
    if path.suffix == ".parquet":
        return con.read_parquet(str(path))
    # Every CSV column is read as text and parsed by the checks below, the same way for both
    # engines: neither engine's type sniffing decides what a value means.
    if con.name == "duckdb":
        return con.read_csv(str(path), all_varchar=True, header=True)
    return con.read_csv(str(path), header=True, inferSchema=False)


def load_inputs(
    con: BaseBackend, files: dict[str, Path], plans: Contract | PlanContracts | None = None
) -> RatingInputs:
    """The files as rating inputs for ``plans`` (default: one plan); raises ``SourceProblem``
    listing every bad row kind."""
    read = {kind: read_source(con, path) for kind, path in files.items()}
    return checked_inputs(read, files, as_plans(plans) if plans is not None else None)


def rate_folder(
    folder: Path,
    period: Period,
    contract: Contract | PlanContracts,
    *,
    engine: str = "duckdb",
    spark_master: str | None = None,
    status: Status | None = None,
) -> PeriodRating:
    """The rating of ``period`` from the files in ``folder``, as the store path returns it;
    with several plans, each entry under the contract of the member's plan on its date."""
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
    contract: Contract | PlanContracts,
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
        plans = as_plans(contract)
        inputs = load_inputs(con, files, plans)
        approving = any(terms.require_approval for _, terms in plans.items())
        approvals_given(inputs, approving, files["time"])
        say(f"rating {period}")
        return rate(con, inputs)
