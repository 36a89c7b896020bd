"""kill -9 at each step of an export: the claims are delivered once, never lost, never twice
(issue 14, item 8). The export runs in a child process that kills itself at the step; the
operator then runs the export again, as after any crash. SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ecmbill.claims.close import close_period
from ecmbill.claims.export import NothingToExport, export_claims
from ecmbill.claims.views import list_claims
from ecmbill.contract import Contract
from tests.claims.world import OCTOBER, configure, load
from tests.conftest import TODAY

ROOT = Path(__file__).resolve().parents[2]
# Runs one export and dies (SIGKILL, no clean-up of any kind) at the step named.
CHILD = """
import os, signal, sys
from pathlib import Path
from ecmbill.claims import export
from ecmbill.domain.period import Period
from ecmbill.store import claims as stored
from ecmbill.store.db import make_engine

url, step, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
real_replace, real_write, real_record = os.replace, export.write_atomically, stored.record_exports

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def half_written(target, write):  # dies with the pending file half written
    def partly(path):
        write(path)
        with open(path, "r+b") as handle:
            handle.truncate(40)
        die()
    real_write(target, partly)

def record_then_die(*args, **kwargs):  # dies after recording, before the commit
    real_record(*args, **kwargs)
    die()

def replace(src, dst):
    publishing = Path(src).name.startswith(export.PENDING_PREFIX)
    if publishing and step == "committed":
        die()  # the export is committed, the file not yet renamed
    real_replace(src, dst)
    if publishing and step == "published":
        die()  # renamed; the process dies before returning

if step == "writing":
    export.write_atomically = half_written
elif step == "recording":
    stored.record_exports = record_then_die
os.replace = replace
export.export_claims(make_engine(url), Period(2026, 10), "837p", out, actor="crash")
"""
STEPS = ("writing", "recording", "committed", "published")


def delivered_claims(folder: Path) -> list[str]:
    """Patient control numbers in the files an operator sees (hidden files are ours)."""
    numbers = []
    for path in folder.iterdir():
        if not path.name.startswith("."):
            numbers += re.findall(r"(?:^|~)\s*CLM\*([^*]+)\*", path.read_text(encoding="ascii"))
    return sorted(numbers)


@pytest.mark.parametrize("step", STEPS)
def test_a_kill_at_any_step_of_an_export_neither_loses_nor_repeats_a_claim(
    engine: Engine, contract: Contract, tmp_path: Path, step: str
) -> None:
    load(engine, tmp_path, contract)
    configure(engine)
    close_period(engine, OCTOBER, contract, actor="test", today=TODAY)
    claims = sorted(c.patient_control_number for c in list_claims(engine, OCTOBER))
    sent = tmp_path / "sent"
    sent.mkdir()
    url = engine.url.render_as_string(hide_password=False)
    child = subprocess.run(
        [sys.executable, "-c", CHILD, url, step, str(sent / "october.837")],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    with contextlib.suppress(NothingToExport):  # the operator exports again, same folder
        export_claims(engine, OCTOBER, "837p", sent / "again.837", actor="test")
    assert delivered_claims(sent) == claims
    assert not any(p.name.startswith(".") for p in sent.iterdir())  # nothing left behind
