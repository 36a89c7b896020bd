"""The engines a folder can be rated on: DuckDB on this machine, or Spark (local or a
cluster), each reached through Ibis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from ecmbill.rating.file_checks import SourceProblem

ENGINES = ("duckdb", "spark")


def spark_session(master: str | None = None) -> Any:
    """A Spark session: local with two cores unless a cluster URL is given."""
    from pyspark.sql import SparkSession  # imported late: only --engine spark pays for the JVM

    builder = (
        SparkSession.builder.master(master or "local[2]")
        .appName("ecmbill")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        # Dates are calendar days; a session time zone other than UTC could shift them.
        .config("spark.sql.session.timeZone", "UTC")
    )
    if not master or master.startswith("local"):
        # Spark's default of 200 shuffle partitions is for clusters; a local run wants few.
        builder = builder.config("spark.sql.shuffle.partitions", "4")
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def connect(engine: str, *, spark_master: str | None = None) -> BaseBackend:
    if engine == "duckdb":
        return ibis.duckdb.connect()
    if engine == "spark":
        return ibis.pyspark.connect(spark_session(spark_master))
    raise SourceProblem(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")


@contextmanager
def opened(engine: str, *, spark_master: str | None = None) -> Iterator[BaseBackend]:
    con = connect(engine, spark_master=spark_master)
    try:
        yield con
    finally:
        # The Spark session is left running: starting one costs seconds, and a session is
        # shared by everything in this process.
        if engine == "duckdb":
            con.disconnect()


@contextmanager
def kept(con: BaseBackend, table: ir.Table) -> Iterator[ir.Table]:
    """``table`` computed once and kept by the engine while several queries read it: in
    DuckDB, a temporary table (gone with the connection, which ``opened`` closes: Ibis 12
    cannot drop a table on DuckDB 2.0, its DROP statement comes out without the name).
    Elsewhere the table as it is, computed again by each query: Ibis's ``cache`` on Spark
    fails on the contract's in-memory tables (they are registered only when a query runs)."""
    if con.name == "duckdb":
        yield con.create_table(f"ecmbill_kept_{uuid.uuid4().hex}", table, temp=True)
    else:
        yield table
