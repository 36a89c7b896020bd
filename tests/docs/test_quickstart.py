"""The README's quickstart, run as written, in a fresh folder: every line prints something and
exits 0. The venv's bin folder goes on PATH where the README says to activate the venv."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ecmbill.store import accounts as stored_accounts
from ecmbill.store.db import open_store
from ecmbill.web import accounts
from tests.docs.conftest import DOCS, ROOT, with_checkout_on_path
from tests.web.conftest import free_port

ACTIVATE = ". .venv/bin/activate"
BIN = Path(sys.executable).parent  # the venv's bin: not resolved, a venv's python is a link


def quickstart_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Quickstart\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```\n(.+?)\n```", section, re.S)
    return block


def first_answer(url: str, server: subprocess.Popen[str]) -> str:
    """The page at ``url`` once the server answers; a failure if it stops or never answers."""
    for _ in range(300):
        if server.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=5) as page:
                return str(page.read().decode())
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"nothing answered at {url}")


def fetch_a_page_then_stop(line: str, folder: Path, env: dict[str, str]) -> None:
    """``ecmbill serve`` runs until stopped: start it on a free port, read the login page."""
    port = free_port()
    server = subprocess.Popen(
        [*shlex.split(line, comments=True), "--port", str(port)],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert "Log in" in first_answer(f"http://127.0.0.1:{port}/login", server)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "ecmbill web app on http://127.0.0.1" in output


def test_the_guide_shows_the_same_quickstart_as_the_readme() -> None:
    assert f"```\n{quickstart_block()}\n```" in (DOCS / "quickstart.md").read_text()


@pytest.mark.slow
def test_the_readme_quickstart_runs_as_written_in_a_fresh_folder(tmp_path: Path) -> None:
    lines = quickstart_block().splitlines()
    assert lines[0].split("#")[0].strip() == ACTIVATE, "activate the venv first, once"
    assert (BIN / "ecmbill").exists(), f"ecmbill is not installed in {BIN}"
    env = with_checkout_on_path()
    env.pop("ECMBILL_DATABASE_URL", None)
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    env["COLUMNS"] = "120"
    ran = []
    for line in lines[1:]:
        words = shlex.split(line, comments=True)
        assert words[0] in {"ecmbill", "export"}, line
        if words[0] == "export":
            name, value = words[1].split("=", 1)
            env[name] = value
        elif words[1] == "serve":
            fetch_a_page_then_stop(line, tmp_path, env)
        else:
            result = subprocess.run(
                ["bash", "-c", line],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
            assert result.stdout.strip(), f"{line} printed nothing"
        ran.append(words[:2])
    assert ["ecmbill", "serve"] in ran and len(ran) >= 8

    engine = open_store(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        users = {u.username: u for u in accounts.list_users(engine)}
        assert {u.role for u in users.values()} == {"admin", "biller", "supervisor", "staff"}
        supervisor = next(u for u in users.values() if u.role == "supervisor")
        staff = next(u for u in users.values() if u.role == "staff")
        # The supervisor sees the staff user's time: they are in one team.
        assert staff.staff_id in stored_accounts.team_staff_ids(engine, supervisor.team)
    finally:
        engine.dispose()
