"""``ecmbill demo`` run again: an earlier demo's database is made afresh, one holding web
users (or anyone's work) is left alone unless ``--replace`` says to delete it; the database is
named with ``--database`` as in every other command."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecmbill.cli import app
from ecmbill.store.db import open_store
from ecmbill.store.existing import holdings
from ecmbill.web import accounts
from ecmbill.web.accounts import UserRole


def demo(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        app, ["demo", "--period", "2026-10", "--members", "20", *args], env={"COLUMNS": "200"}
    )


def with_a_user(path: Path) -> None:
    engine = open_store(f"sqlite:///{path}")
    accounts.add_user(
        engine, username="maria", password="a long pass phrase 42", role=UserRole.BILLER,
        actor="cli:maria",
    )  # fmt: skip
    engine.dispose()


def test_a_database_with_web_users_is_not_deleted_without_replace(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    with_a_user(db)
    before = db.read_bytes()
    refused = demo("--database", f"sqlite:///{db}")
    assert refused.exit_code == 2
    assert "1 web user(s) (maria)" in refused.output
    assert "--replace" in refused.output
    assert db.read_bytes() == before  # not even migrated
    assert holdings(db).usernames == ("maria",)


@pytest.mark.slow
def test_replace_says_what_it_deletes_and_makes_the_demo_afresh(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    with_a_user(db)
    replaced = demo("--database", f"sqlite:///{db}", "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert "deleting" in replaced.output and "(maria)" in replaced.output
    assert holdings(db).usernames == ()
    assert holdings(db).only_the_demos_own


@pytest.mark.slow
def test_an_earlier_demos_database_is_made_afresh_and_db_still_works(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    open_store(f"sqlite:///{db}").dispose()  # an empty database: nothing of anyone's
    again = demo("--db", str(db))
    assert again.exit_code == 0, again.output
    assert "--db is deprecated" in again.output
    assert "an earlier demo's database, made afresh" in again.output
    assert holdings(db).members == 20


def test_the_demo_makes_only_sqlite_files(tmp_path: Path) -> None:
    refused = demo("--database", "postgresql://ecm@localhost/ecmbill")
    assert refused.exit_code == 2
    assert "SQLite file of its own" in refused.output


def test_a_file_that_is_not_a_database_is_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "notes.db"
    db.write_text("my notes", encoding="utf-8")
    refused = demo("--database", f"sqlite:///{db}")
    assert refused.exit_code == 2
    assert "not a database the demo made" in refused.output
    assert db.read_text(encoding="utf-8") == "my notes"
