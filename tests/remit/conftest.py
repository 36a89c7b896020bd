"""October's claims, closed and sent as an 837P, for the remittances to answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from ecmbill.claims.close import close_period
from ecmbill.claims.export import export_claims
from ecmbill.contract import Contract
from tests.claims.world import OCTOBER, configure, load
from tests.conftest import TODAY


@pytest.fixture
def closed(engine: Engine, contract: Contract, tmp_path: Path) -> Engine:
    load(engine, tmp_path, contract)
    configure(engine)
    close_period(engine, OCTOBER, contract, actor="test", today=TODAY)
    export_claims(engine, OCTOBER, "837p", tmp_path / "october.837", actor="test")
    return engine
