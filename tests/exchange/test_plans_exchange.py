"""Several plans, data out: each plan's Outreach Tracker and Return Transmission files hold
only the members who were that plan's on the file's dates."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from ecmbill.contract import Contract
from ecmbill.domain.period import Period
from ecmbill.exchange.otf import plan_file_name, write_otf
from ecmbill.exchange.rtf import write_rtf
from ecmbill.imports.mif import import_mif
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import unit_of_work
from tests.conftest import TODAY
from tests.exchange.builders import mif_header, mif_row, read_csv, write_csv
from tests.exchange.conftest import load

OCTOBER = Period.parse("2026-10")
ADA, BEN = "91234567A", "92345678B"
OUTREACH = ["attempt_id", "staff_id", "member_id", "date", "method", "individualized", "outcome"]


def two_plans_month(engine: Engine, contract: Contract, tmp_path: Path) -> None:
    """Ada and Ben are the first plan's; plan B is added and its MIF gives Ben plan B from
    Oct 10. Each is reached by phone in October, Ben once before and once after Oct 10."""
    mif = write_csv(
        tmp_path / "mif.csv",
        mif_header(),
        [mif_row(ADA, "Garcia", "Ada", "1970-01-01"), mif_row(BEN, "Lopez", "Ben", "1980-02-02")],
    )
    assert import_mif(engine, mif, actor="test", today=TODAY).rejected == 0
    with unit_of_work(engine) as session:
        stored_plans.add_plan(
            session, "b", "Plan B", None, {"payer_id": "PLANB", "payer_name": "Plan B Health"},
            actor="test",
        )  # fmt: skip
    mif_b = write_csv(
        tmp_path / "mif-b.csv",
        mif_header(),
        [mif_row(BEN, "Lopez", "Ben", "1980-02-02", assigned="2026-10-10", plan="PLANB")],
    )
    assert import_mif(engine, mif_b, actor="test", today=TODAY, plan="b").rejected == 0
    load(
        engine,
        contract,
        "outreach",
        write_csv(
            tmp_path / "outreach.csv",
            OUTREACH,
            [
                ["O1", "S2", ADA, "2026-10-02", "phone", "true", "reached"],
                ["O2", "S2", BEN, "2026-10-03", "phone", "true", "not_reached"],
                ["O3", "S2", BEN, "2026-10-12", "phone", "true", "not_reached"],
            ],
        ),
    )


def test_each_plans_outreach_tracker_lists_only_that_plans_members_on_the_attempt_date(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    two_plans_month(provider, contract, tmp_path)
    first = write_otf(provider, OCTOBER, tmp_path / "otf.csv")  # no plan: the first plan's
    plan_b = write_otf(provider, OCTOBER, tmp_path / "otf-b.csv", plan="b")
    assert (first.plan, plan_b.plan) == ("default", "b")
    # member_id is the 7th column, the date the 9th.
    assert [(row[6], row[8]) for row in read_csv(first.path)[1:]] == [
        (ADA, "10/02/2026"),
        (BEN, "10/03/2026"),  # Ben was still the first plan's on Oct 3
    ]
    b_rows = read_csv(plan_b.path)[1:]
    assert [(row[6], row[8]) for row in b_rows] == [(BEN, "10/12/2026")]
    # The MIF's plan id names the plan, as for the first plan's file.
    assert b_rows[0][0] == "PLANB"


def test_each_plans_return_transmission_lists_the_members_it_had_in_the_period(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    two_plans_month(provider, contract, tmp_path)
    first = write_rtf(provider, OCTOBER, contract, tmp_path / "rtf.csv", produced_on=TODAY)
    plan_b = write_rtf(
        provider, OCTOBER, contract, tmp_path / "rtf-b.csv", produced_on=TODAY, plan="b"
    )
    # member_id is the 3rd column. Ben moved on Oct 10: both plans report him for October.
    assert [row[2] for row in read_csv(first.path)[1:]] == [ADA, BEN]
    assert [row[2] for row in read_csv(plan_b.path)[1:]] == [BEN]


def test_in_an_office_of_one_plan_the_files_are_as_before(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    mif = write_csv(
        tmp_path / "mif.csv", mif_header(), [mif_row(ADA, "Garcia", "Ada", "1970-01-01")]
    )
    assert import_mif(provider, mif, actor="test", today=TODAY).rejected == 0
    load(
        provider,
        contract,
        "outreach",
        write_csv(
            tmp_path / "outreach.csv",
            OUTREACH,
            [["O1", "S2", ADA, "2026-10-02", "phone", "true", "reached"]],
        ),
    )
    written = write_otf(provider, OCTOBER, tmp_path / "otf.csv")
    assert (written.rows, written.plan) == (1, None)


def test_a_plans_file_name_carries_its_key() -> None:
    assert plan_file_name(Path("out/otf.xlsx"), "b") == Path("out/otf-b.xlsx")
    assert plan_file_name(Path("out/otf-b.xlsx"), "b") == Path("out/otf-b.xlsx")
    assert plan_file_name(Path("out/otf.xlsx"), None) == Path("out/otf.xlsx")
