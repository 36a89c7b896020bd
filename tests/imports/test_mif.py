"""The plan's Member Information File: members created or updated, row-level rejects, one
transaction, history in the audit log."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from ecmbill.imports.mif import import_mif
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.conftest import TODAY
from tests.exchange.builders import mif_header, mif_row, write_csv


def count(engine: Engine, model: type[models.Base]) -> int:
    with unit_of_work(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_new_members_are_created_with_their_details_and_assignment(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "mif.csv", mif_header(), [mif_row("91234567a", "Garcia", "Maria", "1970-01-01")]
    )
    result = import_mif(engine, path, actor="test", today=TODAY)
    assert (result.rows_read, result.accepted, result.rejected) == (1, 1, 0)
    with unit_of_work(engine) as session:
        detail = session.get(models.MemberDetail, "91234567A")
        assert detail is not None
        assert (detail.address, detail.city, detail.state, detail.zip, detail.phone) == (
            "12 Main St",
            "El Centro",
            "CA",
            "92243",
            "7605551234",
        )
        assert (detail.homeless, detail.plan_id) == (False, "CHPIV")
        event = session.scalars(select(models.MemberStatusEvent)).one()
        assert (event.status, event.on.isoformat()) == ("assigned", "2026-09-15")


def test_bad_rows_are_rejected_with_line_column_and_reason_and_the_rest_imported(
    engine: Engine, tmp_path: Path
) -> None:
    rows = [
        mif_row("91234567A", "Garcia", "Maria", "1970-01-01"),
        mif_row("7777777", "Lopez", "Juan", "1980-02-02"),
        mif_row("93456789C", "Smith", "Linda", "1960-03-03", zip_code="9224"),
        mif_row("94567890D", "Reyes", "Ana", "2030-01-01"),
        mif_row("91234567A", "Garcia", "Mario", "1970-01-01"),
    ]
    result = import_mif(engine, write_csv(tmp_path / "mif.csv", mif_header(), rows), actor="t")
    assert [(r.line, r.column) for r in result.rejections] == [
        (3, "Member CIN"),
        (4, "Zip"),
        (5, "Member Date of Birth"),
        (6, "Member CIN"),
    ]
    assert "not a Medi-Cal CIN" in result.rejections[0].reason
    assert "7777777" not in result.rejections[0].reason  # never the value itself
    assert "conflicts with line 2" in result.rejections[3].reason
    assert result.accepted + result.rejected == result.rows_read == 5
    assert count(engine, models.Member) == 1
    assert result.rejects_file is not None and result.rejects_file.exists()


def test_a_file_with_wrong_columns_imports_nothing(engine: Engine, tmp_path: Path) -> None:
    header = [h if h != "Member CIN" else "CIN Number" for h in mif_header()]
    path = write_csv(
        tmp_path / "mif.csv", header, [mif_row("91234567A", "Garcia", "Maria", "1970-01-01")]
    )
    result = import_mif(engine, path, actor="test", today=TODAY)
    assert result.exit_code == 2
    assert "missing column(s): Member CIN" in (result.file_problem or "")
    assert "unexpected column(s): CIN Number" in (result.file_problem or "")
    assert count(engine, models.Member) == 0
    assert count(engine, models.ImportBatch) == 0


def test_reimporting_changes_nothing_and_a_change_is_kept_in_history(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "mif.csv", mif_header(), [mif_row("91234567A", "Garcia", "Maria", "1970-01-01")]
    )
    import_mif(engine, path, actor="test", today=TODAY)
    audits = count(engine, models.AuditRecord)
    again = import_mif(engine, path, actor="test", today=TODAY)
    assert again.changed == 0
    assert count(engine, models.AuditRecord) == audits

    moved = write_csv(
        tmp_path / "mif2.csv",
        mif_header(),
        [mif_row("91234567A", "Garcia", "Maria", "1970-01-01", address="40 Palm Ave")],
    )
    assert import_mif(engine, moved, actor="test", today=TODAY).changed == 1
    with unit_of_work(engine) as session:
        detail = session.get(models.MemberDetail, "91234567A")
        assert detail is not None and detail.address == "40 Palm Ave"
        change = session.scalars(
            select(models.AuditRecord).where(
                models.AuditRecord.entity == "member_details",
                models.AuditRecord.action == "update",
            )
        ).one()
    assert "12 Main St" in (change.before or "") and "40 Palm Ave" in (change.after or "")


def test_a_spreadsheet_mif_reads_like_the_csv(engine: Engine, tmp_path: Path) -> None:
    from datetime import datetime

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(mif_header())
    row: list[object] = list(mif_row("91234567A", "Garcia", "Maria", "1970-01-01"))
    row[mif_header().index("Member Date of Birth")] = datetime(1970, 1, 1)
    row[mif_header().index("Zip")] = 92243  # Excel turns a ZIP code into a number
    sheet.append(row)
    path = tmp_path / "mif.xlsx"
    book.save(path)
    result = import_mif(engine, path, actor="test", today=TODAY)
    assert (result.accepted, result.rejected) == (1, 0)
