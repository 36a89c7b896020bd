from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ecmbill.cli import app
from ecmbill.cli.app import console, errors


class Cli:
    """Runs ``ecmbill`` in-process against a SQLite file in the test's folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.database = f"sqlite:///{folder / 'cli.db'}"
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
def cli(tmp_path: Path) -> Iterator[Cli]:
    # Wide consoles, so a reason is never wrapped across lines of a table.
    saved = (console.width, errors.width)
    console.width = errors.width = 250
    yield Cli(tmp_path)
    console.width, errors.width = saved
