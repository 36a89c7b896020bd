"""The layer rules, checked by import-linter (contracts in pyproject.toml): the domain is pure,
only the store talks SQL, and the shells (CLI, web) never reach for the table models."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    if not LINT.exists():
        pytest.fail("import-linter is not installed: pip install -e '.[test]'")
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT), "--no-cache"], cwd=root, env=env, capture_output=True, text=True
    )


def test_every_layer_contract_is_kept() -> None:
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("ecmbill/domain/_probe.py", "import sqlalchemy", "domain imports no other"),
        ("ecmbill/domain/_probe.py", "from ecmbill.store import db", "domain imports no other"),
        ("ecmbill/claims/_probe.py", "from sqlalchemy import select", "Only the store"),
        ("ecmbill/web/_probe.py", "from ecmbill.store import models", "never the table models"),
        ("ecmbill/cli/_probe.py", "from ecmbill.store.models import Member", "never the table"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    """The contracts are not vacuous: the same tree plus one module importing across a line
    fails, naming the contract it breaks."""
    shutil.copytree(
        ROOT / "ecmbill", tmp_path / "ecmbill", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / module).write_text(f'"""A probe."""\n\n{line}\n', encoding="utf-8")
    done = lint(tmp_path)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout
    assert contract in done.stdout


def test_the_domain_imports_only_the_standard_library_and_itself() -> None:
    """import-linter forbids the packages we know; this catches any other one a change adds."""
    import ast

    outside = []
    for path in sorted((ROOT / "ecmbill" / "domain").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and not name.startswith("ecmbill.domain"):
                    outside.append(f"{path.relative_to(ROOT)}: {name}")
    assert outside == []
