"""``ecmbill --version`` and adding a web user without a terminal."""

from __future__ import annotations

from ecmbill import installed_version
from ecmbill.cli import app
from ecmbill.store.db import open_store
from ecmbill.web import accounts
from tests.cli.conftest import Cli


def test_version_prints_the_installed_version_and_exits_0(cli: Cli) -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"ecmbill {installed_version()}"


def test_users_add_without_a_terminal_or_password_says_how_to_give_one(cli: Cli) -> None:
    result = cli("users", "add", "admin", "--role", "admin")
    assert result.exit_code == 2
    assert "ECMBILL_NEW_PASSWORD" in result.output
    assert "Aborted" not in result.output
    assert accounts.list_users(open_store(cli.database)) == []


def test_users_add_reads_the_password_from_the_environment(cli: Cli) -> None:
    result = cli.runner.invoke(
        app,
        ["users", "add", "admin", "--role", "admin"],
        env={"ECMBILL_NEW_PASSWORD": "a long enough secret"},
    )
    assert result.exit_code == 0, result.output
    assert [u.username for u in accounts.list_users(open_store(cli.database))] == ["admin"]
