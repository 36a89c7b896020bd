"""``ecmbill backup`` and ``ecmbill restore`` on SQLite and PostgreSQL: the restored database
rates a period exactly as the original did, and a database holding data is not overwritten
unless forced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from ecmbill.cli import app as cli
from ecmbill.contract import Contract
from ecmbill.domain.period import Period
from ecmbill.rating import service
from ecmbill.store import backup as backups
from ecmbill.store.db import open_store
from tests.postgres import PostgresServer
from tests.web.conftest import seed

OCTOBER = Period.parse("2026-10")


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def new_target(engine: Engine, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty database of the same kind as ``engine``."""
    if engine.dialect.name == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.fixture
def seeded(engine: Engine, contract: Contract, tmp_path: Path) -> Engine:
    seed(engine, contract, tmp_path)
    return engine


@pytest.fixture
def file(seeded: Engine, tmp_path: Path) -> Path:
    """A backup of the seeded database, checked on October."""
    out = tmp_path / "ecmbill.backup"
    code, output = run(
        "backup", "--out", str(out), "--period", "2026-10", "--database", url_of(seeded)
    )
    assert code == 0, output
    return out


def test_a_backup_restores_into_an_empty_database_that_rates_identically(
    seeded: Engine, contract: Contract, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    file = tmp_path / "ecmbill.backup"
    code, output = run("backup", "--out", str(file), "--database", url_of(seeded))
    assert code == 0, output
    before = service.rate(seeded, OCTOBER, contract)
    assert before.lines  # the check rates a period with claims, the newest entry's month
    check = json.loads(file.with_name("ecmbill.backup.check.json").read_text())
    assert check["period"] == "2026-10" and check["claim_lines"] == len(before.lines)
    assert f"2026-10: {len(before.lines)} claim lines" in output

    target = new_target(seeded, request, tmp_path)
    code, output = run("restore", str(file), "--database", target)
    assert code == 0, output
    assert "Rating check: identical" in output
    restored = open_store(target)
    try:
        assert service.rate(restored, OCTOBER, contract) == before
    finally:
        restored.dispose()


def test_a_restore_refuses_a_database_holding_data_unless_forced(
    file: Path, seeded: Engine, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    target = new_target(seeded, request, tmp_path)
    assert run("restore", str(file), "--database", target)[0] == 0
    assert backups.holds_data(target)
    code, output = run("restore", str(file), "--database", target)
    assert code == 2 and "already holds data" in output
    code, output = run("restore", str(file), "--database", target, "--force")
    assert code == 0, output
    assert "Rating check: identical" in output


def test_a_restore_that_rates_differently_fails_and_says_so(
    file: Path, seeded: Engine, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    check_file = file.with_name("ecmbill.backup.check.json")
    check = json.loads(check_file.read_text())
    check_file.write_text(json.dumps({**check, "claim_lines": check["claim_lines"] + 1}))
    code, output = run("restore", str(file), "--database", new_target(seeded, request, tmp_path))
    assert code == 1 and "rates differently" in output


def test_a_backup_restores_only_into_the_same_kind_of_database(
    file: Path, seeded: Engine, tmp_path: Path
) -> None:
    other = (
        "postgresql+psycopg://nobody@127.0.0.1:1/none"
        if seeded.dialect.name == "sqlite"
        else f"sqlite:///{tmp_path / 'other.db'}"
    )
    code, output = run("restore", str(file), "--database", other)
    assert code == 2 and f"is a {seeded.dialect.name} backup" in output


def test_a_postgresql_backup_without_pg_dump_says_what_to_install(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("pg_dump backs up PostgreSQL only")
    monkeypatch.setattr(backups.shutil, "which", lambda _name: None)
    file = tmp_path / "ecmbill.backup"
    code, output = run("backup", "--out", str(file), "--database", url_of(engine))
    assert code == 2 and "pg_dump is not installed" in output and "postgresql-client" in output
    assert not file.exists()
