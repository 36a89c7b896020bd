"""A provider with two staff members and the work of October 2026, imported through the
foundation's imports, for the exchange tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from ecmbill.contract import Contract
from ecmbill.exchange.identity import set_provider_identity
from ecmbill.imports.service import import_file
from tests.conftest import TODAY
from tests.exchange.builders import write_csv

IDENTITY = {
    "provider_name": "Imperial Care Partners (test)",
    "provider_npi": "1234567893",
    "provider_tin": "123456789",
    "provider_phone": "7605559999",
    "mcp_id": "CHPIV",
    "mcp_name": "Community Health Plan of Imperial Valley",
}


def load(engine: Engine, contract: Contract, kind: str, path: Path) -> None:
    result = import_file(engine, kind, path, contract, actor="test", today=TODAY)
    assert result.file_problem is None and not result.rejections, result.rejections


@pytest.fixture
def provider(engine: Engine, contract: Contract, tmp_path: Path) -> Engine:
    staff = write_csv(
        tmp_path / "staff.csv",
        ["staff_id", "name", "role", "npi"],
        [
            ["S1", "Ana Clinician", "clinical", "1234567893"],
            ["S2", "Ben Worker", "non_clinical", ""],
        ],
    )
    load(engine, contract, "staff", staff)
    set_provider_identity(engine, IDENTITY, "test")
    return engine
