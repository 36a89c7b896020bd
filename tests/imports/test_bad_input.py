"""Broken input files: each gets its row-level reason (line, column, words) or its file-level
problem, and nothing is half-imported.

The files live in ``bad_files/`` (made by ``make_bad_files.py``) and are named
``KIND__what_is_wrong.EXT``. Each is copied to a temporary folder before it is imported, so the
rejects file written beside it never lands in the repository.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, Table, func, select
from sqlalchemy.orm import Session

from ecmbill.contract import Contract
from ecmbill.imports.batch import ImportResult, Rejection
from ecmbill.imports.kinds import KINDS
from ecmbill.imports.reading import read_table
from ecmbill.imports.service import import_file
from ecmbill.store import models
from ecmbill.store import records as import_records
from ecmbill.store.db import unit_of_work
from tests.builders import Ledger
from tests.conftest import TODAY

BAD_FILES = Path(__file__).with_name("bad_files")
NOT_UTF8 = (
    "the file is not UTF-8 text (first bad byte on line {}); in Excel, save it as 'CSV UTF-8'"
)
TIME_COLUMNS = (
    "columns for time: activity, date, member_id, modality, staff_id, "
    "end_time (optional), entry_id (optional), minutes (optional), note (optional), "
    "start_time (optional)"
)
NOT_A_DATE = "date is not a real date (use YYYY-MM-DD or MM/DD/YYYY)"
NOT_A_CIN = "member_id is not a Medi-Cal CIN (8 digits then a letter, e.g. 91234567A)"
FORMULA = "looks like a spreadsheet formula; type the plain value"
IDENTITY = (
    "(same staff, member, date, activity and modality: add start_time and end_time "
    "columns (or an entry_id) to record both; a count column if the row stands for "
    "several entries; or import with --distinct-rows to count identical rows apart)"
)


@dataclass(frozen=True)
class Expect:
    """A file-level ``problem`` (exit 2), or the rejected rows and how many were accepted."""

    problem: str | None = None
    rejections: list[tuple[int, str | None, str]] = field(default_factory=list)
    accepted: int = 0
    # Rows added to the kind's table; differs from ``accepted`` when a row updates a stored one.
    new_rows: int | None = None


EXPECTED: dict[str, Expect] = {
    # Encodings and files that are not tables at all: refused whole.
    "time__latin1.csv": Expect(problem=NOT_UTF8.format(2)),
    "time__utf16_with_bom.csv": Expect(accepted=2),
    "time__utf16_without_bom.csv": Expect(problem=NOT_UTF8.format(2)),
    "time__binary_garbage.csv": Expect(problem=NOT_UTF8.format(1)),
    "time__empty.csv": Expect(problem="the file is empty: it needs a header row"),
    "time__only_blank_lines.csv": Expect(problem="the file is empty: it needs a header row"),
    "time__header_only.csv": Expect(accepted=0),
    "time__malformed_quotes.csv": Expect(
        problem="line 3: the CSV is malformed (',' expected after '\"')"
    ),
    "time__truncated.xlsx": Expect(problem="the spreadsheet is damaged or incomplete (BadZipFile)"),
    "time__csv_renamed_to.xlsx": Expect(
        problem="the spreadsheet is damaged or incomplete (BadZipFile)"
    ),
    # Header problems: refused whole.
    "time__missing_column.csv": Expect(problem=f"missing column(s): modality ({TIME_COLUMNS})"),
    "time__extra_column.csv": Expect(problem=f"unexpected column(s): supervisor ({TIME_COLUMNS})"),
    "time__duplicated_column.csv": Expect(problem="column(s) named twice: minutes"),
    "eligibility__missing_column.xlsx": Expect(
        problem="missing column(s): month (columns for eligibility: eligible, member_id, month)"
    ),
    # Row-level problems: the row is refused, the others imported.
    "time__too_many_values.csv": Expect(
        rejections=[(3, None, "row has 8 values but the header has 7 columns")], accepted=1
    ),
    "time__too_few_values.csv": Expect(
        rejections=[(3, None, "row has 6 values but the header has 7 columns")], accepted=1
    ),
    "time__impossible_date.csv": Expect(
        rejections=[(3, "date", NOT_A_DATE), (4, "date", NOT_A_DATE)], accepted=1
    ),
    "time__future_date.csv": Expect(rejections=[(3, "date", "date is in the future")], accepted=1),
    "time__negative_minutes.csv": Expect(
        rejections=[(3, "minutes", "minutes must be more than 0")], accepted=1
    ),
    "time__zero_minutes.csv": Expect(
        rejections=[(3, "minutes", "minutes must be more than 0")], accepted=1
    ),
    "time__fractional_minutes.csv": Expect(
        rejections=[
            (3, "minutes", "minutes must be whole minutes"),
            (4, "minutes", "minutes is not a number"),
        ],
        accepted=1,
    ),
    "time__minutes_over_24h.csv": Expect(
        rejections=[(3, "minutes", "minutes is more than 24 hours for one day")], accepted=1
    ),
    "time__day_over_24h_across_rows.csv": Expect(
        rejections=[(4, "minutes", "staff would have more than 24 hours on 2026-10-05")],
        accepted=3,
    ),
    "time__duplicate_rows.csv": Expect(
        rejections=[
            (3, "entry_id", f"duplicate of line 2 {IDENTITY}"),
            (4, "entry_id", f"conflicts with line 2 {IDENTITY}"),
        ],
        accepted=1,
    ),
    "time__conflicting_entry_id.csv": Expect(
        rejections=[(3, "entry_id", "conflicts with line 2 (same entry_id)")], accepted=1
    ),
    "time__unknown_staff.csv": Expect(
        rejections=[(3, "staff_id", "staff_id is not a known staff member: import staff first")],
        accepted=1,
    ),
    "time__unknown_member.csv": Expect(
        rejections=[(3, "member_id", "member_id is not a known member: import members first")],
        accepted=1,
    ),
    "time__unknown_activity.csv": Expect(
        rejections=[(3, "activity", "activity is not in the contract's activity catalogue")],
        accepted=1,
    ),
    "time__bad_modality.csv": Expect(
        rejections=[(3, "modality", "modality must be one of: in_person, telephonic")],
        accepted=1,
    ),
    "time__end_before_start.csv": Expect(
        rejections=[
            (3, "end_time", "end_time must be after start_time on the same day"),
            (4, "start_time", "start_time is not a time of day (use HH:MM, 24-hour)"),
        ],
        accepted=1,
    ),
    "time__bad_rows.xlsx": Expect(
        # Spreadsheet row numbers, counting the blank row 4 the biller sees.
        rejections=[
            (3, "date", NOT_A_DATE),
            (5, "minutes", "minutes must be more than 0"),
            (6, "minutes", "minutes must be whole minutes"),
            (7, "member_id", NOT_A_CIN),
        ],
        accepted=2,
    ),
    "members__malformed_cin.csv": Expect(
        rejections=[(3, "member_id", NOT_A_CIN), (4, "member_id", NOT_A_CIN)], accepted=1
    ),
    "members__lowercase_cin.csv": Expect(accepted=1),
    "members__formula_in_name.csv": Expect(
        rejections=[
            (3, "first_name", f"first_name {FORMULA}"),
            (4, "last_name", f"last_name {FORMULA}"),
        ],
        accepted=1,
    ),
    "members__formula_in_name.xlsx": Expect(
        rejections=[(3, "first_name", f"first_name {FORMULA}")], accepted=1
    ),
    "members__impossible_birth_date.csv": Expect(
        rejections=[
            (2, "birth_date", "birth_date is not a real date (use YYYY-MM-DD or MM/DD/YYYY)")
        ]
    ),
    "staff__bad_npi_check_digit.csv": Expect(
        rejections=[(3, "npi", "npi is not a valid NPI (check digit does not match)")],
        accepted=1,
    ),
    "staff__non_numeric_npi.csv": Expect(rejections=[(2, "npi", "npi is not an NPI (10 digits)")]),
    "staff__bad_role.csv": Expect(
        rejections=[(2, "role", "role must be one of: clinical, non_clinical")]
    ),
    "staff__overlapping_role_periods.csv": Expect(
        rejections=[(3, "effective_from", "role period overlaps line 2 for the same staff member")],
        accepted=1,
    ),
    "enrollments__end_before_start.csv": Expect(
        rejections=[(2, "end_date", "end_date is before start_date")]
    ),
    "enrollments__overlapping.csv": Expect(
        rejections=[
            (4, "start_date", "enrollment overlaps line 3 for the same member"),
            (
                5,
                "start_date",
                "enrollment overlaps an enrollment already stored for the same member",
            ),
        ],
        accepted=2,
        new_rows=1,  # line 2 closes the stored enrollment that starts on 2026-09-01
    ),
    "eligibility__bad_month.csv": Expect(
        rejections=[
            (3, "month", "month is not a month (use YYYY-MM, e.g. 2026-10)"),
            (4, "month", "month is not a month (use YYYY-MM, e.g. 2026-10)"),
        ],
        accepted=1,
    ),
    "eligibility__bad_boolean.csv": Expect(
        rejections=[(2, "eligible", "eligible must be true or false")]
    ),
    "outreach__bad_method_and_outcome.csv": Expect(
        rejections=[
            (2, "method", "method must be one of: in_person, phone, video, text, email, mail"),
            (3, "outcome", "outcome must be one of: reached, not_reached, declined"),
            (4, "individualized", "individualized must be true or false"),
        ]
    ),
}


def test_there_are_at_least_25_broken_files_and_each_has_its_expectation() -> None:
    files = sorted(p.name for p in BAD_FILES.iterdir())
    assert files == sorted(EXPECTED)
    broken = [name for name, e in EXPECTED.items() if e.problem or e.rejections]
    assert len(broken) >= 25
    assert {Path(name).suffix for name in broken} == {".csv", ".xlsx"}


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: to prove an import left the database exactly as it was."""
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        return {
            name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
            for name, table in sorted(meta.tables.items())
            if name != "alembic_version"
        }


def count(engine: Engine, model: type[models.Base]) -> int:
    with unit_of_work(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def import_copy(engine: Engine, contract: Contract, source: Path, folder: Path) -> ImportResult:
    path = folder / source.name
    shutil.copyfile(source, path)
    kind = source.name.split("__")[0]
    return import_file(engine, kind, path, contract, actor="test", today=TODAY)


@pytest.fixture
def team(store_engine: Engine, contract: Contract, tmp_path: Path) -> Engine:
    Ledger(store_engine, contract, tmp_path).team()
    return store_engine


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_gets_its_reason_and_nothing_is_half_imported(
    team: Engine, contract: Contract, tmp_path: Path, name: str
) -> None:
    expect = EXPECTED[name]
    kind = KINDS[name.split("__")[0]]
    before = snapshot(team)
    rows_before = count(team, kind.model)
    folder = tmp_path / "in"
    folder.mkdir()

    result = import_copy(team, contract, BAD_FILES / name, folder)

    if expect.problem:
        assert result.exit_code == 2
        assert result.file_problem == expect.problem
        assert (result.rows_read, result.accepted, result.rejected) == (0, 0, 0)
        assert snapshot(team) == before
        assert list(folder.iterdir()) == [folder / name]  # no rejects file either
        return

    assert result.file_problem is None
    assert [(r.line, r.column, r.reason) for r in result.rejections] == expect.rejections
    assert result.accepted == expect.accepted
    assert result.accepted + result.rejected == result.rows_read
    assert result.exit_code == (1 if expect.rejections else 0)
    new_rows = expect.accepted if expect.new_rows is None else expect.new_rows
    assert count(team, kind.model) == rows_before + new_rows

    if kind.name == "time":
        # Exactly the good rows are in, under their own ids.
        table = read_table(folder / name)
        header = [h.strip().lower() for h in table.header]
        if "entry_id" in header:
            refused = {r.line for r in result.rejections}
            good = {
                raw.values[header.index("entry_id")]
                for raw in table.rows
                if raw.line not in refused
            }
            with unit_of_work(team) as session:
                assert set(session.scalars(select(models.TimeEntry.entry_id))) == good

    rejects = folder / f"{Path(name).stem}.rejects.csv"
    if not expect.rejections:
        assert not rejects.exists()
        return
    with rejects.open(newline="", encoding="utf-8") as handle:
        written = list(csv.reader(handle))
    assert written[0][:3] == ["line", "column", "reason"]
    assert [tuple(row[:3]) for row in written[1:]] == [
        (str(line), column or "", reason) for line, column, reason in expect.rejections
    ]


@pytest.mark.parametrize(
    "name",
    sorted(n for n, e in EXPECTED.items() if not e.problem),
)
def test_reimporting_the_same_file_changes_nothing(
    team: Engine, contract: Contract, tmp_path: Path, name: str
) -> None:
    first = import_copy(team, contract, BAD_FILES / name, tmp_path)
    after_first = snapshot(team)
    again = import_copy(team, contract, BAD_FILES / name, tmp_path)
    assert again.changed == 0
    assert again.rejections == first.rejections
    assert again.accepted == first.accepted
    after_again = snapshot(team)
    # Only the import batch log grows; no record and no audit row changes.
    assert {k: v for k, v in after_again.items() if k != "import_batches"} == {
        k: v for k, v in after_first.items() if k != "import_batches"
    }
    assert len(after_again["import_batches"]) == len(after_first["import_batches"]) + 1


def test_a_lowercase_cin_is_stored_upper_case(
    team: Engine, contract: Contract, tmp_path: Path
) -> None:
    import_copy(team, contract, BAD_FILES / "members__lowercase_cin.csv", tmp_path)
    with unit_of_work(team) as session:
        assert session.get(models.Member, "10000003C") is not None


def test_utf16_with_a_byte_order_mark_is_read_names_and_all(
    team: Engine, contract: Contract, tmp_path: Path
) -> None:
    import_copy(team, contract, BAD_FILES / "time__utf16_with_bom.csv", tmp_path)
    with unit_of_work(team) as session:
        notes = set(session.scalars(select(models.TimeEntry.note)))
    assert notes == {"visit at the café", "Ñandú"}


def test_an_import_is_one_transaction_a_crash_while_writing_leaves_the_database_as_before(
    engine: Engine, contract: Contract, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite and PostgreSQL: the rows are written, then the audit trail fails."""
    Ledger(engine, contract, tmp_path).team()
    before = snapshot(engine)

    insert_rows = import_records.bulk.insert_rows

    def crash(session: Session, table: Table, rows: Iterable[Any], **how: Any) -> int:
        if table.name == "audit_log":
            raise RuntimeError("disk full")
        return insert_rows(session, table, rows, **how)

    # The audit trail is written by the bulk writer, after the rows.
    monkeypatch.setattr(import_records.bulk, "insert_rows", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        import_copy(engine, contract, BAD_FILES / "time__day_over_24h_across_rows.csv", tmp_path)
    assert snapshot(engine) == before
    assert not (tmp_path / "time__day_over_24h_across_rows.rejects.csv").exists()


def test_a_bad_file_is_refused_whole_on_postgresql_too(
    engine: Engine, contract: Contract, tmp_path: Path
) -> None:
    Ledger(engine, contract, tmp_path).team()
    before = snapshot(engine)
    result = import_copy(engine, contract, BAD_FILES / "time__truncated.xlsx", tmp_path)
    assert result.exit_code == 2
    assert snapshot(engine) == before
    result = import_copy(engine, contract, BAD_FILES / "time__bad_rows.xlsx", tmp_path)
    assert (result.exit_code, result.accepted, result.rejected) == (1, 2, 4)
    assert result.rejections[0] == Rejection(3, "date", NOT_A_DATE)
