"""A tiny ledger for tests: CSV text written inline in the test, imported through the real
importer, then rated through the real rating. A test reads like the files a biller would load.

    book = Ledger(engine, contract, tmp_path)
    book.load("time", '''
        entry_id,staff_id,member_id,date,minutes,activity,modality
        T1,C1,10000001A,2026-10-02,25,care_coordination,in_person
    ''')
    rating = book.rate("2026-10")
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Engine, func, select

from ecmbill.contract import Contract
from ecmbill.domain.lines import ClaimLine, NotBilled, PeriodRating
from ecmbill.domain.period import Period
from ecmbill.imports.batch import ImportResult
from ecmbill.imports.service import import_file
from ecmbill.rating.service import rate
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.conftest import TODAY

# Two clinical staff, one more clinical, one non-clinical; one member enrolled and eligible
# all autumn. Tests that need something else load their own files on top or instead.
STAFF = """
    staff_id,name,role,npi,effective_from,effective_to
    C1,Carla Clinician,clinical,1234567893,,
    C2,Chris Clinician,clinical,,,
    C3,Cam Clinician,clinical,,,
    N1,Nico Navigator,non_clinical,,,
"""
MEMBER = "10000001A"
MEMBERS = """
    member_id,first_name,last_name,birth_date
    10000001A,Ada,Testmember,1970-01-01
    10000002B,Ben,Testmember,1980-02-02
"""
ELIGIBLE_AUTUMN = """
    member_id,month,eligible
    10000001A,2026-09,true
    10000001A,2026-10,true
    10000001A,2026-11,true
    10000002B,2026-09,true
    10000002B,2026-10,true
    10000002B,2026-11,true
"""
ENROLLED_SINCE_SEPTEMBER = """
    member_id,start_date,end_date
    10000001A,2026-09-01,
    10000002B,2026-09-01,
"""


def csv_text(text: str) -> str:
    return textwrap.dedent(text).strip() + "\n"


class Ledger:
    def __init__(self, engine: Engine, contract: Contract, folder: Path) -> None:
        self.engine = engine
        self.contract = contract
        self.folder = folder
        self._files = 0

    def write(self, name: str, text: str) -> Path:
        self._files += 1
        path = self.folder / f"{self._files:02d}-{name}"
        path.write_text(csv_text(text), encoding="utf-8")
        return path

    def load(self, kind: str, text: str, *, expect_exit: int | None = 0) -> ImportResult:
        """Import CSV text as a ``kind`` file; by default every row must be accepted."""
        result = import_file(
            self.engine,
            kind,
            self.write(f"{kind}.csv", text),
            self.contract,
            actor="test",
            today=TODAY,
        )
        if expect_exit is not None:
            assert result.exit_code == expect_exit, (result.file_problem, result.rejections)
        return result

    def team(self) -> Ledger:
        """The usual cast: staff, two members, eligible Sep-Nov, enrolled since September."""
        self.load("staff", STAFF)
        self.load("members", MEMBERS)
        self.load("eligibility", ELIGIBLE_AUTUMN)
        self.load("enrollments", ENROLLED_SINCE_SEPTEMBER)
        return self

    def rate(self, period: str = "2026-10") -> PeriodRating:
        return rate(self.engine, Period.parse(period), self.contract)

    def audit_rows(self) -> int:
        with unit_of_work(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(models.AuditRecord)) or 0)


def lines(rating: PeriodRating) -> list[tuple[str, str, tuple[str, ...], int, int]]:
    """member, code, modifiers, minutes, units of every line: the numbers a biller checks."""
    return [(x.member_id, x.code, x.modifiers, x.minutes, x.units) for x in rating.lines]


def reasons(items: Iterable[NotBilled]) -> dict[str, tuple[str, str]]:
    return {item.id: (item.reason_code.value, item.reason) for item in items}


def only_line(rating: PeriodRating) -> ClaimLine:
    assert len(rating.lines) == 1, rating.lines
    return rating.lines[0]
