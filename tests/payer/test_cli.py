"""``ecmbill eligibility request|import``, ``ecmbill ack import|rejected`` and the timeline in
``ecmbill claims show``, as a biller runs the month: 270 → 271 → close → 837P → 999 → 277CA."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from ecmbill.cli import app
from ecmbill.contract import Contract
from tests.claims.world import configure, load

FIXTURES = Path(__file__).with_name("fixtures")
runner = CliRunner()


def test_the_monthly_cycle_from_the_command_line(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    load(store_engine, tmp_path, contract)
    configure(store_engine)
    db = ["--database", store_engine.url.render_as_string(hide_password=False)]

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, [*args, *db])
        assert result.exit_code == code, result.output
        return result.output

    out = run("eligibility", "request", "--period", "2026-10", "--out", str(tmp_path / "o.270"))
    assert "Wrote 3 member(s) in 1 transaction set(s)" in out
    out = run("eligibility", "import", str(FIXTURES / "october.271"))
    assert "271: 1 eligible, 2 not eligible" in out
    assert "coverage inactive in 2026-10" in out and "subscriber not found" in out
    assert "imported before" in run("eligibility", "import", str(FIXTURES / "october.271"))
    run("close", "--period", "2026-10")
    run("claims", "export", "--period", "2026-10", "--format", "837p", "--out",
        str(tmp_path / "o.837"))  # fmt: skip
    # The 270 took control numbers 1: the 837P is group 2, transaction set 0002.
    answer = tmp_path / "o.999"
    text = (FIXTURES / "rejected.999").read_text()
    answer.write_text(
        text.replace("AK1*HC*1*", "AK1*HC*2*").replace("AK2*837*0001", "AK2*837*0002")
    )
    out = run("ack", "import", str(answer))
    assert "999 for group 2, transaction set 0002 (2 claim(s)): rejected" in out
    assert "required segment missing" in out
    out = run("ack", "rejected", "--period", "2026-10")
    assert "2 rejected claim(s) to correct and send again." in out
    out = run("claims", "show", "ECM000000001")
    assert "file rejected" in out and "sent" in out
    refused = run("ack", "import", str(FIXTURES / "truncated.277"), code=2)
    assert "nothing changed" in refused and "truncated" in refused
