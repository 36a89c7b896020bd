"""Writes the broken import files under ``bad_files/``. Run it to regenerate them:

    python -m tests.imports.make_bad_files

File names are ``KIND__what_is_wrong.EXT``; ``test_bad_input.py`` holds what each must give.
The files are committed, so the tests read exactly the bytes a biller's system might send;
this script is how they were made (XLSX and odd encodings cannot be typed by hand).
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from openpyxl import Workbook

FOLDER = Path(__file__).with_name("bad_files")

TIME = "entry_id,staff_id,member_id,date,minutes,activity,modality"
GOOD_TIME = "T1,C1,10000001A,2026-10-05,30,care_coordination,in_person"

CSV: dict[str, str] = {
    "time__header_only": TIME,
    "time__missing_column": """
        entry_id,staff_id,member_id,date,minutes,activity
        T1,C1,10000001A,2026-10-05,30,care_coordination
        """,
    "time__extra_column": """
        entry_id,staff_id,member_id,date,minutes,activity,modality,supervisor
        T1,C1,10000001A,2026-10-05,30,care_coordination,in_person,Boss
        """,
    "time__duplicated_column": """
        entry_id,staff_id,member_id,date,minutes,activity,modality,Minutes
        T1,C1,10000001A,2026-10-05,30,care_coordination,in_person,30
        """,
    "time__malformed_quotes": f"""
        {TIME}
        {GOOD_TIME}
        T2,C1,10000001A,2026-10-06,"30"x,care_coordination,in_person
        """,
    "time__too_many_values": f"""
        {TIME}
        {GOOD_TIME}
        T2,C1,10000001A,2026-10-06,30,care_coordination,in_person,extra
        """,
    "time__too_few_values": f"""
        {TIME}
        {GOOD_TIME}
        T2,C1,10000001A,2026-10-06,30,care_coordination
        """,
    "time__impossible_date": f"""
        {TIME}
        {GOOD_TIME}
        T2,C1,10000001A,2026-02-30,30,care_coordination,in_person
        T3,C1,10000001A,02/30/2026,30,care_coordination,in_person
        """,
    "time__future_date": f"""
        {TIME}
        {GOOD_TIME}
        T2,C1,10000001A,2026-12-01,30,care_coordination,in_person
        """,
    "time__negative_minutes": f"""
        {TIME}
        {GOOD_TIME}
        T2,C1,10000001A,2026-10-06,-30,care_coordination,in_person
        """,
    "time__zero_minutes": f"""
        {TIME}
        {GOOD_TIME}
        T2,C1,10000001A,2026-10-06,0,care_coordination,in_person
        """,
    "time__fractional_minutes": f"""
        {TIME}
        {GOOD_TIME}
        T2,C1,10000001A,2026-10-06,30.5,care_coordination,in_person
        T3,C1,10000001A,2026-10-07,half an hour,care_coordination,in_person
        """,
    "time__minutes_over_24h": f"""
        {TIME}
        {GOOD_TIME}
        T2,C1,10000001A,2026-10-06,1441,care_coordination,in_person
        """,
    "time__day_over_24h_across_rows": f"""
        {TIME}
        T1,C1,10000001A,2026-10-05,600,care_coordination,in_person
        T2,C1,10000002B,2026-10-05,600,care_coordination,in_person
        T3,C1,10000001A,2026-10-05,241,assessment,in_person
        T4,C1,10000001A,2026-10-06,600,assessment,in_person
        """,
    "time__duplicate_rows": """
        staff_id,member_id,date,minutes,activity,modality
        C1,10000001A,2026-10-05,30,care_coordination,in_person
        C1,10000001A,2026-10-05,30,care_coordination,in_person
        C1,10000001A,2026-10-05,45,care_coordination,in_person
        """,
    "time__conflicting_entry_id": f"""
        {TIME}
        {GOOD_TIME}
        T1,N1,10000002B,2026-10-06,45,assessment,telephonic
        """,
    "time__unknown_staff": f"""
        {TIME}
        {GOOD_TIME}
        T2,Z9,10000001A,2026-10-06,30,care_coordination,in_person
        """,
    "time__unknown_member": f"""
        {TIME}
        {GOOD_TIME}
        T2,C1,10000009Z,2026-10-06,30,care_coordination,in_person
        """,
    "time__unknown_activity": f"""
        {TIME}
        {GOOD_TIME}
        T2,C1,10000001A,2026-10-06,30,karaoke,in_person
        """,
    "time__bad_modality": f"""
        {TIME}
        {GOOD_TIME}
        T2,C1,10000001A,2026-10-06,30,care_coordination,carrier_pigeon
        """,
    "time__end_before_start": """
        entry_id,staff_id,member_id,date,start_time,end_time,activity,modality
        T1,C1,10000001A,2026-10-05,09:00,09:45,care_coordination,in_person
        T2,C1,10000001A,2026-10-05,14:00,13:30,care_coordination,in_person
        T3,C1,10000001A,2026-10-05,25:00,26:00,care_coordination,in_person
        """,
    "members__malformed_cin": """
        member_id,first_name,last_name,birth_date
        10000003C,Cora,Testmember,1990-03-03
        1234567A,Dan,Testmember,1990-03-03
        100000044D,Eve,Testmember,1990-03-03
        """,
    "members__lowercase_cin": """
        member_id,first_name,last_name,birth_date
        10000003c,Cora,Testmember,1990-03-03
        """,
    "members__formula_in_name": """
        member_id,first_name,last_name,birth_date
        10000003C,Cora,Testmember,1990-03-03
        10000004D,"=HYPERLINK(""http://evil.example/"",""click"")",Testmember,1990-03-03
        10000005E,Fay,@SUM(A1:A9),1990-03-03
        """,
    "members__impossible_birth_date": """
        member_id,first_name,last_name,birth_date
        10000003C,Cora,Testmember,13/45/1970
        """,
    "staff__bad_npi_check_digit": """
        staff_id,name,role,npi
        S1,Sam Staff,clinical,1234567893
        S2,Sue Staff,clinical,1234567890
        """,
    "staff__non_numeric_npi": """
        staff_id,name,role,npi
        S1,Sam Staff,clinical,12345ABCDE
        """,
    "staff__overlapping_role_periods": """
        staff_id,name,role,effective_from,effective_to
        S1,Sam Staff,non_clinical,2026-01-01,2026-10-15
        S1,Sam Staff,clinical,2026-10-10,
        """,
    "staff__bad_role": """
        staff_id,name,role
        S1,Sam Staff,doctor
        """,
    "enrollments__end_before_start": """
        member_id,start_date,end_date
        10000002B,2026-10-10,2026-10-01
        """,
    "enrollments__overlapping": """
        member_id,start_date,end_date
        10000002B,2026-09-01,2026-09-30
        10000002B,2026-11-01,2026-11-30
        10000002B,2026-11-15,
        10000001A,2026-10-15,
        """,
    "eligibility__bad_month": """
        member_id,month,eligible
        10000001A,2026-12,true
        10000001A,2026-13,true
        10000001A,Oct 2026,true
        """,
    "eligibility__bad_boolean": """
        member_id,month,eligible
        10000001A,2026-12,maybe
        """,
    "outreach__bad_method_and_outcome": """
        attempt_id,staff_id,member_id,date,method,individualized,outcome
        O1,C1,10000002B,2026-10-05,carrier_pigeon,true,not_reached
        O2,C1,10000002B,2026-10-05,phone,true,ghosted
        O3,C1,10000002B,2026-10-05,phone,sometimes,reached
        """,
}


def csv_bytes(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines()]
    return "\r\n".join(lines) + "\r\n"


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


TIME_HEADER = TIME.split(",")


def main() -> None:
    FOLDER.mkdir(exist_ok=True)
    for name, text in CSV.items():
        (FOLDER / f"{name}.csv").write_bytes(csv_bytes(text).encode("utf-8"))

    (FOLDER / "time__latin1.csv").write_bytes(
        (
            "entry_id,staff_id,member_id,date,minutes,activity,modality,note\r\n"
            "T1,C1,10000001A,2026-10-05,30,care_coordination,in_person,visit at the café\r\n"
        ).encode("latin-1")
    )
    utf16 = (
        "entry_id,staff_id,member_id,date,minutes,activity,modality,note\r\n"
        "T1,C1,10000001A,2026-10-05,30,care_coordination,in_person,visit at the café\r\n"
        "T2,C1,10000001A,2026-10-06,30,care_coordination,in_person,Ñandú\r\n"
    )
    (FOLDER / "time__utf16_with_bom.csv").write_bytes(utf16.encode("utf-16"))
    (FOLDER / "time__utf16_without_bom.csv").write_bytes(utf16.encode("utf-16-le"))
    # The first bytes of a PNG image, then noise: a file sent under the wrong name.
    garbage = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    (FOLDER / "time__binary_garbage.csv").write_bytes(garbage)
    (FOLDER / "time__empty.csv").write_bytes(b"")
    (FOLDER / "time__only_blank_lines.csv").write_bytes(b"\r\n  \r\n\r\n")

    members = [["member_id", "first_name", "last_name", "birth_date"]]
    formula = xlsx(
        [
            *members,
            ["10000003C", "Cora", "Testmember", date(1990, 3, 3)],
            [
                "10000004D",
                '=HYPERLINK("http://evil.example/","click")',
                "Testmember",
                date(1990, 3, 3),
            ],
        ]
    )
    (FOLDER / "members__formula_in_name.xlsx").write_bytes(formula)

    good_time = xlsx(
        [
            TIME_HEADER,
            ["T1", "C1", "10000001A", date(2026, 10, 5), 30, "care_coordination", "in_person"],
            ["T2", "C1", "10000001A", date(2026, 10, 6), 45, "care_coordination", "in_person"],
            ["T3", "C1", "10000001A", date(2026, 10, 7), 60, "care_coordination", "in_person"],
        ]
    )
    (FOLDER / "time__truncated.xlsx").write_bytes(good_time[: len(good_time) // 2])
    (FOLDER / "time__csv_renamed_to.xlsx").write_bytes(
        csv_bytes(f"{TIME}\n{GOOD_TIME}").encode("utf-8")
    )
    (FOLDER / "time__bad_rows.xlsx").write_bytes(
        xlsx(
            [
                TIME_HEADER,
                ["T1", "C1", "10000001A", date(2026, 10, 5), 30, "care_coordination", "in_person"],
                ["T2", "C1", "10000001A", "2026-02-30", 30, "care_coordination", "in_person"],
                [],
                ["T3", "C1", "10000001A", date(2026, 10, 7), -5, "care_coordination", "in_person"],
                [
                    "T4",
                    "C1",
                    "10000001A",
                    date(2026, 10, 8),
                    12.5,
                    "care_coordination",
                    "in_person",
                ],
                ["T5", "C1", "1234", date(2026, 10, 9), 30, "care_coordination", "in_person"],
                ["T6", "N1", "10000002B", date(2026, 10, 9), 90, "assessment", "telephonic"],
            ]
        )
    )
    (FOLDER / "eligibility__missing_column.xlsx").write_bytes(
        xlsx([["member_id", "eligible"], ["10000001A", True]])
    )


if __name__ == "__main__":
    main()
