"""The whole exchange for one month: the plan's MIF and 834 in, the lifecycle recorded, and
the Outreach Tracker and Return Transmission files out, checked cell by cell."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine, func, select

from ecmbill.contract import Contract
from ecmbill.domain.period import Period
from ecmbill.exchange.layouts import default_layouts
from ecmbill.exchange.otf import write_otf
from ecmbill.exchange.rtf import write_rtf
from ecmbill.imports.mif import import_mif
from ecmbill.imports.reading import read_table
from ecmbill.imports.x834 import import_834
from ecmbill.members import lifecycle
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.conftest import TODAY
from tests.exchange.builders import (
    Member834,
    build_834,
    mif_header,
    mif_row,
    read_csv,
    write_csv,
)
from tests.exchange.conftest import load

OCTOBER = Period.parse("2026-10")
PLAN_NAME = "Community Health Plan of Imperial Valley"
PROVIDER = ["Imperial Care Partners (test)", "1234567893", "123456789"]
UTR_REASON = "ECM provider has not been able to connect with the member after multiple attempts"


def month_of_exchange(engine: Engine, contract: Contract, tmp_path: Path) -> None:
    mif = write_csv(
        tmp_path / "mif.csv",
        mif_header(),
        [
            mif_row("91234567A", "Garcia", "Maria", "01/01/1970"),
            mif_row(
                "92345678B",
                "Lopez",
                "Juan",
                "1980-02-02",
                address="",
                homeless="Y",
                phone="",
                assigned="2026-09-20",
            ),
            mif_row(
                "93456789C",
                "Smith",
                "Linda",
                "1960-03-03",
                pof="Adults with Serious Mental Illness",
                assigned="2026-07-15",
            ),
        ],
    )
    result = import_mif(engine, mif, actor="test", today=TODAY)
    assert (result.rows_read, result.accepted, result.rejected) == (3, 3, 0)

    x834 = tmp_path / "elig.834"
    x834.write_text(
        build_834(
            [
                Member834("91234567A", "GARCIA", "MARIA", "19700101", "20260901"),
                Member834("92345678B", "LOPEZ", "JUAN", "19800202", "20260901"),
                Member834("93456789C", "SMITH", "LINDA", "19600303", "20260701"),
                Member834("94567890D", "NOTOURS", "DANA", "19900404", "20260901"),
            ]
        )
    )
    eligibility = import_834(engine, x834, actor="test", today=TODAY)
    assert eligibility.segment_errors == [] and eligibility.rejections == []
    assert eligibility.not_on_roster == ["94567890D"]

    load(
        engine,
        contract,
        "outreach",
        write_csv(
            tmp_path / "outreach.csv",
            [
                "attempt_id",
                "staff_id",
                "member_id",
                "date",
                "method",
                "individualized",
                "outcome",
                "minutes",
            ],
            [
                ["O1", "S2", "92345678B", "2026-10-01", "phone", "true", "not_reached", "5"],
                ["O2", "S2", "91234567A", "2026-10-02", "phone", "true", "reached", "10"],
                ["O3", "S2", "92345678B", "2026-10-03", "mail", "false", "not_reached", ""],
                ["O4", "S1", "92345678B", "2026-10-08", "text", "true", "not_reached", ""],
                ["O5", "S1", "92345678B", "2026-10-15", "in_person", "true", "not_reached", "30"],
            ],
        ),
    )
    load(
        engine,
        contract,
        "time",
        write_csv(
            tmp_path / "time.csv",
            ["entry_id", "staff_id", "member_id", "date", "minutes", "activity", "modality"],
            [
                ["T1", "S1", "91234567A", "2026-10-06", "60", "assessment", "in_person"],
                ["T2", "S1", "91234567A", "2026-10-08", "30", "care_plan", "in_person"],
                ["T3", "S2", "91234567A", "2026-10-15", "45", "case_conference", "telephonic"],
                ["T4", "S2", "91234567A", "2026-10-20", "20", "documentation", "in_person"],
                ["T5", "S1", "93456789C", "2026-10-03", "30", "care_coordination", "in_person"],
                ["T6", "S1", "93456789C", "2026-09-10", "40", "assessment", "in_person"],
            ],
        ),
    )
    lifecycle.enroll(engine, "93456789C", date(2026, 8, 1), "test")
    lifecycle.enroll(engine, "91234567A", date(2026, 10, 5), "test")
    lifecycle.assign_lead_care_manager(
        engine,
        "91234567A",
        "S1",
        date(2026, 10, 5),
        "test",
        phone="7605550000",
        email="ana@example.org",
    )
    lifecycle.discontinue(engine, "93456789C", date(2026, 10, 10), "06", contract, "test")
    lifecycle.unable_to_reach(engine, "92345678B", date(2026, 10, 20), contract, "test")


def test_mif_and_834_in_give_the_otf_and_rtf_out_cell_by_cell(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    engine = provider
    month_of_exchange(engine, contract, tmp_path)

    with unit_of_work(engine) as session:
        eligible = {
            (m, month): e
            for m, month, e in session.execute(
                select(
                    models.Eligibility.member_id,
                    models.Eligibility.month,
                    models.Eligibility.eligible,
                )
            )
        }
        outsiders = session.scalar(
            select(func.count())
            .select_from(models.Member)
            .where(models.Member.member_id == "94567890D")
        )
    assert outsiders == 0  # listed, never added
    assert eligible[("91234567A", "2026-10")] is True
    assert eligible[("93456789C", "2026-07")] is True
    assert ("91234567A", "2026-08") not in eligible  # before the first month covered

    otf = write_otf(engine, OCTOBER, tmp_path / "otf.csv")
    plan = ["CHPIV", PLAN_NAME, *PROVIDER]
    assert otf.identity_missing == ()
    assert read_csv(otf.path) == [
        list(default_layouts().otf_columns.values()),
        [*plan, "Lopez, Juan", "92345678B", "Non-Clinical", "10/01/2026", "Telephone", "N", "5"],
        [*plan, "Garcia, Maria", "91234567A", "Non-Clinical", "10/02/2026", "Telephone", "Y", "10"],
        [*plan, "Lopez, Juan", "92345678B", "Clinical", "10/08/2026", "Text Message", "N", ""],
        [*plan, "Lopez, Juan", "92345678B", "Clinical", "10/15/2026", "In Person", "N", "30"],
    ]  # the mass mailing of 10/03 never appears

    rtf = write_rtf(engine, OCTOBER, contract, tmp_path / "rtf.csv", produced_on=TODAY)
    tail = ["11/25/2026", "2026-10", *PROVIDER, "7605559999"]
    assert read_csv(rtf.path) == [
        list(default_layouts().rtf_columns.values()),
        [
            "CHPIV",
            PLAN_NAME,
            "91234567A",
            "Garcia",
            "Maria",
            "N",
            "N",
            "12 Main St",
            "El Centro",
            "CA",
            "92243",
            "N",
            "7605551234",
            "N",
            "Adults Experiencing Homelessness",
            "Enrolled",
            "",
            "10/05/2026",
            "",
            "10/08/2026",
            "10/15/2026",
            "10/06/2026",
            "10/06/2026",
            "10/15/2026",
            "Ana Clinician",
            "7605550000",
            "ana@example.org",
            "",
            "",
            "",
            "2",
            "1",
            *tail,
        ],
        [
            "CHPIV",
            PLAN_NAME,
            "92345678B",
            "Lopez",
            "Juan",
            "N",
            "Y",
            "",
            "El Centro",
            "CA",
            "92243",
            "N",
            "",
            "N",
            "Adults Experiencing Homelessness",
            "Unable to Reach",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "10/20/2026",
            "04",
            UTR_REASON,
            "0",
            "0",
            *tail,
        ],
        [
            "CHPIV",
            PLAN_NAME,
            "93456789C",
            "Smith",
            "Linda",
            "N",
            "N",
            "12 Main St",
            "El Centro",
            "CA",
            "92243",
            "N",
            "7605551234",
            "N",
            "Adults with Serious Mental Illness",
            "Discontinued",
            "",
            "08/01/2026",
            "10/10/2026",
            "",
            "",
            "09/10/2026",
            "09/10/2026",
            "10/03/2026",
            "",
            "",
            "",
            "10/10/2026",
            "06",
            "Member has moved out of the service area",
            "1",
            "0",
            *tail,
        ],
    ]


def _iso(cell: str) -> str:
    """A CSV date (MM/DD/YYYY) as read_table gives an XLSX date cell back (ISO)."""
    month, day, year = cell.split("/") if cell.count("/") == 2 else ("", "", "")
    return f"{year}-{month}-{day}" if year else cell


def test_the_xlsx_files_hold_the_same_cells_with_real_dates(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    engine = provider
    month_of_exchange(engine, contract, tmp_path)
    for name, write in (
        ("otf", lambda out: write_otf(engine, OCTOBER, out)),
        ("rtf", lambda out: write_rtf(engine, OCTOBER, contract, out, produced_on=TODAY)),
    ):
        csv_rows = read_csv(write(tmp_path / f"{name}.csv").path)
        xlsx = read_table(write(tmp_path / f"{name}.xlsx").path)
        assert list(xlsx.header) == csv_rows[0]
        assert [list(row.values) for row in xlsx.rows] == [
            [_iso(cell) for cell in row] for row in csv_rows[1:]
        ]
    assert not list(tmp_path.glob(".*.tmp"))
