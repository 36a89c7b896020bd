"""One generated month, rated on every engine ecmbill runs on, gives the same bill.

SQLite and PostgreSQL rate it from the store; DuckDB and Spark from Parquet and CSV files. The
month has more than 50,000 time entries and every reason an entry does not bill, so a rule
that compiles differently on one engine shows up as a different line or reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine

from ecmbill.contract import Contract, default_contract
from ecmbill.demo.plan_scale import PlanMonth, generate, load_store, write
from ecmbill.domain.lines import PeriodRating
from ecmbill.domain.period import Period
from ecmbill.domain.reasons import ReasonCode
from ecmbill.rating.files import rate_folder
from ecmbill.rating.output import rate_folder_to_file
from ecmbill.rating.service import rate

PERIOD = Period(2026, 10)
ENTRIES = 60_000


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
def duckdb_rating(parquet_folder: Path, contract_module: Contract) -> PeriodRating:
    return rate_folder(parquet_folder, PERIOD, contract_module, engine="duckdb")


@pytest.fixture(scope="module")
def contract_module() -> Contract:
    return default_contract()


@pytest.fixture(scope="session")
def spark() -> Iterator[None]:
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
    assert {item.reason_code for item in duckdb_rating.not_billed} == set(ReasonCode)
    assert {line.kind.value for line in duckdb_rating.lines} == {"service", "outreach"}
    assert {line.code for line in duckdb_rating.lines} == {"G9008", "G9012"}
    assert any("GQ" in line.modifiers for line in duckdb_rating.lines)
    assert len(duckdb_rating.lines) > 10_000


def test_the_store_rates_the_month_like_duckdb_on_files(
    engine: Engine, month: PlanMonth, duckdb_rating: PeriodRating, contract_module: Contract
) -> None:
    load_store(engine, month)
    assert_same_rating(rate(engine, PERIOD, contract_module), duckdb_rating)


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
