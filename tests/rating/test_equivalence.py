"""One generated month, rated on every engine ecmbill runs on, gives the same bill.

SQLite and PostgreSQL rate it from the store; DuckDB and Spark from Parquet and CSV files. The
month has more than 50,000 time entries and every reason an entry does not bill, so a rule
that compiles differently on one engine shows up as a different line or reason. A smaller
month of an office with two plans (members who move plan mid-month, days with no plan) does
the same for the rating per plan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine

from ecmbill.contract import Contract, default_contract
from ecmbill.contract.plans import PlanContracts
from ecmbill.demo.plan_scale import (
    PLAN_B,
    PlanMonth,
    generate,
    load_store,
    two_plan_contracts,
    write,
)
from ecmbill.domain.lines import PeriodRating
from ecmbill.domain.period import Period
from ecmbill.domain.plans import DEFAULT_PLAN
from ecmbill.domain.reasons import ReasonCode
from ecmbill.rating.files import rate_folder
from ecmbill.rating.output import rate_folder_to_file
from ecmbill.rating.service import rate
from ecmbill.store.bulk import bulk_insert
from tests.conftest import TEST_DATABASE

PERIOD = Period(2026, 10)
ENTRIES = 60_000
# The same month under a contract that requires a supervisor's approval, nine entries in ten
# approved: the files say so in their approved column, the store in its approvals.
APPROVING = default_contract().model_copy(update={"require_approval": True})
APPROVED_SHARE = 0.9
# The two-plan month: smaller, the suite stays fast; it still has every reason.
TWO_PLAN_ENTRIES = 20_000


@pytest.fixture(scope="module")
def month() -> PlanMonth:
    return generate(ENTRIES, PERIOD, seed=8)


@pytest.fixture(scope="module")
def parquet_folder(month: PlanMonth, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("parquet")
    write(month, folder, fmt="parquet")
    return folder


@pytest.fixture(scope="module")
def csv_folder(month: PlanMonth, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("csv")
    write(month, folder, fmt="csv")
    return folder


@pytest.fixture(scope="module")
def approved_month(month: PlanMonth) -> PlanMonth:
    approved = np.random.default_rng(16).random(month.time.num_rows) < APPROVED_SHARE
    return dataclasses.replace(
        month, time=month.time.append_column("approved", pa.array(approved, pa.bool_()))
    )


@pytest.fixture(scope="module")
def approved_parquet(approved_month: PlanMonth, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("approved-parquet")
    write(approved_month, folder, fmt="parquet")
    return folder


@pytest.fixture(scope="module")
def approving_rating(approved_parquet: Path) -> PeriodRating:
    return rate_folder(approved_parquet, PERIOD, APPROVING, engine="duckdb")


def store_approvals(engine: Engine, approved_month: PlanMonth) -> None:
    """The approved column as the store keeps it: one approval row per approved entry."""
    time = approved_month.time
    ids = time.filter(time["approved"])["entry_id"].to_pylist()
    at = datetime(2026, 11, 2, tzinfo=UTC)
    rows = [
        {"entry_id": i, "approved_by": "sam", "approved_at": at, "fingerprint": "-"} for i in ids
    ]
    bulk_insert(engine, {"time_approvals": rows})


@pytest.fixture(scope="module")
def duckdb_rating(parquet_folder: Path, contract_module: Contract) -> PeriodRating:
    return rate_folder(parquet_folder, PERIOD, contract_module, engine="duckdb")


@pytest.fixture(scope="module")
def contract_module() -> Contract:
    return default_contract()


@pytest.fixture(scope="session")
def spark() -> Iterator[None]:
    if TEST_DATABASE == "postgresql":
        # Spark rates files; no database is involved. A Spark session and its three ratings
        # take two to three minutes, so they run once, in the SQLite pass of the suite.
        pytest.skip("no database is involved: it runs once, in the SQLite pass of the suite")
    pytest.importorskip("pyspark")
    from ecmbill.rating.engines import spark_session

    session = spark_session()
    yield
    session.stop()


def assert_same_rating(actual: PeriodRating, expected: PeriodRating) -> None:
    """Compared item by item, so a failure names the first lines that differ."""
    assert actual.period == expected.period
    assert len(actual.lines) == len(expected.lines)
    differ = [(a, e) for a, e in zip(actual.lines, expected.lines, strict=True) if a != e]
    assert not differ, f"{len(differ)} lines differ, first: {differ[0]}"
    assert len(actual.not_billed) == len(expected.not_billed)
    differ_nb = [
        (a, e) for a, e in zip(actual.not_billed, expected.not_billed, strict=True) if a != e
    ]
    assert not differ_nb, f"{len(differ_nb)} not-billed items differ, first: {differ_nb[0]}"


def test_the_generated_month_is_large_and_has_every_reason_not_to_bill(
    month: PlanMonth, duckdb_rating: PeriodRating
) -> None:
    assert month.time.num_rows >= 50_000
    reasons = {item.reason_code for item in duckdb_rating.not_billed}
    # NOT_APPROVED only under a contract that requires approval, NO_PLAN only in an office with
    # several plans (with one, every member is its member): the months below.
    assert reasons == set(ReasonCode) - {ReasonCode.NOT_APPROVED, ReasonCode.NO_PLAN}
    assert {line.kind.value for line in duckdb_rating.lines} == {"service", "outreach"}
    assert {line.code for line in duckdb_rating.lines} == {"G9008", "G9012"}
    assert any("GQ" in line.modifiers for line in duckdb_rating.lines)
    assert len(duckdb_rating.lines) > 10_000


def test_a_month_that_requires_approval_has_every_reason_and_bills_only_approved_time(
    approved_month: PlanMonth, approving_rating: PeriodRating, duckdb_rating: PeriodRating
) -> None:
    reasons = [item.reason_code for item in approving_rating.not_billed]
    assert set(reasons) == set(ReasonCode) - {ReasonCode.NO_PLAN}
    # NOT_APPROVED is the last reason: an entry refused for another reason keeps that reason.
    before = {(i.id, i.reason_code) for i in duckdb_rating.not_billed}
    assert before <= {(i.id, i.reason_code) for i in approving_rating.not_billed}
    time = approved_month.time
    unapproved = set(time.filter(pc.invert(time["approved"]))["entry_id"].to_pylist())
    refused_for_approval = {
        i.id for i in approving_rating.not_billed if i.reason_code is ReasonCode.NOT_APPROVED
    }
    assert refused_for_approval <= unapproved
    billed = {i for line in approving_rating.lines for i in line.source_ids}
    assert not billed & unapproved
    minutes = sum(line.minutes for line in approving_rating.lines if line.kind.value == "service")
    assert minutes < sum(
        line.minutes for line in duckdb_rating.lines if line.kind.value == "service"
    )


def test_the_store_rates_the_month_like_duckdb_on_files(
    engine: Engine,
    month: PlanMonth,
    approved_month: PlanMonth,
    duckdb_rating: PeriodRating,
    approving_rating: PeriodRating,
    contract_module: Contract,
) -> None:
    load_store(engine, month)
    store_approvals(engine, approved_month)
    assert_same_rating(rate(engine, PERIOD, contract_module), duckdb_rating)
    assert_same_rating(rate(engine, PERIOD, APPROVING), approving_rating)


def test_the_approved_column_is_not_read_when_the_contract_does_not_require_approval(
    approved_parquet: Path, duckdb_rating: PeriodRating, contract_module: Contract
) -> None:
    rating = rate_folder(approved_parquet, PERIOD, contract_module, engine="duckdb")
    assert_same_rating(rating, duckdb_rating)


def test_csv_files_with_approvals_rate_like_parquet_files(
    approved_month: PlanMonth, approving_rating: PeriodRating, tmp_path: Path
) -> None:
    write(approved_month, tmp_path, fmt="csv")
    assert_same_rating(rate_folder(tmp_path, PERIOD, APPROVING), approving_rating)


def test_csv_files_rate_like_parquet_files(
    csv_folder: Path, duckdb_rating: PeriodRating, contract_module: Contract
) -> None:
    rating = rate_folder(csv_folder, PERIOD, contract_module, engine="duckdb")
    assert_same_rating(rating, duckdb_rating)


@pytest.mark.spark
def test_spark_rates_the_month_like_duckdb(
    spark: None, parquet_folder: Path, duckdb_rating: PeriodRating, contract_module: Contract
) -> None:
    rating = rate_folder(parquet_folder, PERIOD, contract_module, engine="spark")
    assert_same_rating(rating, duckdb_rating)


@pytest.mark.spark
def test_spark_rates_the_month_that_requires_approval_like_duckdb(
    spark: None, approved_parquet: Path, approving_rating: PeriodRating
) -> None:
    rating = rate_folder(approved_parquet, PERIOD, APPROVING, engine="spark")
    assert_same_rating(rating, approving_rating)


def test_units_are_the_rounded_up_hours_of_each_lines_minutes(
    duckdb_rating: PeriodRating,
) -> None:
    service = [line for line in duckdb_rating.lines if line.kind.value == "service"]
    assert all(line.units == -(-line.minutes // 60) for line in service)
    outreach = [line for line in duckdb_rating.lines if line.kind.value == "outreach"]
    assert all(line.units == 1 and len(line.source_ids) == 1 for line in outreach)


def test_the_written_files_hold_the_same_lines_and_reasons_as_the_printed_rating(
    parquet_folder: Path,
    duckdb_rating: PeriodRating,
    contract_module: Contract,
    tmp_path: Path,
) -> None:
    out = tmp_path / "lines.parquet"
    rate_folder_to_file(parquet_folder, PERIOD, contract_module, out)
    lines = pq.read_table(out).to_pylist()
    assert [
        (r["member_id"], r["code"], tuple(r["modifiers"]), r["units"], tuple(r["source_ids"]))
        for r in lines
    ] == [
        (line.member_id, line.code, line.modifiers, line.units, line.source_ids)
        for line in duckdb_rating.lines
    ]
    refused = pq.read_table(tmp_path / "lines.not_billed.parquet").to_pylist()
    assert [(r["source"], r["id"], r["reason_code"], r["reason"]) for r in refused] == [
        (item.source.value, item.id, item.reason_code.value, item.reason)
        for item in duckdb_rating.not_billed
    ]


# -- an office with two plans ---------------------------------------------------------------


@pytest.fixture(scope="module")
def two_plan_month() -> PlanMonth:
    return generate(TWO_PLAN_ENTRIES, PERIOD, seed=17, two_plans=True)


@pytest.fixture(scope="module")
def two_plans() -> PlanContracts:
    return two_plan_contracts()


@pytest.fixture(scope="module")
def two_plan_parquet(two_plan_month: PlanMonth, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("two-plans")
    write(two_plan_month, folder, fmt="parquet")
    return folder


@pytest.fixture(scope="module")
def two_plan_rating(two_plan_parquet: Path, two_plans: PlanContracts) -> PeriodRating:
    return rate_folder(two_plan_parquet, PERIOD, two_plans, engine="duckdb")


def test_the_two_plan_month_bills_both_plans_with_their_modifiers_and_has_every_reason(
    two_plan_month: PlanMonth, two_plan_rating: PeriodRating
) -> None:
    assert two_plan_month.plan_assignments is not None
    reasons = {item.reason_code for item in two_plan_rating.not_billed}
    assert reasons == set(ReasonCode) - {ReasonCode.NOT_APPROVED}
    assert {line.plan for line in two_plan_rating.lines} == {DEFAULT_PLAN, PLAN_B}
    # Clinical in-person service: U1 under the first plan, U1 HE under plan B.
    clinical_in_person = {
        (line.plan, line.modifiers)
        for line in two_plan_rating.lines
        if line.kind.value == "service" and line.modifiers[0] == "U1" and "GQ" not in line.modifiers
    }
    assert clinical_in_person == {(DEFAULT_PLAN, ("U1",)), (PLAN_B, ("U1", "HE"))}
    no_plan = [i for i in two_plan_rating.not_billed if i.reason_code is ReasonCode.NO_PLAN]
    assert all(item.plan is None for item in no_plan)
    # A member who moved plan mid-month has lines with both plans.
    plans_of = {}
    for line in two_plan_rating.lines:
        plans_of.setdefault(line.member_id, set()).add(line.plan)
    assert any(len(plans) == 2 for plans in plans_of.values())


def test_the_store_rates_the_two_plan_month_like_duckdb_on_files(
    engine: Engine,
    two_plan_month: PlanMonth,
    two_plan_rating: PeriodRating,
    two_plans: PlanContracts,
) -> None:
    load_store(engine, two_plan_month)
    assert_same_rating(rate(engine, PERIOD, two_plans), two_plan_rating)


def test_csv_files_of_two_plans_rate_like_parquet_files(
    two_plan_month: PlanMonth,
    two_plan_rating: PeriodRating,
    two_plans: PlanContracts,
    tmp_path: Path,
) -> None:
    write(two_plan_month, tmp_path, fmt="csv")
    assert_same_rating(rate_folder(tmp_path, PERIOD, two_plans), two_plan_rating)


@pytest.mark.spark
def test_spark_rates_the_two_plan_month_like_duckdb(
    spark: None, two_plan_parquet: Path, two_plan_rating: PeriodRating, two_plans: PlanContracts
) -> None:
    rating = rate_folder(two_plan_parquet, PERIOD, two_plans, engine="spark")
    assert_same_rating(rating, two_plan_rating)
