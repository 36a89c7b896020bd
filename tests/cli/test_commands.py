"""The ``ecmbill`` command: exit codes, printed counts, the JSON others read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from ecmbill.store import models
from ecmbill.store.db import open_store, unit_of_work
from tests.builders import ELIGIBLE_AUTUMN, MEMBERS, STAFF
from tests.cli.conftest import Cli

TIME = "entry_id,staff_id,member_id,date,minutes,activity,modality"
OUTREACH = "attempt_id,staff_id,member_id,date,method,individualized,outcome,minutes"


def load_team(cli: Cli) -> None:
    for kind, text in (
        ("staff", STAFF),
        ("members", MEMBERS),
        ("eligibility", ELIGIBLE_AUTUMN),
        # 10000002B is not enrolled yet in October: outreach may bill for them.
        (
            "enrollments",
            "member_id,start_date,end_date\n10000001A,2026-09-01,\n10000002B,2026-11-01,",
        ),
    ):
        result = cli("import", kind, str(cli.file(f"{kind}.csv", text)))
        assert result.exit_code == 0, result.output


def test_import_prints_the_counts_and_exits_0_when_every_row_is_accepted(cli: Cli) -> None:
    result = cli("import", "staff", str(cli.file("staff.csv", STAFF)))
    assert result.exit_code == 0
    assert (
        "staff.csv (staff): 4 rows read, 4 accepted (4 added, 0 updated, 0 unchanged, 0 deleted), "
        "0 rejected" in result.output
    )
    again = cli("import", "staff", str(cli.file("staff.csv", STAFF)))
    assert again.exit_code == 0
    assert (
        "4 rows read, 4 accepted (0 added, 0 updated, 4 unchanged, 0 deleted), 0 rejected"
        in again.output
    )


def test_import_exits_1_lists_the_rejected_rows_and_writes_them_beside_the_file(cli: Cli) -> None:
    load_team(cli)
    path = cli.file(
        "october.csv",
        f"""
        {TIME}
        T1,C1,10000001A,2026-10-05,30,care_coordination,in_person
        T2,C1,10000001A,2026-10-06,-5,care_coordination,in_person
        T3,C1,99999999Z,2026-10-06,5,care_coordination,in_person
        """,
    )
    result = cli("import", "time", str(path))
    assert result.exit_code == 1
    assert (
        "october.csv (time): 3 rows read, 1 accepted (1 added, 0 updated, 0 unchanged, 0 deleted), "
        "2 rejected" in result.output
    )
    assert "minutes must be more than 0" in result.output
    assert "member_id is not a known member: import members first" in result.output
    rejects = cli.folder / "october.rejects.csv"
    assert f"All rejected rows, with their reasons: {rejects}" in result.output
    assert rejects.read_text(encoding="utf-8").splitlines()[:3] == [
        "line,column,reason," + TIME,
        "3,minutes,minutes must be more than 0,"
        "T2,C1,10000001A,2026-10-06,-5,care_coordination,in_person",
        "4,member_id,member_id is not a known member: import members first,"
        "T3,C1,99999999Z,2026-10-06,5,care_coordination,in_person",
    ]


def test_import_exits_2_and_imports_nothing_when_the_file_cannot_be_read(cli: Cli) -> None:
    path = cli.folder / "staff.csv"
    path.write_bytes("staff_id,name,role\nS1,José,clinical\n".encode("latin-1"))
    result = cli("import", "staff", str(path))
    assert result.exit_code == 2
    assert "staff.csv: nothing imported" in result.output
    assert "the file is not UTF-8 text" in result.output
    missing = cli("import", "staff", str(cli.folder / "nowhere.csv"))
    assert missing.exit_code == 2
    assert "cannot open the file" in missing.output


def test_import_refuses_an_unknown_kind(cli: Cli) -> None:
    result = cli("import", "payroll", str(cli.file("x.csv", "a\n1")))
    assert result.exit_code == 2


def test_rate_json_prints_exactly_the_documented_shape(cli: Cli) -> None:
    load_team(cli)
    cli(
        "import",
        "time",
        str(
            cli.file(
                "time.csv",
                f"""
                {TIME}
                T1,C1,10000001A,2026-10-02,25,care_coordination,telephonic
                T2,C2,10000001A,2026-10-14,25,case_conference,telephonic
                T3,C3,10000001A,2026-10-30,25,assessment,telephonic
                T4,C1,10000001A,2026-10-30,25,administrative,in_person
                """,
            )
        ),
    )
    cli(
        "import",
        "outreach",
        str(
            cli.file(
                "outreach.csv", f"{OUTREACH}\nO1,N1,10000002B,2026-10-09,video,true,not_reached,"
            )
        ),
    )
    result = cli("rate", "--period", "2026-10", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "period": "2026-10",
        "lines": [
            {
                "member_id": "10000001A",
                "plan": "default",
                "code": "G9008",
                "modifiers": ["U1", "GQ"],
                "kind": "service",
                "minutes": 75,
                "units": 2,
                "first_date": "2026-10-02",
                "last_date": "2026-10-30",
                "source_ids": ["T1", "T2", "T3"],
            },
            {
                "member_id": "10000002B",
                "plan": "default",
                "code": "G9012",
                "modifiers": ["U8", "GQ"],
                "kind": "outreach",
                "minutes": 0,
                "units": 1,
                "first_date": "2026-10-09",
                "last_date": "2026-10-09",
                "source_ids": ["O1"],
            },
        ],
        "not_billed": [
            {
                "source": "time",
                "id": "T4",
                "reason_code": "NOT_REIMBURSABLE",
                "reason": "not reimbursable: administrative overhead is not an ECM service",
            }
        ],
    }


def test_rate_refuses_a_period_that_is_not_yyyy_mm(cli: Cli) -> None:
    result = cli("rate", "--period", "2026-13")
    assert result.exit_code == 2
    assert "month must be 01 to 12" in result.output


def test_rate_without_json_prints_lines_and_reasons(cli: Cli) -> None:
    load_team(cli)
    cli(
        "import",
        "time",
        str(
            cli.file(
                "t.csv",
                f"{TIME}\nT1,C1,10000001A,2026-10-05,61,billing,in_person\nT2,C1,10000001A,2026-10-05,61,assessment,in_person",
            )
        ),
    )
    result = cli("rate", "--period", "2026-10")
    assert result.exit_code == 0
    assert "1 claim lines, 2 units; 1 entries do not bill." in result.output
    assert "not reimbursable: billing and claims work is not an ECM service" in result.output


def test_report_shows_minutes_units_and_what_rounding_added(cli: Cli) -> None:
    load_team(cli)
    cli(
        "import",
        "time",
        str(
            cli.file(
                "time.csv",
                f"""
                {TIME}
                T1,C1,10000001A,2026-10-02,25,care_coordination,in_person
                T2,C2,10000001A,2026-10-14,25,care_coordination,in_person
                T3,C3,10000001A,2026-10-30,25,care_coordination,in_person
                T4,C1,10000002B,2026-10-30,25,care_coordination,in_person
                """,
            )
        ),
    )
    result = cli("report", "--period", "2026-10")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Minutes per unit, 2026-10" in out  # issue 15: renamed from "Honesty report"
    assert "Service time: 75 minutes worked, 2 units billed, 37.5 minutes per unit" in out
    assert "Lines where rounding added 45 minutes or more" in out
    assert "NOT_ENROLLED" in out and "Not billed, by reason" in out


def test_members_utr_lists_what_is_missing_then_reports_when_allowed(cli: Cli) -> None:
    load_team(cli)
    two = f"""
        {OUTREACH}
        O1,N1,10000002B,2026-10-01,phone,true,not_reached,
        O2,N1,10000002B,2026-10-08,text,true,not_reached,
        O3,N1,10000002B,2026-10-09,mail,false,not_reached,
    """
    cli("import", "outreach", str(cli.file("o1.csv", two)))
    refused = cli("members", "utr", "10000002B", "--report")
    assert refused.exit_code == 1
    assert "Outreach attempts that count: 2" in refused.output
    assert "1 more outreach attempt needed: the contract requires 3, 2 made" in refused.output
    with unit_of_work(open_store(cli.database)) as session:
        assert session.scalars(select(models.MemberStatusEvent)).all() == []

    cli(
        "import",
        "outreach",
        str(
            cli.file(
                "o2.csv", f"{OUTREACH}\nO4,N1,10000002B,2026-10-15,in_person,true,not_reached,"
            )
        ),
    )
    allowed = cli("members", "utr", "10000002b")
    assert allowed.exit_code == 0
    assert "May be reported unable to reach" in allowed.output

    reported = cli("members", "utr", "10000002B", "--report", "--on", "2026-10-20")
    assert reported.exit_code == 0
    assert "Reported unable to reach on 2026-10-20." in reported.output
    # Reporting again records nothing new: the first report stands.
    again = cli("members", "utr", "10000002B", "--report", "--on", "2026-10-25")
    assert again.exit_code == 0
    assert "Reported unable to reach on 2026-10-20." in again.output
    with unit_of_work(open_store(cli.database)) as session:
        events = session.scalars(select(models.MemberStatusEvent)).all()
        assert [(e.member_id, e.status, e.on.isoformat()) for e in events] == [
            ("10000002B", "unable_to_reach", "2026-10-20")
        ]
        trail = session.scalars(
            select(models.AuditRecord).where(models.AuditRecord.entity == "member_status")
        ).all()
        assert [(a.action, a.entity_key, a.actor) for a in trail] == [
            ("create", "10000002B", "tester")
        ]


def test_members_utr_for_an_unknown_member_fails(cli: Cli) -> None:
    load_team(cli)
    result = cli("members", "utr", "99999999Z")
    assert result.exit_code == 2
    assert "no member with that member_id" in result.output


def test_contract_check_names_the_key_and_the_reason(cli: Cli) -> None:
    good = cli("contract", "default")
    assert good.exit_code == 0
    path = cli.folder / "mine.toml"
    path.write_text(good.stdout, encoding="utf-8")
    assert cli("contract", "check", str(path)).exit_code == 0

    path.write_text(good.stdout.replace('rate = "100.00"', 'rate = "100.005"', 1), encoding="utf-8")
    decimals = cli("contract", "check", str(path))
    assert decimals.exit_code == 2
    assert (
        "codes.0.rate: Decimal input should have no more than 2 decimal places" in decimals.output
    )

    text = good.stdout
    path.write_text(text[: text.rindex("[[codes]]")] + text[text.index("# How each outreach") :])
    missing = cli("contract", "check", str(path))
    assert missing.exit_code == 2
    assert "codes: no code for non_clinical telephonic outreach" in missing.output


def test_contract_set_stores_the_contract_for_later_commands(cli: Cli) -> None:
    text = cli("contract", "default").stdout
    path = cli.folder / "mine.toml"
    path.write_text(text.replace("required_attempts = 3", "required_attempts = 1"))
    assert cli("contract", "set", str(path)).exit_code == 0
    load_team(cli)
    cli(
        "import",
        "outreach",
        str(cli.file("o.csv", f"{OUTREACH}\nO1,N1,10000002B,2026-10-01,phone,true,not_reached,")),
    )
    assert cli("members", "utr", "10000002B").exit_code == 0


def test_demo_runs_from_nothing_in_under_a_minute_and_prints_the_summary(tmp_path: Path) -> None:
    """End to end, as the README runs it: the installed console script, in a fresh folder."""
    script = Path(sys.executable).with_name("ecmbill")
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("ECMBILL_DATABASE_URL", None)
    started = time.monotonic()
    done = subprocess.run(
        [str(script), "demo", "--database", f"sqlite:///{tmp_path / 'demo.db'}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert elapsed < 60
    out = done.stdout
    assert "ecmbill demo" in out and "fake members" in out
    assert "members billed on" in out and "claim lines" in out
    assert "Minutes per unit" in out  # issue 15: renamed from "Honesty report"
    assert "all identifiers are fake" in out
    assert (tmp_path / "demo.db").exists()

    # `ecmbill demo` always writes a SQLite file (a demo needs no server), so this stays SQLite.
    rated = subprocess.run(
        [str(script), "rate", "--period", _demo_period(out), "--json",
         "--database", f"sqlite:///{tmp_path / 'demo.db'}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert rated.returncode == 0, rated.stderr
    rating = json.loads(rated.stdout)
    assert set(rating) == {"period", "lines", "not_billed"}
    assert rating["lines"] and rating["not_billed"]
    assert {r["reason_code"] for r in rating["not_billed"]} >= {
        "NOT_ELIGIBLE",
        "MASS_COMMUNICATION",
        "NOT_REIMBURSABLE",
    }
    assert all(line["units"] > 0 for line in rating["lines"])


def _demo_period(out: str) -> str:
    return out.split("ecmbill demo: ", 1)[1][:7]


def test_members_utr_report_refuses_a_date_that_is_not_a_date(cli: Cli) -> None:
    load_team(cli)
    result = cli("members", "utr", "10000002B", "--report", "--on", "2026-13-01")
    assert result.exit_code == 2
    # The import's reason for the same cell: every door refuses a date in the same words.
    assert "--on is not a real date (use YYYY-MM-DD or MM/DD/YYYY)" in result.output


def test_members_utr_report_refuses_a_member_enrolled_on_that_day(cli: Cli) -> None:
    """Three unanswered attempts before enrollment satisfy the attempts rule, but once the
    member is enrolled the lifecycle refuses "unable to reach"."""
    load_team(cli)
    attempts = f"""
        {OUTREACH}
        O1,N1,10000002B,2026-10-01,phone,true,not_reached,
        O2,N1,10000002B,2026-10-08,text,true,not_reached,
        O3,N1,10000002B,2026-10-15,in_person,true,not_reached,
    """
    cli("import", "outreach", str(cli.file("o.csv", attempts)))
    refused = cli("members", "utr", "10000002B", "--report", "--on", "2026-11-05")
    assert refused.exit_code == 1
    assert "not recorded: a member who is enrolled cannot become unable_to_reach" in (
        refused.output
    )
    with unit_of_work(open_store(cli.database)) as session:
        assert session.scalars(select(models.MemberStatusEvent)).all() == []


def test_a_database_that_cannot_be_opened_is_a_message_not_a_traceback(cli: Cli) -> None:
    # Explicitly SQLite: a file in a missing folder is the everyday way a database cannot open.
    result = cli("rate", "--period", "2026-10", "--database", "sqlite:////no/such/folder/x.db")
    assert result.exit_code == 2
    assert "cannot open the database: unable to open database file" in result.output
    assert "Traceback" not in result.output
