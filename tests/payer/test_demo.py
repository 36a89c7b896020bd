"""``ecmbill demo`` runs the monthly cycle with simulated payer answers: our 270, a 271 in
which a member lost eligibility, one 837P per payer, and each payer's 999 and 277CA (together
rejecting a few claims)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecmbill.cli import app
from ecmbill.x12.validation import envelope_errors
from tests.claims.x12check import x12_errors
from tests.payer.x279check import x279_errors


@pytest.mark.slow
def test_the_demos_270_passes_x12sdk_and_pyx12_and_its_simulated_answers_show_their_effect(
    tmp_path: Path,
) -> None:
    result = CliRunner().invoke(
        app,
        ["demo", "--database", f"sqlite:///{tmp_path / 'demo.db'}", "--period", "2026-10",
         "--members", "60"],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # pyx12 has no map of 005010X279A1: its reader checks the 270's envelope, control numbers,
    # segment counts and HL numbering; x12sdk checks the transaction sets against the guide.
    for name in ("demo-270.txt", "demo-271.txt", "demo-270-chp2.txt", "demo-271-chp2.txt"):
        assert envelope_errors((tmp_path / name).read_text(encoding="ascii")) == [], name
        assert x279_errors(tmp_path / name) == [], name
    for payer in ("default-DEMOPLAN", "chp2-DEMOCHP2"):
        for name in (f"demo-999-{payer}.txt", f"demo-277ca-{payer}.txt"):
            assert x12_errors(tmp_path / name) == [], name
    # Each plan's payer is asked about its own members: the two who move mid-month by both.
    asked = re.findall(
        r"270 for 2026-10 to plan (\w+)'s payer: (\d+) member\(s\) asked", result.output
    )
    assert [plan for plan, _ in asked] == ["default", "chp2"]
    assert sum(int(count) for _, count in asked) == 60 + 2
    assert "1 not eligible" in result.output and "coverage inactive in 2026-10" in result.output
    # 60 members: 40 claims to the default plan's payer, 21 to chp2's (chp2's own 271 makes
    # one of the movers eligible with it, so that mover bills both plans), each accepted;
    # every twentieth claim of the month (from the sixth) rejected, whichever payer has it.
    assert "(40 claim(s)): accepted" in result.output
    assert "(21 claim(s)): accepted" in result.output
    assert "2 claim(s) rejected: correct what the reason names" in result.output
    assert "1 claim(s) rejected: correct what the reason names" in result.output
    assert "Subscriber and subscriber id not found" in result.output
    assert "3 rejected claim(s) to correct and send again." in result.output
