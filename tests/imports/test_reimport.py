"""A corrected file updates what it changes, keeps the history, and never bills twice."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, func, select

from ecmbill.contract import Contract
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.builders import Ledger, lines

NO_ID_TIME = "staff_id,member_id,date,minutes,activity,modality"


def rows(engine: Engine, model: type[models.Base]) -> int:
    with unit_of_work(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_corrected_role_without_dates_updates_the_role_instead_of_adding_one(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    book = Ledger(engine, contract, tmp_path).team()
    book.load("time", f"{NO_ID_TIME}\nC1,10000001A,2026-10-05,30,care_coordination,in_person")
    assert lines(book.rate())[0][1] == "G9008"
    fixed = book.load("staff", "staff_id,name,role,npi\nC1,Carla Clinician,non_clinical,1234567893")
    assert fixed.changed == 1
    assert rows(engine, models.StaffRole) == 4
    assert lines(book.rate()) == [("10000001A", "G9012", ("U2",), 30, 1)]


def test_a_corrected_time_file_updates_the_minutes_and_bills_them_once(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    book = Ledger(engine, contract, tmp_path).team()
    book.load("time", f"{NO_ID_TIME}\nC1,10000001A,2026-10-05,30,care_coordination,in_person")
    fixed = book.load(
        "time", f"{NO_ID_TIME}\nC1,10000001A,2026-10-05,65,care_coordination,in_person"
    )
    assert fixed.changed == 1
    assert rows(engine, models.TimeEntry) == 1
    assert lines(book.rate()) == [("10000001A", "G9008", ("U1",), 65, 2)]


def test_late_eligibility_replaces_the_month_and_the_change_is_kept_in_history(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    book = Ledger(engine, contract, tmp_path).team()
    audit_before = book.audit_rows()
    book.load("eligibility", "member_id,month,eligible\n10000001A,2026-10,false")
    book.load("eligibility", "member_id,month,eligible\n10000001A,2026-10,true")
    assert book.audit_rows() == audit_before + 2
    with unit_of_work(engine) as session:
        trail = session.scalars(
            select(models.AuditRecord)
            .where(
                models.AuditRecord.entity == "eligibility",
                models.AuditRecord.entity_key == "10000001A/2026-10/default",
            )
            .order_by(models.AuditRecord.id)
        ).all()
        stored = session.get(models.Eligibility, ("10000001A", "2026-10", "default"))
        assert stored is not None and stored.eligible is True
    assert [(a.action, a.actor) for a in trail] == [
        ("create", "test"),
        ("update", "test"),
        ("update", "test"),
    ]
    assert [json.loads(a.after)["eligible"] for a in trail] == [True, False, True]
    assert json.loads(trail[1].before)["eligible"] is True


def test_a_clean_import_removes_the_rejects_file_an_earlier_import_left(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    from ecmbill.imports.service import import_file

    members = tmp_path / "members.csv"
    members.write_text(
        "member_id,first_name,last_name,birth_date\n10000001A,Test,One,1970-01-01\nBAD,Test,Two,1970-01-01\n",
        encoding="utf-8",
    )
    first = import_file(store_engine, "members", members, contract, actor="t")
    assert first.rejects_file is not None and first.rejects_file.exists()
    members.write_text(
        "member_id,first_name,last_name,birth_date\n10000001A,Test,One,1970-01-01\n",
        encoding="utf-8",
    )
    fixed = import_file(store_engine, "members", members, contract, actor="t")
    assert fixed.exit_code == 0
    assert not first.rejects_file.exists()
