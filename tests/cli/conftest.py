from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ecmbill.cli import app
from ecmbill.cli.app import console, errors
from tests.conftest import Databases


class Cli:
    """Runs ``ecmbill`` in-process against a fresh database of the test session's kind."""

    def __init__(self, folder: Path, database: str) -> None:
        self.folder = folder
        self.database = database
        self.runner = CliRunner(
            env={"ECMBILL_DATABASE_URL": self.database, "ECMBILL_USER": "tester"}
        )

    def __call__(self, *args: str) -> Any:
        return self.runner.invoke(app, list(args))

    def file(self, name: str, text: str) -> Path:
        from tests.builders import csv_text

        path = self.folder / name
        path.write_text(csv_text(text), encoding="utf-8")
        return path


@pytest.fixture
def cli(tmp_path: Path, databases: Databases) -> Iterator[Cli]:
    # Wide consoles, so a reason is never wrapped across lines of a table.
    # Restore the private width, not the public one: reading ``console.width`` while it is
    # unset measures the terminal, and writing that back would pin every later command to it.
    saved = (console._width, errors._width)
    console.width = errors.width = 250
    url = databases.migrated_url()
    yield Cli(tmp_path, url)
    console._width, errors._width = saved
    databases.drop(url)
