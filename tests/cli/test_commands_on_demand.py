"""``ecmbill`` imports a command's module only when the command is run: ``ecmbill import`` does
not load the rating engines, the web app or the X12 readers, and help still lists every
command, in the order of ``COMMAND_MODULES``."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import import_module
from typing import Any

import typer
from typer.core import TyperGroup

from ecmbill.cli.app import COMMAND_MODULES, app
from tests.cli.conftest import Cli


def test_every_command_loads_every_module_that_adds_to_it() -> None:
    for modules in COMMAND_MODULES.values():
        for module in modules:
            import_module(f"ecmbill.cli.{module}")
    # Every command registered, built at once as Typer builds a group without lazy loading.
    built = typer.main.get_group(app).commands
    assert list(TyperGroup.list_commands(typer.main.get_group(app), None)) == list(built)  # type: ignore[arg-type]
    assert sorted(built) == sorted(COMMAND_MODULES)

    def modules_of(command: Any) -> set[str]:
        if command.callback is not None and not hasattr(command, "commands"):
            return {command.callback.__module__}
        return {m for sub in command.commands.values() for m in modules_of(sub)}

    for name, command in built.items():
        wanted = {f"ecmbill.cli.{module}" for module in COMMAND_MODULES[name]}
        assert modules_of(command) == wanted, name


def test_help_lists_every_command(cli: Cli) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    # A command's name starts its line of the panel; its help's further lines are indented.
    lines = result.output.splitlines()
    listed = [line.split()[1] for line in lines if line.startswith("│ ") and line[2] != " "]
    assert [name for name in listed if not name.startswith("-")] == list(COMMAND_MODULES)


def test_a_mistyped_command_is_told_the_nearest_one(cli: Cli) -> None:
    result = cli("imprt")
    assert result.exit_code == 2
    assert "Did you mean 'import'?" in result.output


def test_import_loads_neither_the_rating_engines_nor_the_web_app_nor_x12() -> None:
    code = (
        "import sys; from ecmbill.cli import app\n"
        "try:\n    app(['import', '--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('ibis', 'duckdb', 'pyarrow', 'fastapi', 'starlette', 'pyx12', 'jinja2')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1].replace("'", '"')) == []
