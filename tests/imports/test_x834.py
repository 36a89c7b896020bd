"""Eligibility from the plan's 834: monthly eligibility, retroactive changes marked for
re-rating, and bad files refused whole with the segment at fault."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine, func, select

from ecmbill.contract import Contract
from ecmbill.domain.period import Period
from ecmbill.domain.reasons import ReasonCode
from ecmbill.imports.mif import import_mif
from ecmbill.imports.x834 import import_834
from ecmbill.members import lifecycle
from ecmbill.rating.service import rate
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.conftest import TODAY
from tests.exchange.builders import Member834, build_834, mif_header, mif_row, write_csv
from tests.exchange.conftest import load

MARIA = Member834("91234567A", "GARCIA", "MARIA", "19700101", "20260901")


def roster(engine: Engine, contract: Contract, tmp_path: Path) -> None:
    mif = write_csv(
        tmp_path / "mif.csv",
        mif_header(),
        [
            mif_row("91234567A", "Garcia", "Maria", "1970-01-01"),
            mif_row("92345678B", "Lopez", "Juan", "1980-02-02"),
        ],
    )
    assert import_mif(engine, mif, actor="test", today=TODAY).rejected == 0
    lifecycle.enroll(engine, "91234567A", date(2026, 9, 15), "test")
    load(
        engine,
        contract,
        "time",
        write_csv(
            tmp_path / "time.csv",
            ["entry_id", "staff_id", "member_id", "date", "minutes", "activity", "modality"],
            [["T1", "S1", "91234567A", "2026-10-06", "90", "assessment", "in_person"]],
        ),
    )


def eligibility(engine: Engine) -> dict[tuple[str, str], bool]:
    with unit_of_work(engine) as session:
        return {
            (m, month): e
            for m, month, e in session.execute(
                select(
                    models.Eligibility.member_id,
                    models.Eligibility.month,
                    models.Eligibility.eligible,
                )
            )
        }


def count(engine: Engine, model: type[models.Base]) -> int:
    with unit_of_work(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def write_834(tmp_path: Path, name: str, members: list[Member834], control: int = 1) -> Path:
    path = tmp_path / name
    path.write_text(build_834(members, control=control))
    return path


def test_coverage_dates_become_monthly_eligibility_up_to_the_current_month(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    roster(provider, contract, tmp_path)
    ended = Member834("92345678B", "LOPEZ", "JUAN", "19800202", "20260815", "20261003")
    result = import_834(
        provider, write_834(tmp_path, "a.834", [MARIA, ended]), actor="test", today=TODAY
    )
    assert (result.members_read, result.accepted, result.exit_code) == (2, 2, 0)
    assert eligibility(provider) == {
        ("91234567A", "2026-09"): True,
        ("91234567A", "2026-10"): True,
        ("91234567A", "2026-11"): True,
        ("92345678B", "2026-08"): True,
        ("92345678B", "2026-09"): True,
        ("92345678B", "2026-10"): True,  # covered part of the month: eligible for it
        ("92345678B", "2026-11"): False,
    }


def test_retroactive_termination_marks_the_months_for_rerating_and_they_rate_not_eligible(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    roster(provider, contract, tmp_path)
    first = import_834(provider, write_834(tmp_path, "a.834", [MARIA]), actor="test", today=TODAY)
    assert first.rerate == [("91234567A", "2026-10")]  # time was recorded before coverage came
    october = Period.parse("2026-10")
    assert [line.units for line in rate(provider, october, contract).lines] == [2]

    terminated = Member834(
        "91234567A", "GARCIA", "MARIA", "19700101", "20260901", "20260930", maintenance="024"
    )
    later = import_834(
        provider, write_834(tmp_path, "b.834", [terminated], control=2), actor="test", today=TODAY
    )
    # October had billed time: it must be rated again. November had none: nothing to redo.
    assert later.rerate == [("91234567A", "2026-10")]
    assert eligibility(provider)[("91234567A", "2026-10")] is False
    assert eligibility(provider)[("91234567A", "2026-11")] is False
    rating = rate(provider, october, contract)
    assert rating.lines == ()
    assert [(n.id, n.reason_code) for n in rating.not_billed] == [("T1", ReasonCode.NOT_ELIGIBLE)]
    with unit_of_work(provider) as session:
        marks = session.execute(
            select(
                models.RerateMark.member_id, models.RerateMark.month, models.RerateMark.reason
            ).order_by(models.RerateMark.id)
        ).all()
        trail = session.execute(
            select(models.AuditRecord.action, models.AuditRecord.before, models.AuditRecord.after)
            .where(
                models.AuditRecord.entity == "eligibility",
                models.AuditRecord.entity_key == "91234567A/2026-10",
            )
            .order_by(models.AuditRecord.id)
        ).all()
    assert [tuple(m[:2]) for m in marks] == [("91234567A", "2026-10")] * 2
    assert "ended" in marks[-1][2]
    # The same audit trail as the eligibility import: created eligible, then updated to not.
    assert [action for action, _, _ in trail] == ["create", "update"]
    assert '"eligible": true' in trail[1][1] and '"eligible": false' in trail[1][2]


def test_reimporting_the_same_834_changes_nothing(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    roster(provider, contract, tmp_path)
    path = write_834(tmp_path, "a.834", [MARIA])
    import_834(provider, path, actor="test", today=TODAY)
    audits = count(provider, models.AuditRecord)
    again = import_834(provider, path, actor="test", today=TODAY)
    assert (again.changed, again.rerate) == (0, [])
    assert count(provider, models.AuditRecord) == audits


def test_members_not_on_the_roster_are_listed_not_added(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    roster(provider, contract, tmp_path)
    stranger = Member834("94567890D", "NOTOURS", "DANA", "19900404", "20260901")
    result = import_834(
        provider, write_834(tmp_path, "a.834", [MARIA, stranger]), actor="test", today=TODAY
    )
    assert result.not_on_roster == ["94567890D"]
    assert result.exit_code == 1
    assert {m for m, _ in eligibility(provider)} == {"91234567A"}
    assert count(provider, models.Member) == 2


def test_a_truncated_834_is_refused_with_its_segment_errors_and_nothing_is_imported(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    roster(provider, contract, tmp_path)
    batches = count(provider, models.ImportBatch)
    whole = build_834([MARIA, Member834("92345678B", "LOPEZ", "JUAN", "19800202", "20260901")])
    cut = tmp_path / "cut.834"
    cut.write_text("".join(whole.splitlines(keepends=True)[:-4]))  # the file stops mid-way
    result = import_834(provider, cut, actor="test", today=TODAY)
    assert result.exit_code == 2
    assert {(e.segment, e.code) for e in result.segment_errors} >= {
        ("ISA", "023"),
        ("GS", "3"),
        ("ST", "2"),
    }
    assert "Transaction Set Trailer" in " ".join(str(e) for e in result.segment_errors)
    assert eligibility(provider) == {}
    assert count(provider, models.ImportBatch) == batches


def test_a_bad_element_is_reported_by_segment_without_its_value(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    roster(provider, contract, tmp_path)
    bad = tmp_path / "bad.834"
    bad.write_text(build_834([MARIA]).replace("DMG*D8*19700101", "DMG*D8*19701399"))
    result = import_834(provider, bad, actor="test", today=TODAY)
    assert [(e.segment, e.element) for e in result.segment_errors] == [("DMG", "DMG02")]
    assert "19701399" not in str(result.segment_errors[0])  # a birth date is PHI
    assert "segment 10" in str(result.segment_errors[0])
    assert eligibility(provider) == {}


def test_a_member_loop_with_a_bad_cin_is_rejected_and_the_others_imported(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    roster(provider, contract, tmp_path)
    bad = Member834("1234", "LOPEZ", "JUAN", "19800202", "20260901")
    result = import_834(
        provider, write_834(tmp_path, "a.834", [bad, MARIA]), actor="test", today=TODAY
    )
    assert [(r.line, r.column) for r in result.rejections] == [(7, "REF02")]
    assert "not a Medi-Cal CIN" in result.rejections[0].reason
    assert result.accepted == 1
    assert {m for m, _ in eligibility(provider)} == {"91234567A"}


def test_a_birth_date_that_does_not_match_the_roster_rejects_the_member_loop(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    roster(provider, contract, tmp_path)
    wrong = Member834("91234567A", "GARCIA", "MARIA", "19710101", "20260901")
    result = import_834(provider, write_834(tmp_path, "a.834", [wrong]), actor="test", today=TODAY)
    assert [r.column for r in result.rejections] == ["DMG02"]
    assert eligibility(provider) == {}


def test_a_file_that_is_not_x12_is_refused(provider: Engine, tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text("member_id,month\n")
    result = import_834(provider, path, actor="test", today=TODAY)
    assert result.exit_code == 2 and "ISA" in (result.file_problem or "")
