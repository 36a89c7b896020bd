"""Eligibility from the plan's 834: monthly eligibility, retroactive changes marked for
re-rating, and bad files refused whole with the segment at fault."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
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
                models.AuditRecord.entity_key == "91234567A/2026-10/default",
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


# -- the shapes plans send (INS03 001/021/024/025/030, dates at 2000 or 2300) ---------------


def raw_834(tmp_path: Path, loops: list[list[str]], control: int = 7) -> Path:
    """An 834 of these member loops (2000 onwards), written segment by segment."""
    body = [
        "ST*834*0001*005010X220A1", f"BGN*00*ELIG{control:05d}*20261101*1200****4",
        "N1*P5*IMPERIAL CARE PARTNERS*FI*123456789", "N1*IN*CHPIV*FI*987654321",
        *(segment for loop in loops for segment in loop),
    ]  # fmt: skip
    body.append(f"SE*{len(body) + 1}*0001")
    segments = [
        f"ISA*00*{' ' * 10}*00*{' ' * 10}*ZZ*{'CHPIV':<15}*ZZ*{'ECMPROVIDER':<15}*261101*1200*^*"
        f"00501*{control:09d}*0*T*:",
        f"GS*BE*CHPIV*ECMPROVIDER*20261101*1200*{control}*X*005010X220A1", *body,
        f"GE*1*{control}", f"IEA*1*{control:09d}",
    ]  # fmt: skip
    path = tmp_path / f"shape-{control}.834"
    path.write_text("".join(f"{segment}~\n" for segment in segments))
    return path


def member_loop(
    maintenance: str,
    *,
    cin: str = "91234567A",
    member_dates: tuple[str, ...] = (),
    coverage: tuple[str, ...] = (),
    subscriber: bool = True,
    address: bool = False,
    dmg: str = "DMG*D8*19700101*F",
) -> list[str]:
    """INS, REF*0F, member-level DTP (e.g. "357*D8*20261015"), NM1, N3/N4, DMG, and a 2300
    HD loop with its DTPs when ``coverage`` is given."""
    loop = [f"INS*{'Y*18' if subscriber else 'N*19'}*{maintenance}*XN*A***FT", f"REF*0F*{cin}"]
    loop += [f"DTP*{d}" for d in member_dates]
    loop.append("NM1*IL*1*GARCIA*MARIA")
    if address:
        loop += ["N3*40 PALM AVE", "N4*EL CENTRO*CA*922431234"]
    loop.append(dmg)
    if coverage:
        loop += [f"HD*{maintenance}**HLT", *(f"DTP*{d}" for d in coverage)]
    return loop


def test_the_common_termination_shape_ends_eligibility_after_its_day(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    """INS03 024 with DTP*357 at the member level and no 2300 loop: once refused for a missing
    DTP*348, which left the member eligible."""
    roster(provider, contract, tmp_path)
    import_834(provider, write_834(tmp_path, "a.834", [MARIA]), actor="test", today=TODAY)
    shape = raw_834(tmp_path, [member_loop("024", member_dates=("357*D8*20261015",))])
    result = import_834(provider, shape, actor="test", today=TODAY)
    assert (result.accepted, result.rejections, result.exit_code) == (1, [], 0)
    found = eligibility(provider)
    assert (found[("91234567A", "2026-10")], found[("91234567A", "2026-11")]) == (True, False)
    assert found[("91234567A", "2026-09")] is True  # before the termination: untouched


@pytest.mark.parametrize(
    ("maintenance", "member_dates", "coverage", "expected"),
    [
        ("021", (), ("348*D8*20261001",), {"2026-10": True, "2026-11": True}),
        ("021", ("356*D8*20261001",), (), {"2026-10": True, "2026-11": True}),
        (
            "025",
            ("356*D8*20260901", "357*D8*20261031"),
            (),
            {"2026-09": True, "2026-10": True, "2026-11": False},
        ),
        (
            "030",
            (),
            ("348*D8*20260901", "349*D8*20260930"),
            {"2026-09": True, "2026-10": False, "2026-11": False},
        ),
        (
            "024",
            ("357*D8*20260930",),
            ("348*D8*20260801",),
            {"2026-08": True, "2026-09": True, "2026-10": False, "2026-11": False},
        ),
        ("001", (), ("348*D8*20261101",), {"2026-11": True}),
    ],
    ids=["021-2300", "021-2000", "025-2000", "030-2300", "024-both", "001-2300"],
)
def test_each_maintenance_type_with_dates_at_either_level_becomes_eligibility(
    provider: Engine, contract: Contract, tmp_path: Path, maintenance: str,
    member_dates: tuple[str, ...], coverage: tuple[str, ...], expected: dict[str, bool],
) -> None:  # fmt: skip
    roster(provider, contract, tmp_path)
    shape = raw_834(tmp_path, [member_loop(maintenance, member_dates=member_dates,
                                           coverage=coverage)])  # fmt: skip
    result = import_834(provider, shape, actor="test", today=TODAY)
    assert (result.accepted, result.rejections) == (1, [])
    assert {month: e for (m, month), e in eligibility(provider).items() if m == "91234567A"} == (
        expected
    )


def test_a_change_without_dates_keeps_eligibility_and_brings_the_address_and_sex(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    roster(provider, contract, tmp_path)
    shape = raw_834(tmp_path, [member_loop("001", address=True, dmg="DMG*D8*19700101*F")])
    result = import_834(provider, shape, actor="test", today=TODAY)
    assert (result.accepted, result.rejections, eligibility(provider)) == (1, [], {})
    with unit_of_work(provider) as session:
        member = session.get(models.Member, "91234567A")
        assert member is not None
        assert (member.address, member.city, member.state, member.zip, member.sex) == (
            "40 PALM AVE", "EL CENTRO", "CA", "922431234", "F",
        )  # fmt: skip


def test_a_termination_without_any_end_date_is_rejected_with_what_is_missing(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    roster(provider, contract, tmp_path)
    result = import_834(provider, raw_834(tmp_path, [member_loop("024")]), actor="test",
                        today=TODAY)  # fmt: skip
    assert [(r.column, r.reason) for r in result.rejections] == [
        ("DTP03", "a termination (INS03 024) without its end date (DTP*357 in loop 2000 or "
                  "DTP*349 in loop 2300)"),
    ]  # fmt: skip


def test_dependents_are_skipped_with_a_note(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    roster(provider, contract, tmp_path)
    loops = [member_loop("021", coverage=("348*D8*20261001",)),
             member_loop("021", subscriber=False, coverage=("348*D8*20261001",),
                         dmg="DMG*D8*20100101*M")]  # fmt: skip
    result = import_834(provider, raw_834(tmp_path, loops), actor="test", today=TODAY)
    assert (result.members_read, result.accepted, result.dependents, result.exit_code) == (
        2, 1, 1, 0,
    )  # fmt: skip
    assert result.notes == [
        "1 dependent loop(s) (INS01 = N) skipped: a dependent is not an ECM member of ours"
    ]


def test_a_member_not_on_the_roster_and_without_dates_is_reported_as_not_on_the_roster(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    roster(provider, contract, tmp_path)
    stranger = member_loop("024", cin="94567890D")
    result = import_834(provider, raw_834(tmp_path, [stranger]), actor="test", today=TODAY)
    assert (result.rejections, result.not_on_roster) == ([], ["94567890D"])


def test_a_dmg_with_repeated_race_values_is_read_not_refused(
    provider: Engine, contract: Contract, tmp_path: Path
) -> None:
    """pyx12 fails on a repetition separator in DMG05 (it once came out as an unreadable
    ISA); ecmbill does not use DMG05 and reads each repeated value as its first."""
    roster(provider, contract, tmp_path)
    repeated = member_loop("030", coverage=("348*D8*20260901",),
                           dmg="DMG*D8*19700101*F**:RET:2135-2^:RET:2106-3")  # fmt: skip
    result = import_834(provider, raw_834(tmp_path, [repeated]), actor="test", today=TODAY)
    assert (result.segment_errors, result.file_problem, result.accepted) == ([], None, 1)
    assert result.notes == [
        "segment 10 (DMG): repeated race or ethnicity values read as the first (ecmbill does not "
        "use them)"
    ]
