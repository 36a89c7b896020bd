from pathlib import Path

import pytest
from sqlalchemy import Engine

from ecmbill.contract import Contract
from tests.builders import Ledger


@pytest.fixture
def book(engine: Engine, contract: Contract, tmp_path: Path) -> Ledger:
    """A ledger on SQLite and on PostgreSQL, with the usual team already loaded."""
    return Ledger(engine, contract, tmp_path).team()


@pytest.fixture
def empty_book(engine: Engine, contract: Contract, tmp_path: Path) -> Ledger:
    return Ledger(engine, contract, tmp_path)
