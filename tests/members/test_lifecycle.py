"""Recording the member lifecycle: enrollment spans the rating reads, discontinuation with a
contract reason, unable to reach only with the required attempts, lead care managers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from ecmbill.contract import Contract
from ecmbill.domain.lifecycle import Status
from ecmbill.domain.period import Period
from ecmbill.exchange.layouts import default_layouts
from ecmbill.exchange.rtf import write_rtf
from ecmbill.imports.mif import import_mif
from ecmbill.members import lifecycle
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.conftest import TODAY
from tests.exchange.builders import mif_header, mif_row, read_csv, write_csv
from tests.exchange.conftest import load

CIN = "92345678B"


def assigned(engine: Engine, tmp_path: Path) -> None:
    mif = write_csv(
        tmp_path / "mif.csv", mif_header(), [mif_row(CIN, "Lopez", "Juan", "1980-02-02")]
    )
    assert import_mif(engine, mif, actor="test", today=TODAY).accepted == 1


def attempts(engine: Engine, contract: Contract, tmp_path: Path, rows: list[list[str]]) -> None:
    header = ["staff_id", "member_id", "date", "method", "individualized", "outcome"]
    load(engine, contract, "outreach", write_csv(tmp_path / f"o{len(rows)}.csv", header, rows))


def test_unable_to_reach_is_recorded_only_with_the_required_attempts_and_the_rtf_shows_why(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    assigned(provider, tmp_path)
    two = [
        ["S2", CIN, "2026-10-01", "phone", "true", "not_reached"],
        ["S2", CIN, "2026-10-02", "text", "false", "not_reached"],  # a mass text: not counted
        ["S2", CIN, "2026-10-08", "phone", "true", "not_reached"],
    ]
    attempts(provider, contract, tmp_path, two)
    with pytest.raises(lifecycle.LifecycleError) as refused:
        lifecycle.unable_to_reach(provider, CIN, date(2026, 10, 20), contract, "test")
    assert refused.value.missing == (
        "1 more outreach attempt needed: the contract requires 3, 2 made",
    )
    with unit_of_work(provider) as session:
        assert lifecycle.standing(session, CIN, date(2026, 10, 20)).status is Status.OUTREACH  # type: ignore[union-attr]

    attempts(
        provider,
        contract,
        tmp_path,
        [*two, ["S1", CIN, "2026-10-15", "in_person", "true", "not_reached"]],
    )
    lifecycle.unable_to_reach(provider, CIN, date(2026, 10, 20), contract, "test")
    rtf = read_csv(
        write_rtf(
            provider, Period.parse("2026-10"), contract, tmp_path / "rtf.csv", produced_on=TODAY
        ).path
    )
    columns = default_layouts().rtf_columns
    row = dict(zip(columns, rtf[1], strict=True))
    assert (row["status"], row["discontinuation_date"], row["discontinuation_code"]) == (
        "Unable to Reach",
        "10/20/2026",
        "04",
    )
    assert row["discontinuation_reason"] == contract.discontinuation_reasons["04"]


def test_a_reached_member_cannot_be_reported_unable_to_reach(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    assigned(provider, tmp_path)
    attempts(
        provider,
        contract,
        tmp_path,
        [
            ["S2", CIN, "2026-10-01", "phone", "true", "not_reached"],
            ["S2", CIN, "2026-10-05", "phone", "true", "declined"],
            ["S2", CIN, "2026-10-09", "video", "true", "not_reached"],
        ],
    )
    with pytest.raises(lifecycle.LifecycleError) as refused:
        lifecycle.unable_to_reach(provider, CIN, date(2026, 10, 20), contract, "test")
    assert "reached on 2026-10-05" in refused.value.missing[0]


def test_members_utr_counts_the_individualized_attempts_made_to_a_reached_member(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    """`ecmbill members utr` printed "Outreach attempts that count: 0" for a member reached
    after three individualized attempts; a mass text still does not count."""
    assigned(provider, tmp_path)
    attempts(
        provider,
        contract,
        tmp_path,
        [
            ["S2", CIN, "2026-10-01", "phone", "true", "not_reached"],
            ["S2", CIN, "2026-10-02", "text", "false", "not_reached"],
            ["S2", CIN, "2026-10-05", "video", "true", "not_reached"],
            ["S2", CIN, "2026-10-09", "in_person", "true", "reached"],
        ],
    )
    check = lifecycle.check_unable_to_reach(provider, CIN, contract)
    assert check.decision is not None and not check.decision.allowed
    assert [a.on.day for a in check.decision.counted] == [1, 5, 9]


def test_discontinuing_closes_the_enrollment_span_with_a_contract_reason(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    assigned(provider, tmp_path)
    lifecycle.enroll(provider, CIN, date(2026, 9, 20), "test")
    with pytest.raises(lifecycle.LifecycleError, match="unknown discontinuation reason"):
        lifecycle.discontinue(provider, CIN, date(2026, 10, 10), "99", contract, "test")
    lifecycle.discontinue(provider, CIN, date(2026, 10, 10), "07", contract, "test")
    with unit_of_work(provider) as session:
        span = session.scalars(select(models.Enrollment)).one()
        assert (span.start_date, span.end_date) == (date(2026, 9, 20), date(2026, 10, 10))
        trail = session.scalars(
            select(models.AuditRecord.action).where(models.AuditRecord.entity == "enrollments")
        ).all()
        standing = lifecycle.standing(session, CIN, date(2026, 10, 31))
    assert trail == ["create", "update"]
    assert standing is not None
    assert (standing.status, standing.since, standing.reason) == (
        Status.DISCONTINUED,
        date(2026, 10, 10),
        "07",
    )


def test_changes_the_rules_refuse_record_nothing(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    assigned(provider, tmp_path)
    lifecycle.enroll(provider, CIN, date(2026, 9, 20), "test")
    with pytest.raises(lifecycle.LifecycleError, match="already enrolled"):
        lifecycle.enroll(provider, CIN, date(2026, 10, 1), "test")
    with pytest.raises(lifecycle.LifecycleError, match="cannot become unable_to_reach"):
        lifecycle.unable_to_reach(provider, CIN, date(2026, 10, 20), contract, "test")
    lifecycle.discontinue(provider, CIN, date(2026, 10, 10), "03", contract, "test")
    with pytest.raises(lifecycle.LifecycleError, match="date order"):
        lifecycle.enroll(provider, CIN, date(2026, 10, 5), "test")
    with pytest.raises(lifecycle.LifecycleError, match="no member"):
        lifecycle.enroll(provider, "99999999Z", date(2026, 10, 5), "test")
    lifecycle.enroll(provider, CIN, date(2026, 10, 25), "test")  # the member came back
    with unit_of_work(provider) as session:
        spans = session.execute(
            select(models.Enrollment.start_date, models.Enrollment.end_date).order_by(
                models.Enrollment.start_date
            )
        ).all()
    assert [tuple(s) for s in spans] == [
        (date(2026, 9, 20), date(2026, 10, 10)),
        (date(2026, 10, 25), None),
    ]


def test_a_new_lead_care_manager_ends_the_previous_one_the_day_before(
    provider: Engine, tmp_path: Path
) -> None:
    assigned(provider, tmp_path)
    lifecycle.assign_lead_care_manager(provider, CIN, "S2", date(2026, 9, 20), "test")
    lifecycle.assign_lead_care_manager(
        provider, CIN, "S1", date(2026, 10, 12), "test", email="ana@example.org"
    )
    with pytest.raises(lifecycle.LifecycleError, match="already recorded"):
        lifecycle.assign_lead_care_manager(provider, CIN, "S2", date(2026, 10, 1), "test")
    with unit_of_work(provider) as session:
        spans = session.execute(
            select(
                models.LeadCareManager.staff_id,
                models.LeadCareManager.start_date,
                models.LeadCareManager.end_date,
            ).order_by(models.LeadCareManager.start_date)
        ).all()
        contact = session.get(models.StaffContact, "S1")
    assert [tuple(s) for s in spans] == [
        ("S2", date(2026, 9, 20), date(2026, 10, 11)),
        ("S1", date(2026, 10, 12), None),
    ]
    assert contact is not None and contact.email == "ana@example.org"


def test_lead_care_managers_assigned_at_once_are_recorded_as_one_by_one(
    provider: Engine, tmp_path: Path
) -> None:
    """The batch the demo uses: S2 from 20 Sep, then S1 from 12 Oct ends S2's span on 11 Oct,
    with an audit record for each span made and each span ended, as one assignment at a time."""
    assigned(provider, tmp_path)
    lifecycle.assign_lead_care_managers(
        provider, [(CIN, "S2", date(2026, 9, 20)), (CIN, "S1", date(2026, 10, 12))], "test"
    )
    with unit_of_work(provider) as session:
        spans = session.execute(
            select(
                models.LeadCareManager.staff_id,
                models.LeadCareManager.start_date,
                models.LeadCareManager.end_date,
            ).order_by(models.LeadCareManager.start_date)
        ).all()
        trail = session.execute(
            select(models.AuditRecord.action, models.AuditRecord.entity_key)
            .where(models.AuditRecord.entity == "lead_care_managers")
            .order_by(models.AuditRecord.id)
        ).all()
    assert [tuple(s) for s in spans] == [
        ("S2", date(2026, 9, 20), date(2026, 10, 11)),
        ("S1", date(2026, 10, 12), None),
    ]
    assert [tuple(t) for t in trail] == [
        ("create", f"{CIN}/2026-09-20"),
        ("update", f"{CIN}/2026-09-20"),
        ("create", f"{CIN}/2026-10-12"),
    ]


def test_a_refused_lead_care_manager_in_a_batch_records_none_of_it(
    provider: Engine, tmp_path: Path
) -> None:
    assigned(provider, tmp_path)
    with pytest.raises(lifecycle.LifecycleError, match="no staff member"):
        lifecycle.assign_lead_care_managers(
            provider, [(CIN, "S2", date(2026, 9, 20)), (CIN, "NOBODY", date(2026, 10, 12))], "test"
        )
    with pytest.raises(lifecycle.LifecycleError, match="already recorded"):
        lifecycle.assign_lead_care_managers(
            provider, [(CIN, "S2", date(2026, 10, 20)), (CIN, "S1", date(2026, 10, 12))], "test"
        )
    with unit_of_work(provider) as session:
        assert session.scalars(select(models.LeadCareManager)).all() == []
