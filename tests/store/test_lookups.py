"""The read-only look-ups the web shows: names, the audit trail a page at a time, and a
stored time entry as plain values."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from ecmbill.contract import Contract
from ecmbill.imports.service import import_file
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from ecmbill.store.fieldwork import time_entry_view
from ecmbill.store.lookups import audit_page, member_names, staff_names
from tests.conftest import TODAY

FILES = {
    "staff": "staff_id,name,role,npi,effective_from,effective_to\n"
    "S2,Ben Road,non_clinical,,,\nS1,Ana Field,clinical,1698797309,,\n",
    "members": "member_id,first_name,last_name,birth_date\n"
    "91234567A,Maria,Garcia,1950-01-02\n92345678B,Jose,Lopez,1962-03-04\n",
    "time": "entry_id,staff_id,member_id,date,start_time,end_time,activity,modality,note\n"
    "E1,S1,91234567A,2026-10-05,09:00,09:50,care_coordination,in_person,\n",
}


def stored(engine: Engine, contract: Contract, folder: Path) -> None:
    for kind, text in FILES.items():
        path = folder / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        result = import_file(engine, kind, path, contract, actor="test", today=TODAY)
        assert result.exit_code == 0, result.rejections


def test_names_are_found_for_the_identifiers_that_exist(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    stored(store_engine, contract, tmp_path)
    assert member_names(store_engine, {"91234567A", "99999999Z", ""}) == {
        "91234567A": "Garcia, Maria"
    }
    assert member_names(store_engine, set()) == {}
    # A page's whole list (thousands of ids: Billing sorts every line by name) is looked up by
    # one scan, not thousands of bound parameters: the same answer.
    many = {f"{n:08d}Z" for n in range(5000)} | {"91234567A"}
    assert member_names(store_engine, many) == {"91234567A": "Garcia, Maria"}
    assert list(staff_names(store_engine).items()) == [("S1", "Ana Field"), ("S2", "Ben Road")]


def test_the_audit_trail_is_read_newest_first_a_page_at_a_time(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    stored(store_engine, contract, tmp_path)
    everything = audit_page(store_engine, size=1000)
    assert not everything.more
    assert everything.lines[0].entity == "time"  # imported last
    pages = [audit_page(store_engine, page=1, size=2)]
    while pages[-1].more:
        pages.append(audit_page(store_engine, page=len(pages) + 1, size=2))
    assert len(pages) == (len(everything.lines) + 1) // 2 > 1
    assert [line for page in pages for line in page.lines] == everything.lines
    assert audit_page(store_engine, page=0, size=2) == pages[0]
    members = audit_page(store_engine, entity="members")
    assert {line.entity_key for line in members.lines} == {"91234567A", "92345678B"}


def test_a_time_entry_with_clock_times_is_shown_in_the_form_by_its_times(
    store_engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    stored(store_engine, contract, tmp_path)
    with unit_of_work(store_engine) as session:
        entry = session.get(models.TimeEntry, "E1")
    assert entry is not None
    view = time_entry_view(entry)
    assert view.date == date(2026, 10, 5) and view.minutes == 50
    assert view.form_values()["minutes"] == "" and view.form_values()["start_time"] == "09:00"
    assert view.as_json()["date"] == "2026-10-05"
    assert view.values()["date"] == date(2026, 10, 5)
    assert list(view.as_json()) == [
        "entry_id", "staff_id", "member_id", "date", "minutes", "start_time", "end_time",
        "activity", "modality", "note",
    ]  # fmt: skip
