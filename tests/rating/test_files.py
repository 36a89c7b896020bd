"""Rating from a folder of files: what the folder must hold, how bad rows are refused, and what
the command writes."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ecmbill.cli import app
from ecmbill.contract import Contract
from ecmbill.domain.period import Period
from ecmbill.rating.file_checks import SourceProblem
from ecmbill.rating.files import rate_folder

PERIOD = Period(2026, 10)

STAFF = """staff_id,name,role,npi,effective_from,effective_to
S1,Clinician One,clinical,,,
S2,Worker Two,non_clinical,,,
"""
ELIGIBILITY = """member_id,month,eligible
91234567A,2026-10,true
92345678B,2026-10,yes
"""
ENROLLMENTS = """member_id,start_date,end_date
91234567A,2026-01-01,
92345678B,2026-10-20,
"""
TIME = """entry_id,staff_id,member_id,date,minutes,activity,modality
T1,S1,91234567A,2026-10-02,25,assessment,in_person
T2,S2,91234567A,2026-10-03,25,care_plan,in_person
T3,S1,91234567A,2026-10-09,35,care_coordination,in_person
T4,S1,92345678B,2026-10-05,30,assessment,telephonic
"""
OUTREACH = """attempt_id,staff_id,member_id,date,method,individualized,outcome,minutes
O1,S2,92345678B,2026-10-06,phone,true,not_reached,5
O2,S2,92345678B,2026-10-07,mail,false,not_reached,
"""


def folder_with(tmp_path: Path, **overrides: str) -> Path:
    files = {
        "staff": STAFF,
        "eligibility": ELIGIBILITY,
        "enrollments": ENROLLMENTS,
        "time": TIME,
        "outreach": OUTREACH,
    }
    files.update(overrides)
    folder = tmp_path / "month"
    folder.mkdir()
    for kind, text in files.items():
        (folder / f"{kind}.csv").write_text(text, encoding="utf-8")
    return folder


def test_a_folder_rates_team_time_as_one_line_and_says_why_the_rest_does_not_bill(
    tmp_path: Path, contract: Contract
) -> None:
    rating = rate_folder(folder_with(tmp_path), PERIOD, contract)
    lines = {(line.member_id, line.code, line.modifiers): line for line in rating.lines}
    # 25 + 35 minutes of clinical time: one unit; the non-clinical 25 minutes: one unit.
    assert lines[("91234567A", "G9008", ("U1",))].units == 1
    assert lines[("91234567A", "G9008", ("U1",))].source_ids == ("T1", "T3")
    assert lines[("91234567A", "G9012", ("U2",))].units == 1
    assert lines[("92345678B", "G9012", ("U8", "GQ"))].source_ids == ("O1",)
    reasons = {item.id: item.reason_code.value for item in rating.not_billed}
    assert reasons == {"T4": "NOT_ENROLLED", "O2": "MASS_COMMUNICATION"}


def test_start_and_end_times_stand_in_for_minutes(tmp_path: Path, contract: Contract) -> None:
    time = """entry_id,staff_id,member_id,date,start_time,end_time,activity,modality
T1,S1,91234567A,2026-10-02,09:00,09:50,assessment,in_person
T2,S1,91234567A,2026-10-03,9:00,9:20,assessment,in_person
"""
    rating = rate_folder(folder_with(tmp_path, time=time), PERIOD, contract)
    (line,) = [line for line in rating.lines if line.kind.value == "service"]
    assert (line.minutes, line.units) == (70, 2)


def test_bad_rows_refuse_the_folder_with_counts_and_example_ids_but_no_member_id(
    tmp_path: Path, contract: Contract
) -> None:
    time = TIME + (
        "T5,S1,91234567A,10/05/2026,30,assessment,in_person\n"
        "T6,S1,91234567A,2026-10-05,0,assessment,in_person\n"
        "T7,S1,91234567A,2026-10-05,30,assessment,by_pigeon\n"
        "T1,S1,91234567A,2026-10-06,30,assessment,in_person\n"
        "T8,S1,91234567A,2026-02-30,30,assessment,in_person\n"
        "T9,S1,91234567A,2026-10-05,1e3,assessment,in_person\n"
    )
    enrollments = ENROLLMENTS + "91234567A,2026-05-01,2026-06-30\n"
    folder = folder_with(tmp_path, time=time, enrollments=enrollments)
    with pytest.raises(SourceProblem) as refused:
        rate_folder(folder, PERIOD, contract)
    message = str(refused.value)
    # The import takes a US date; a file to rate takes values as written (docs/decisions.md).
    assert (
        "time.csv: 1 row(s): date must be written as YYYY-MM-DD without spaces in a file to "
        "rate (e.g. T5)"
    ) in message
    # What both refuse, they refuse with the import's words.
    assert (
        "time.csv: 1 row(s): date is not a real date (use YYYY-MM-DD or MM/DD/YYYY) (e.g. T8)"
    ) in message
    assert "time.csv: 1 row(s): minutes is not a number (e.g. T9)" in message
    assert "time.csv: 1 row(s): minutes must be more than 0 (e.g. T6)" in message
    assert "modality must be one of: in_person, telephonic (e.g. T7)" in message
    assert "entry_id(s) used more than once (e.g. T1)" in message
    assert "enrollments.csv: 1 row(s): enrollment span(s) overlapping another" in message
    assert "91234567A" not in message


def test_a_missing_or_doubled_file_is_named(tmp_path: Path, contract: Contract) -> None:
    folder = folder_with(tmp_path)
    (folder / "staff.csv").unlink()
    (folder / "time.parquet").write_bytes(b"")
    with pytest.raises(
        SourceProblem,
        match=r"both time\.parquet and time\.csv: keep one; no staff\.parquet or staff\.csv",
    ):
        rate_folder(folder, PERIOD, contract)


def test_a_time_file_without_entry_ids_is_refused(tmp_path: Path, contract: Contract) -> None:
    time = "staff_id,member_id,date,minutes,activity,modality\nS1,91234567A,2026-10-02,5,x,y\n"
    with pytest.raises(SourceProblem, match=r"time\.csv: missing column"):
        rate_folder(folder_with(tmp_path, time=time), PERIOD, contract)


def test_the_command_writes_lines_and_not_billed_files_and_prints_the_store_json_shape(
    tmp_path: Path,
) -> None:
    folder = folder_with(tmp_path)
    out = tmp_path / "october.parquet"
    runner = CliRunner()
    done = runner.invoke(
        app, ["rate", "--period", "2026-10", "--source", str(folder), "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    lines = pq.read_table(out).to_pylist()
    not_billed = pq.read_table(tmp_path / "october.not_billed.parquet").to_pylist()
    assert len(lines) == 3 and {row["period"] for row in lines} == {"2026-10"}
    assert lines[0]["modifiers"] == ["U1"] and lines[0]["source_ids"] == ["T1", "T3"]
    assert [row["reason_code"] for row in not_billed] == ["NOT_ENROLLED", "MASS_COMMUNICATION"]
    assert not_billed[1]["reason"].startswith("not outreach: a mass communication")
    assert not list(tmp_path.glob(".*.tmp"))

    shown = runner.invoke(app, ["rate", "--period", "2026-10", "--source", str(folder), "--json"])
    assert shown.exit_code == 0, shown.output
    rating = json.loads(shown.stdout)
    assert set(rating) == {"period", "lines", "not_billed"}
    assert len(rating["lines"]) == 3 and len(rating["not_billed"]) == 2


def test_the_command_refuses_a_bad_folder_with_exit_status_2(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, staff=STAFF + "S3,Someone,manager,,,\n")
    done = CliRunner().invoke(app, ["rate", "--period", "2026-10", "--source", str(folder)])
    assert done.exit_code == 2
    assert "role must be one of: clinical, non_clinical (e.g. S3)" in done.output


def test_file_options_without_a_source_folder_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # Explicitly SQLite: opening a SQLite store creates its file, so a missing file proves the
    # refusal came before the store was touched.
    done = CliRunner().invoke(
        app,
        ["rate", "--period", "2026-10", "--engine", "spark", "--database", "sqlite:///x.db"],
    )
    assert done.exit_code == 2
    assert "give --source FOLDER too" in done.output
    assert not (tmp_path / "x.db").exists()


def test_an_output_file_must_be_parquet_or_csv_in_an_existing_folder(tmp_path: Path) -> None:
    folder = folder_with(tmp_path)
    for out, says in (
        (tmp_path / "lines.json", "--out must end in .parquet or .csv"),
        (tmp_path / "nowhere" / "lines.csv", "does not exist"),
    ):
        done = CliRunner().invoke(
            app, ["rate", "--period", "2026-10", "--source", str(folder), "--out", str(out)]
        )
        assert done.exit_code == 2, done.output
        assert says in " ".join(done.output.split())


# A contract that requires a supervisor's approval: the time file says which entries were
# approved in an optional column "approved" (docs/billing-rules.md, rule 10).


def approving(contract: Contract) -> Contract:
    return contract.model_copy(update={"require_approval": True})


def test_require_approval_refuses_a_time_file_without_the_approved_column(
    tmp_path: Path, contract: Contract
) -> None:
    with pytest.raises(SourceProblem, match=r"time\.csv: the contract requires .* approved"):
        rate_folder(folder_with(tmp_path), PERIOD, approving(contract))


def test_require_approval_bills_only_entries_marked_approved_after_the_other_reasons(
    tmp_path: Path, contract: Contract
) -> None:
    time = """entry_id,staff_id,member_id,date,minutes,activity,modality,approved
T1,S1,91234567A,2026-10-02,25,assessment,in_person,true
T2,S2,91234567A,2026-10-03,25,care_plan,in_person,
T3,S1,91234567A,2026-10-09,35,care_coordination,in_person,false
T4,S1,92345678B,2026-10-05,30,assessment,telephonic,false
"""
    folder = folder_with(tmp_path, time=time)
    rating = rate_folder(folder, PERIOD, approving(contract))
    service = [line for line in rating.lines if line.kind.value == "service"]
    assert [(x.source_ids, x.minutes, x.units) for x in service] == [(("T1",), 25, 1)]
    reasons = {item.id: item.reason_code.value for item in rating.not_billed}
    # T4's member is not enrolled on its date: that comes before NOT_APPROVED.
    assert reasons == {
        "T2": "NOT_APPROVED",
        "T3": "NOT_APPROVED",
        "T4": "NOT_ENROLLED",
        "O2": "MASS_COMMUNICATION",
    }
    # Without the setting the column is not read: every entry bills as before.
    plain = rate_folder(folder, PERIOD, contract)
    assert {i.id for i in plain.not_billed} == {"T4", "O2"}
    shown = CliRunner().invoke(
        app,
        [
            "rate",
            "--source",
            str(folder),
            "--period",
            "2026-10",
            "--contract",
            str(_approving_toml(tmp_path)),
        ],
    )
    assert shown.exit_code == 0, shown.output
    assert "NOT_APPROVED" in shown.output


def test_an_approved_value_that_is_not_a_flag_refuses_the_folder(
    tmp_path: Path, contract: Contract
) -> None:
    time = """entry_id,staff_id,member_id,date,minutes,activity,modality,approved
T1,S1,91234567A,2026-10-02,25,assessment,in_person,maybe
"""
    with pytest.raises(SourceProblem, match=r"time\.csv: 1 row\(s\): approved .*\(e\.g\. T1\)"):
        rate_folder(folder_with(tmp_path, time=time), PERIOD, approving(contract))


def _approving_toml(folder: Path) -> Path:
    from ecmbill.contract.model import default_toml

    path = folder / "approving.toml"
    path.write_text(
        default_toml().replace("require_approval = false", "require_approval = true"),
        encoding="utf-8",
    )
    return path
