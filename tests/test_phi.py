"""PHI (member ids, names, birth dates) never reaches a log or an exception message."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError

from ecmbill.contract import Contract
from ecmbill.domain.period import Period
from ecmbill.members.lifecycle import check_unable_to_reach
from ecmbill.rating.service import honesty
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.builders import Ledger

PHI = (
    "10000001A",
    "10000002B",
    "10000003C",
    "10000007G",
    "Ada",
    "Ben",
    "Testmember",
    "Zelda",
    "Quixote",
    "1970-01-01",
    "1980-02-02",
    "1955-05-05",
    "05/05/1955",
)


def assert_no_phi(text: str) -> None:
    leaked = [value for value in PHI if value.lower() in text.lower()]
    assert not leaked, f"PHI in output: {leaked}"


def test_imports_with_bad_rows_and_the_rating_log_no_phi(
    store_engine: Engine,
    contract: Contract,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # SQL statements and their parameters are logged at INFO by SQLAlchemy when enabled.
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    book = Ledger(store_engine, contract, tmp_path).team()
    results = [
        book.load(
            "members",
            """
            member_id,first_name,last_name,birth_date
            10000003C,Zelda,Quixote,05/05/1955
            10000003C,Zelda,Quixote,1955-05-06
            1000000X7,Zelda,=Quixote,1955-05-05
            10000007G,Zelda,Quixote,2099-01-01
            """,
            expect_exit=1,
        ),
        book.load(
            "time",
            """
            entry_id,staff_id,member_id,date,minutes,activity,modality
            T1,C1,10000001A,2026-10-05,30,care_coordination,in_person
            T2,C1,10000007G,2026-10-05,30,care_coordination,in_person
            T3,C1,10000002B,1955-05-05,30,care_coordination,in_person
            T4,C1,10000002B,2026-10-05,30,billing,in_person
            """,
            expect_exit=1,
        ),
    ]
    honesty(store_engine, Period.parse("2026-10"), contract)
    check_unable_to_reach(store_engine, "10000002B", contract)

    assert any("INSERT INTO members" in r.getMessage() for r in caplog.records)
    assert_no_phi(caplog.text)
    for result in results:
        for rejection in result.rejections:
            assert_no_phi(rejection.reason)


def test_a_database_error_hides_the_statement_parameters(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    Ledger(engine, contract, tmp_path).team()
    with pytest.raises(IntegrityError) as failure, unit_of_work(engine) as session:
        session.execute(
            insert(models.Member),
            [
                {
                    "member_id": "10000001A",
                    "first_name": "Zelda",
                    "last_name": "Quixote",
                    "birth_date": date(1955, 5, 5),
                }
            ],
        )
    message = str(failure.value)
    assert "hide_parameters" in message
    assert "members" in message  # still says which constraint: pk_members / members.member_id
    assert_no_phi(message)
    # A traceback also prints the driver's own exception, chained as the cause.
    assert_no_phi(str(failure.value.orig))
