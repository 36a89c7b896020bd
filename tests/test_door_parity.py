"""Every door that takes a value takes or refuses it alike, with the same words.

One table of cells, good and bad, goes through each door that takes the value: the CSV and
XLSX imports, the file checks of ``rate --source`` (CSV, and typed Parquet where types
matter), the web time and outreach forms, the JSON API and the CLI's ``--on`` dates. The
import's verdict is the reference; every other door must give the same verdict (accepted, or
the same reason) unless the case lists an intended difference for that door, with why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import Engine
from typer.testing import CliRunner

from ecmbill.cli import app as cli_app
from ecmbill.contract import Contract
from ecmbill.imports.service import import_file
from ecmbill.rating.file_checks import check
from ecmbill.rating.files import read_source
from tests.conftest import TODAY
from tests.web.conftest import Clients, app, clients, csrf_of, seeded_database, world

# The web tests' provider (staff S1-S3, members, a seeded store) serves every door here.
__all__ = ["app", "clients", "seeded_database", "world"]

OK = None  # the verdict of a door that takes the value
Verdict = str | None

# Why a file to rate differs: it takes values as written (docs/decisions.md, "Rating from
# files"), so what the import would rewrite must be written the stored way.
AS_WRITTEN = "a file to rate takes values as written (docs/decisions.md)"
NO_TODAY = "a file to rate has no 'today': it rates the period asked for, whatever it holds"
CATALOGUE = (
    "a file to rate does not refuse an unknown activity: it rates as NOT_REIMBURSABLE "
    "(docs/decisions.md)"
)
BY_NAME = "the form and the API also find a member by name, so a non-CIN is looked up"
FUTURE_START = "an enrollment may start in the future"


def written(column: str, how: str) -> str:
    return f"{column} must be written {how} in a file to rate"


SPACES = "without spaces around it"
ISO = "as YYYY-MM-DD without spaces"
LOWER = "in lower case without spaces"
CAPITALS = "in capitals without spaces (e.g. 91234567A)"


@dataclass(frozen=True)
class Case:
    kind: str
    cells: dict[str, str]
    verdict: Verdict  # the import's
    # door -> (its verdict, why it differs)
    differs: dict[str, tuple[Verdict, str]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.cells}"


def time(
    verdict: Verdict, differs: dict[str, tuple[Verdict, str]] | None = None, **cells: str
) -> Case:
    return Case("time", cells, verdict, differs or {})


def outreach(
    verdict: Verdict, differs: dict[str, tuple[Verdict, str]] | None = None, **cells: str
) -> Case:
    return Case("outreach", cells, verdict, differs or {})


def staff(
    verdict: Verdict, differs: dict[str, tuple[Verdict, str]] | None = None, **cells: str
) -> Case:
    return Case("staff", cells, verdict, differs or {})


NOT_A_DATE = "date is not a real date (use YYYY-MM-DD or MM/DD/YYYY)"
NOT_A_CIN = "member_id is not a Medi-Cal CIN (8 digits then a letter, e.g. 91234567A)"
NO_MEMBER = "no member matches: type a name or a CIN"

CASES = [
    # minutes
    time(OK, minutes="60"),
    time("minutes is not a number", minutes="1e3"),
    time("minutes is not a number", minutes="1_000"),
    time("minutes is not a number", minutes="nan"),
    time(OK, {"files": (written("minutes", SPACES), AS_WRITTEN)}, minutes=" 60"),
    time(OK, minutes="60.0"),
    time("minutes must be whole minutes", minutes="60.5"),
    time("minutes must be more than 0", minutes="-0"),
    time("minutes must be more than 0", minutes="0"),
    time("minutes is more than 24 hours for one day", minutes="1441"),
    # dates
    time(OK, date="2026-10-15"),
    time(OK, {"files": (written("date", ISO), AS_WRITTEN)}, date="10/15/2026"),
    time(OK, {"files": (written("date", ISO), AS_WRITTEN)}, date="2026-10-5"),
    time(OK, {"files": (written("date", ISO), AS_WRITTEN)}, date=" 2026-10-15"),
    time(NOT_A_DATE, date="2026-02-30"),
    time(NOT_A_DATE, date="15.10.2026"),
    # Once a server error in the web form and the API (fieldwork asked for the date's period
    # before the import's checks); now refused in the import's words at every door.
    time("date is before 1900", date="1899-12-31"),
    time(
        "date is in the future",
        {"files": (OK, NO_TODAY), "cli": (OK, FUTURE_START)},
        date="2026-12-01",
    ),
    # member ids
    time(OK, {"files": (written("member_id", CAPITALS), AS_WRITTEN)}, member_id="91234567a"),
    time(
        NOT_A_CIN, {"web": (NO_MEMBER, BY_NAME), "api": (NO_MEMBER, BY_NAME)}, member_id="9123456A"
    ),
    # activity and modality
    time(OK, activity="care_coordination"),
    time(
        "activity is not in the contract's activity catalogue",
        {"files": (OK, CATALOGUE)},
        activity="golf",
    ),
    time(OK, {"files": (written("activity", LOWER), AS_WRITTEN)}, activity="Care_Coordination"),
    time("activity must not contain spaces", activity="care coordination"),
    time(OK, {"files": (written("modality", LOWER), AS_WRITTEN)}, modality="In_Person"),
    time("modality must be one of: in_person, telephonic", modality="by_pigeon"),
    # clock times
    time(OK, minutes="", start_time="9:00", end_time="10:00"),
    time(
        "start_time is not a time of day (use HH:MM, 24-hour)",
        minutes="",
        start_time="24:00",
        end_time="10:00",
    ),
    time(
        "end_time is not a time of day (use HH:MM, 24-hour)",
        minutes="",
        start_time="09:00",
        end_time="09:60",
    ),
    time(
        "end_time must be after start_time on the same day",
        minutes="",
        start_time="10:00",
        end_time="09:30",
    ),
    time(
        "minutes does not match start_time to end_time",
        minutes="30",
        start_time="09:00",
        end_time="10:00",
    ),
    time(
        "start_time and end_time go together: give both or neither",
        minutes="",
        start_time="09:00",
    ),
    # outreach flags, methods and minutes
    outreach(OK, individualized="yes"),
    outreach(OK, individualized="1"),
    outreach(OK, individualized="Y"),
    outreach("individualized must be true or false", individualized="maybe"),
    outreach(OK, {"files": (written("method", LOWER), AS_WRITTEN)}, method="Phone"),
    outreach("minutes must be between 0 and 24 hours", minutes="-1"),
    outreach("minutes is not a number", minutes="1e3"),
    # staff: NPI and role periods
    staff(OK, npi="1698797309"),
    staff("npi is not a valid NPI (check digit does not match)", npi="1698797308"),
    staff("npi is not an NPI (10 digits)", npi="12345"),
    staff(OK, {"files": (written("role", LOWER), AS_WRITTEN)}, role="Clinical"),
    staff(
        "effective_to is before effective_from",
        effective_from="2026-01-01",
        effective_to="2025-12-31",
    ),
]

BASE = {
    "time": {
        "staff_id": "S1",
        "member_id": "91234567A",
        "date": "2026-10-15",
        "minutes": "20",
        "start_time": "",
        "end_time": "",
        "activity": "care_coordination",
        "modality": "in_person",
        "note": "",
    },
    "outreach": {
        "staff_id": "S1",
        "member_id": "93456789C",
        "date": "2026-10-09",
        "method": "phone",
        "individualized": "true",
        "outcome": "not_reached",
        "minutes": "5",
    },
    "staff": {
        "name": "Pat Example",
        "role": "clinical",
        "npi": "",
        "effective_from": "",
        "effective_to": "",
    },
}
ID = {"time": "entry_id", "outreach": "attempt_id", "staff": "staff_id"}
FORM_FIELDS = {
    "time": ("member_id", "date", "minutes", "start_time", "end_time", "activity", "modality"),
    "outreach": ("member_id", "date", "method", "individualized", "outcome", "minutes"),
}
KINDS = tuple(BASE)


def rows_of(kind: str) -> list[tuple[int, dict[str, str]]]:
    """The cases of a kind as full rows, each with its own id (``X<case number>``)."""
    return [
        (number, {ID[kind]: f"X{number}", **BASE[kind], **case.cells})
        for number, case in enumerate(CASES)
        if case.kind == kind
    ]


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(row[name] for name in header) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_xlsx(path: Path, rows: list[dict[str, str]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    header = list(rows[0])
    sheet.append(header)
    for row in rows:
        sheet.append([row[name] for name in header])
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            cell.data_type = "s"  # typed as text, as a biller types into a text column
    book.save(path)
    return path


Door = Callable[[str, list[tuple[int, dict[str, str]]]], dict[int, Verdict]]


def import_door(engine: Engine, contract: Contract, folder: Path, suffix: str) -> Door:
    def verdicts(kind: str, rows: list[tuple[int, dict[str, str]]]) -> dict[int, Verdict]:
        path = folder / f"{kind}{suffix}"
        (write_xlsx if suffix == ".xlsx" else write_csv)(path, [row for _, row in rows])
        result = import_file(engine, kind, path, contract, actor="test", today=TODAY)
        assert result.file_problem is None, result.file_problem
        by_line = {r.line: r.reason for r in result.rejections}
        return {number: by_line.get(line) for line, (number, _) in enumerate(rows, start=2)}

    return verdicts


def files_door(folder: Path) -> Door:
    def verdicts(kind: str, rows: list[tuple[int, dict[str, str]]]) -> dict[int, Verdict]:
        path = write_csv(folder / f"{kind}.csv", [row for _, row in rows])
        con = ibis.duckdb.connect()
        try:
            checked = check(read_source(con, path), kind, path).table
            found = checked.select(id=checked[ID[kind]], problem=checked.problem).to_pyarrow()
        finally:
            con.disconnect()
        by_id = dict(zip(found["id"].to_pylist(), found["problem"].to_pylist(), strict=True))
        return {number: by_id[row[ID[kind]]] for number, row in rows}

    return verdicts


def form_door(client: TestClient) -> Door:
    def verdicts(kind: str, rows: list[tuple[int, dict[str, str]]]) -> dict[int, Verdict]:
        page = f"/{kind}"
        found: dict[int, Verdict] = {}
        for number, row in rows:
            form = {name: row[name] for name in FORM_FIELDS[kind]}
            token = csrf_of(client.get(page).text)
            try:
                response = client.post(
                    page, data={**form, "csrf_token": token}, follow_redirects=False
                )
            except Exception as crash:  # a door that breaks on a value disagrees loudly
                found[number] = f"crashed: {type(crash).__name__}"
                continue
            if response.status_code in (200, 303) and 'role="alert"' not in response.text:
                found[number] = OK
                continue
            # The form shows every problem at once (issue 16); the first it lists, at the top,
            # is the one the import's checks stop at.
            shown = re.search(r'<li><a href="#f-\w+">([^<]*)</a></li>', response.text)
            assert shown, response.text
            found[number] = unescape(shown[1])
        return found

    return verdicts


def api_door(client: TestClient) -> Door:
    def verdicts(kind: str, rows: list[tuple[int, dict[str, str]]]) -> dict[int, Verdict]:
        token = client.get("/api/me").json()["csrf_token"]
        found: dict[int, Verdict] = {}
        for number, row in rows:
            entry = {name: row[name] for name in FORM_FIELDS[kind]}
            try:
                response = client.post(
                    "/api/time-entries", json=entry, headers={"X-CSRF-Token": token}
                )
            except Exception as crash:  # a door that breaks on a value disagrees loudly
                found[number] = f"crashed: {type(crash).__name__}"
                continue
            found[number] = None if response.status_code == 201 else response.json()["detail"]
        return found

    return verdicts


def cli_door(database: str) -> Door:
    """``members enroll --on DATE``: dates only; its refusal names the option, not a column."""

    def verdicts(kind: str, rows: list[tuple[int, dict[str, str]]]) -> dict[int, Verdict]:
        found: dict[int, Verdict] = {}
        for number, row in rows:
            done = CliRunner().invoke(
                cli_app,
                ["members", "enroll", "92345678B", "--on", row["date"], "--database", database],
            )
            said = " ".join(done.output.split())
            refused = re.search(r"--on (.*)$", said)
            found[number] = f"date {refused[1]}" if refused else None
        return found

    return verdicts


def takes(door: str, case: Case) -> bool:
    """Whether ``door`` takes every cell the case changes."""
    if door in ("web", "api"):
        allowed = FORM_FIELDS.get(case.kind, ()) if door == "web" or case.kind == "time" else ()
        return bool(allowed) and set(case.cells) <= set(allowed)
    if door == "cli":
        return set(case.cells) == {"date"}
    return True


def compare(door: str, verdicts: dict[int, Verdict], reference: dict[int, Verdict]) -> list[str]:
    wrong = []
    for number, verdict in verdicts.items():
        case = CASES[number]
        if not takes(door, case):
            continue
        expected, _why = case.differs.get(door, (reference[number], ""))
        if verdict != expected:
            wrong.append(f"{door}: {case.label}: expected {expected!r}, got {verdict!r}")
    return wrong


def test_the_import_refuses_each_bad_cell_with_the_declared_reason(
    world: Engine, contract: Contract, tmp_path: Path
) -> None:
    door = import_door(world, contract, tmp_path, ".csv")
    wrong = []
    for kind in KINDS:
        for number, verdict in door(kind, rows_of(kind)).items():
            if verdict != CASES[number].verdict:
                wrong.append(f"{CASES[number].label}: {verdict!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("door_name", ["xlsx", "files", "web", "api", "cli"])
def test_every_door_takes_or_refuses_a_cell_like_the_import(
    door_name: str, world: Engine, contract: Contract, clients: Clients, tmp_path: Path
) -> None:
    reference = {number: case.verdict for number, case in enumerate(CASES)}
    doors: dict[str, Callable[[], Door]] = {
        "xlsx": lambda: import_door(world, contract, tmp_path, ".xlsx"),
        "files": lambda: files_door(tmp_path),
        "web": lambda: form_door(clients.as_user("ana")),
        "api": lambda: api_door(clients.as_user("ana")),
        "cli": lambda: cli_door(world.url.render_as_string(hide_password=False)),
    }
    door = doors[door_name]()
    wrong: list[str] = []
    for kind in KINDS:
        rows = [(n, row) for n, row in rows_of(kind) if takes(door_name, CASES[n])]
        if rows:
            wrong += compare(door_name, door(kind, rows), reference)
    assert not wrong, "\n".join(wrong)


def test_typed_parquet_minutes_and_dates_are_read_like_the_import_reads_their_text(
    tmp_path: Path,
) -> None:
    """In Parquet a value has a type: 60.0 as a float is whole minutes, 60.5 and NaN are not,
    and a date column before 1900 is refused like the import refuses the same date."""
    path = tmp_path / "time.parquet"
    pq.write_table(
        pa.table(
            {
                "entry_id": ["P1", "P2", "P3", "P4"],
                "staff_id": ["S1"] * 4,
                "member_id": ["91234567A"] * 4,
                "date": pa.array([TODAY, TODAY, TODAY, TODAY.replace(year=1899)], pa.date32()),
                "minutes": [60.0, 60.5, float("nan"), 30.0],
                "activity": ["care_coordination"] * 4,
                "modality": ["in_person"] * 4,
            }
        ),
        path,
    )
    con = ibis.duckdb.connect()
    checked = check(read_source(con, path), "time", path).table
    rows = checked.select("entry_id", "problem").to_pyarrow().to_pylist()
    found = {row["entry_id"]: row["problem"] for row in rows}
    con.disconnect()
    assert found == {
        "P1": None,
        "P2": "minutes must be whole minutes",
        "P3": "minutes is not a number",
        "P4": "date is before 1900",
    }
