"""A biller's desk for the correction tests (issue 12): the ``ecmbill`` command on one database
(the ``engine`` fixture: SQLite and PostgreSQL), the rating of a period and the next close.

Each test writes its world as the CSV files a biller loads, rates the month, closes it,
corrects through the CLI (or the web), rates again and closes again: the rating before and
after and the claims of the next close are what it asserts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from typer.testing import CliRunner

from ecmbill.claims.close import CloseResult, close_period
from ecmbill.cli import app
from ecmbill.cli.app import console, errors
from ecmbill.contract import Contract, default_contract
from ecmbill.contract.model import default_toml
from ecmbill.domain.claims import Action
from ecmbill.domain.lines import PeriodRating
from ecmbill.domain.period import Period
from ecmbill.rating.service import rate
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.builders import csv_text
from tests.claims.world import configure
from tests.conftest import TODAY

OCTOBER = Period(2026, 10)
A, B = "90000001A", "90000002B"
STAFF = """
    staff_id,name,role,npi,effective_from,effective_to
    C1,Carla Clinician,clinical,1234567893,,
    N1,Nico Navigator,non_clinical,,,
"""
# With the address the 837P needs (2010BA): a claim of a member without one is held back.
MEMBERS = f"""
    member_id,first_name,last_name,birth_date,address,city,state,zip,sex
    {A},Ada,Testmember,1970-01-01,12 Main St,El Centro,CA,92243,F
    {B},Ben,Testmember,1980-02-02,14 Main St,El Centro,CA,92243,M
"""
ELIGIBLE = f"""
    member_id,month,eligible
    {A},2026-10,true
    {B},2026-10,true
"""
ENROLLED = f"""
    member_id,start_date,end_date
    {A},2026-01-01,
    {B},2026-01-01,
"""
# Only A enrolled: B is a member still in outreach.
ONLY_A_ENROLLED = f"""
    member_id,start_date,end_date
    {A},2026-01-01,
"""
TIME = "entry_id,staff_id,member_id,date,minutes,activity,modality"
CLOCK_TIME = "staff_id,member_id,date,start_time,end_time,activity,modality"
OUTREACH = "attempt_id,staff_id,member_id,date,method,individualized,outcome"

Line = tuple[str, str, str, int, int]  # member, code, modifiers, minutes, units


class Desk:
    def __init__(self, engine: Engine, folder: Path) -> None:
        self.engine = engine
        self.folder = folder
        self.contract: Contract = default_contract()
        url = engine.url.render_as_string(hide_password=False)
        self.runner = CliRunner(env={"ECMBILL_DATABASE_URL": url, "ECMBILL_USER": "biller"})
        self._files = 0

    def __call__(self, *args: str, code: int | None = 0) -> Any:
        """Run ``ecmbill ARGS``; by default it must succeed."""
        saved = (console._width, errors._width)
        console.width = errors.width = 500  # a reason is never wrapped across lines
        try:
            result = self.runner.invoke(app, list(args))
        finally:
            console._width, errors._width = saved
        if code is not None:
            assert result.exit_code == code, result.output
        return result

    def file(self, name: str, text: str) -> Path:
        self._files += 1
        path = self.folder / f"{self._files:02d}-{name}"
        path.write_text(csv_text(text), encoding="utf-8")
        return path

    def load(self, kind: str, text: str, *options: str, code: int | None = 0) -> Any:
        """``ecmbill import KIND FILE OPTIONS`` of the CSV text."""
        return self("import", kind, str(self.file(f"{kind}.csv", text)), *options, code=code)

    def team(self, enrolled: str = ENROLLED, staff: str = STAFF) -> Desk:
        self.load("staff", staff)
        self.load("members", MEMBERS)
        self.load("eligibility", ELIGIBLE)
        self.load("enrollments", enrolled)
        configure(self.engine)
        return self

    def claimed(self, kind: str, text: str) -> dict[str, Action]:
        """Import the rows and close October on them: the original claims."""
        self.load(kind, text)
        made = self.close()
        assert set(made.values()) == {Action.ORIGINAL}, made
        return made

    def rating(self, period: Period = OCTOBER) -> PeriodRating:
        return rate(self.engine, period, self.contract)

    def lines(self, period: Period = OCTOBER) -> list[Line]:
        return [
            (x.member_id, x.code, " ".join(x.modifiers), x.minutes, x.units)
            for x in self.rating(period).lines
        ]

    def not_billed(self, period: Period = OCTOBER) -> dict[str, str]:
        return {n.id: n.reason_code.value for n in self.rating(period).not_billed}

    def close(self, period: Period = OCTOBER) -> dict[str, Action]:
        """Close the period; the claims it made, by member."""
        result: CloseResult = close_period(
            self.engine, period, self.contract, actor="biller", today=TODAY
        )
        return {claim.member_id: claim.action for claim in result.created}

    def audit(self, entity: str) -> list[tuple[str, str, str | None]]:
        """(action, key, reason) of the audit records of ``entity``, oldest first."""
        with unit_of_work(self.engine) as session:
            rows = session.scalars(
                select(models.AuditRecord)
                .where(models.AuditRecord.entity == entity)
                .order_by(models.AuditRecord.id)
            ).all()
            return [(r.action, r.entity_key, r.reason) for r in rows]

    def merge_contract(self) -> Path:
        """The default contract with ``overlapping_time = "merge"``."""
        text = default_toml().replace('overlapping_time = "refuse"', 'overlapping_time = "merge"')
        assert 'overlapping_time = "merge"' in text
        path = self.folder / "merge.toml"
        path.write_text(text, encoding="utf-8")
        return path
