"""A small, readable October 2026 for claims tests, loaded through the real importer.

Members: A and C are enrolled all month, B too; D is not enrolled until November and only has
outreach attempts. S1 is clinical with an NPI, S2 non-clinical without one.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Engine, delete, select

from ecmbill.claims.settings import set_settings
from ecmbill.claims.views import ClaimView
from ecmbill.contract import Contract
from ecmbill.domain.period import Period
from ecmbill.imports.service import import_file
from ecmbill.store import audit, models
from ecmbill.store.db import unit_of_work
from tests.conftest import TODAY

OCTOBER = Period(2026, 10)
A, B, C, D = "91234567A", "92345678B", "93456789C", "94567890D"
S1_NPI = "1234567893"

SETTINGS = {
    "billing_name": "Test ECM Provider",
    "billing_npi": "1245319599",
    "billing_ein": "12-3456789",
    "billing_taxonomy": "251S00000X",
    "billing_address": "100 Main St",
    "billing_city": "Oakland",
    "billing_state": "CA",
    "billing_zip": "94612-1234",
    "billing_phone": "5105550100",
    "billing_contact": "Pat Biller",
    "payer_name": "Test Health Plan",
    "payer_id": "TESTPLAN",
    "submitter_id": "ECMTEST",
    "receiver_id": "TESTPLAN",
    "receiver_name": "Test Health Plan",
    "place_of_service": "11",
    "diagnosis_code": "Z59.8",
    "rendering_npi_on_line": "yes",
    "usage": "T",
}

MEMBER_HEADER = ["member_id", "first_name", "last_name", "birth_date", "address", "city", "state",
                 "zip", "sex"]  # fmt: skip
ADDRESS = ["12 Main St", "El Centro", "CA", "92243"]
TIME_HEADER = ["entry_id", "staff_id", "member_id", "date", "minutes", "activity", "modality"]
OCTOBER_TIME = [
    ["A-1", "S1", A, "2026-10-05", "30", "assessment", "in_person"],
    ["A-2", "S1", A, "2026-10-20", "20", "care_plan", "in_person"],
    ["B-1", "S2", B, "2026-10-07", "45", "care_coordination", "telephonic"],
    ["C-1", "S1", C, "2026-10-10", "90", "assessment", "in_person"],
    ["C-2", "S2", C, "2026-10-12", "60", "health_promotion", "in_person"],
]
OUTREACH_HEADER = ["attempt_id", "staff_id", "member_id", "date", "method", "individualized",
                   "outcome"]  # fmt: skip
OCTOBER_OUTREACH = [
    ["D-1", "S1", D, "2026-10-02", "phone", "true", "not_reached"],
    ["D-2", "S2", D, "2026-10-09", "in_person", "true", "reached"],
]


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def load(
    engine: Engine,
    folder: Path,
    contract: Contract,
    *,
    time: Sequence[Sequence[str]] = OCTOBER_TIME,
    outreach: Sequence[Sequence[str]] = OCTOBER_OUTREACH,
    first_names: dict[str, str] | None = None,
    without_address: Sequence[str] = (),
) -> None:
    names = first_names or {}
    files = [
        ("staff", ["staff_id", "name", "role", "npi"],
         [["S1", "Maria Lopez", "clinical", S1_NPI], ["S2", "Sam Chen", "non_clinical", ""]]),
        ("members", MEMBER_HEADER,
         [[m, names.get(m, f"Member{m[-1]}"), "Test", "1980-01-02", *ADDRESS, "F"]
          for m in (A, B, C, D) if m not in without_address]
         + [[m, names.get(m, f"Member{m[-1]}"), "Test", "1980-01-02", "", "", "", "", ""]
            for m in without_address]),
        ("eligibility", ["member_id", "month", "eligible"],
         [[m, "2026-10", "true"] for m in (A, B, C, D)]),
        ("enrollments", ["member_id", "start_date"],
         [[A, "2026-01-01"], [B, "2026-01-01"], [C, "2026-01-01"], [D, "2026-11-01"]]),
        ("time", TIME_HEADER, time),
        ("outreach", OUTREACH_HEADER, outreach),
    ]  # fmt: skip
    for kind, header, rows in files:
        if not rows:
            continue
        path = write_csv(folder / f"{kind}.csv", header, rows)
        result = import_file(engine, kind, path, contract, actor="test", today=TODAY)
        assert result.rejections == [], (kind, result.rejections)


def add_time(
    engine: Engine, folder: Path, contract: Contract, rows: Sequence[Sequence[str]]
) -> None:
    path = write_csv(folder / "late-time.csv", TIME_HEADER, rows)
    result = import_file(engine, "time", path, contract, actor="test", today=TODAY)
    assert result.rejections == [], result.rejections


def delete_time_of(engine: Engine, member_id: str) -> None:
    """What an edit tool does when a biller deletes entries: remove them and audit it."""
    with unit_of_work(engine) as session:
        entries = session.scalars(
            select(models.TimeEntry).where(models.TimeEntry.member_id == member_id)
        ).all()
        now = audit.now()
        audit.record(
            session,
            [
                audit.audit_row(
                    actor="test", at=now, action="delete", entity="time", key=entry.entry_id,
                    before={"date": entry.date, "minutes": entry.minutes}, after=None,
                )
                for entry in entries
            ],
        )  # fmt: skip
        session.execute(delete(models.TimeEntry).where(models.TimeEntry.member_id == member_id))


def configure(engine: Engine, **changes: str) -> None:
    set_settings(engine, {**SETTINGS, **changes}, actor="test")


def lines_json(view: ClaimView) -> list[dict[str, object]]:
    return json.loads(
        json.dumps(
            [
                {"code": line.code, "modifiers": list(line.modifiers), "units": line.units,
                 "charge": f"{line.charge:.2f}"}
                for line in view.lines
            ]
        )
    )  # fmt: skip
