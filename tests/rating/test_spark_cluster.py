"""Rating on a real Spark standalone cluster: a master and a worker started as separate
processes on loopback from the pyspark package (as a plan's own cluster would run them), and
``ecmbill rate --source --engine spark --spark-master spark://...`` run as its own process.
The files it writes are the same as DuckDB's, row for row."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ecmbill.demo.plan_scale import generate, write
from ecmbill.domain.period import Period

PERIOD = Period(2026, 10)
ECMBILL = Path(sys.executable).parent / "ecmbill"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(log: Path, text: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            pytest.fail(f"{log.name} ended early:\n{log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.5)
    pytest.fail(f"no '{text}' in {log.name} after {seconds} s")


def _spark_env() -> dict[str, str]:
    pyspark = pytest.importorskip("pyspark")
    home = Path(pyspark.__file__).parent
    return {
        **os.environ,
        "SPARK_HOME": str(home),
        # Every service on loopback only: the master, the worker and their web pages.
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_MASTER_HOST": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
    }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    env = _spark_env()
    spark_class = Path(env["SPARK_HOME"]) / "bin" / "spark-class"
    logs = tmp_path_factory.mktemp("spark-logs")
    port = _free_port()
    url = f"spark://127.0.0.1:{port}"
    started: list[subprocess.Popen[bytes]] = []
    try:
        master_log = logs / "master.log"
        master = subprocess.Popen(
            [str(spark_class), "org.apache.spark.deploy.master.Master",
             "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(_free_port())],
            stdout=master_log.open("wb"), stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
        started.append(master)
        _wait_for(master_log, "I have been elected leader", master, 120)
        worker_log = logs / "worker.log"
        worker = subprocess.Popen(
            [str(spark_class), "org.apache.spark.deploy.worker.Worker", url,
             "--host", "127.0.0.1", "--cores", "2", "--memory", "1g",
             "--webui-port", str(_free_port()), "--work-dir", str(logs / "work")],
            stdout=worker_log.open("wb"), stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
        started.append(worker)
        _wait_for(worker_log, "Successfully registered with master", worker, 120)
        yield url, worker_log
    finally:
        for process in reversed(started):
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _rate_to(folder: Path, out: Path, *engine: str) -> None:
    done = subprocess.run(
        [str(ECMBILL), "rate", "--period", str(PERIOD), "--source", str(folder),
         "--out", str(out), *engine],
        capture_output=True, text=True, env=_spark_env(), timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("ECMBILL_TEST_DATABASE") == "postgresql",
    reason="no database is involved: it runs once, in the SQLite pass of the suite",
)
def test_a_spark_standalone_cluster_writes_the_same_files_as_duckdb(
    cluster: tuple[str, Path], tmp_path: Path
) -> None:
    url, worker_log = cluster
    folder = tmp_path / "month"
    write(generate(20_000, PERIOD, seed=19), folder, fmt="parquet")
    _rate_to(folder, tmp_path / "duckdb.parquet")
    _rate_to(folder, tmp_path / "spark.parquet", "--engine", "spark", "--spark-master", url)
    # The work ran on the cluster's worker, not in a local Spark inside the command.
    assert "Asked to launch executor" in worker_log.read_text(errors="replace")
    for name in ("{}.parquet", "{}.not_billed.parquet"):
        duckdb = pq.read_table(tmp_path / name.format("duckdb"))
        spark = pq.read_table(tmp_path / name.format("spark"))
        assert spark.num_rows == duckdb.num_rows > 0
        assert spark.to_pylist() == duckdb.to_pylist(), name
