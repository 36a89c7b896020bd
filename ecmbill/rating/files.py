"""Rating straight from files, at plan scale: a folder of Parquet or CSV files in the import
column layout, read by DuckDB (one machine) or Spark (local, or a cluster), rated by the same
Ibis expression as the store (``ecmbill.rating.expression``).

A folder holds one file per kind: ``time``, ``outreach``, ``staff``, ``eligibility`` and
``enrollments``, each ``.parquet`` or ``.csv``. There is no store to keep a bad row out, so the
files are checked first, with the same rules as an import where they matter to the bill; a file
with bad rows is refused as a whole with, per problem, the number of rows and an example id.
Problems never quote a member id: it is PHI.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from ibis.backends import BaseBackend

from ecmbill.contract import Contract
from ecmbill.domain import values as fields
from ecmbill.domain.identifiers import CIN_PATTERN
from ecmbill.domain.lifecycle import OPEN_END, OPEN_START
from ecmbill.domain.lines import PeriodRating
from ecmbill.domain.period import Period
from ecmbill.domain.reasons import ReasonCode, explain
from ecmbill.domain.vocabulary import Modality, OutreachMethod, Role
from ecmbill.imports.kinds import KINDS, MINUTES_PER_DAY
from ecmbill.rating.expression import (
    ELIGIBILITY_COLUMNS,
    ENROLLMENT_COLUMNS,
    ID_SEPARATOR,
    MODIFIER_SEPARATOR,
    OUTREACH_COLUMNS,
    STAFF_ROLE_COLUMNS,
    TIME_COLUMNS,
    RatingInputs,
    billable_lines,
    classify,
)
from ecmbill.rating.service import rate_period

ENGINES = ("duckdb", "spark")
SOURCE_KINDS = ("time", "outreach", "staff", "eligibility", "enrollments")
SUFFIXES = (".parquet", ".csv")
# Ids travel joined by ID_SEPARATOR and are written space-separated to CSV.
_BAD_ID = r"[\s\x00-\x1f]"
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
_CLOCK = r"^(\d{1,2}):(\d{2})(:\d{2})?$"
_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"

Status = Callable[[str], None]


class SourceProblem(Exception):
    """The folder cannot be rated as it is; the message says which file and what to fix."""


# -- finding and reading the files ------------------------------------------------------------


def find_files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise SourceProblem(f"{folder} is not a folder")
    found: dict[str, Path] = {}
    problems = []
    for kind in SOURCE_KINDS:
        candidates = [folder / f"{kind}{suffix}" for suffix in SUFFIXES]
        present = [path for path in candidates if path.is_file()]
        if not present:
            problems.append(f"no {kind}.parquet or {kind}.csv")
        elif len(present) > 1:
            problems.append(f"both {kind}.parquet and {kind}.csv: keep one")
        else:
            found[kind] = present[0]
    if problems:
        raise SourceProblem(f"{folder}: " + "; ".join(problems))
    return found


def spark_session(master: str | None = None) -> Any:
    """A Spark session: local with two cores unless a cluster URL is given."""
    from pyspark.sql import SparkSession  # imported late: only --engine spark pays for the JVM

    builder = (
        SparkSession.builder.master(master or "local[2]")
        .appName("ecmbill")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        # Dates are calendar days; a session time zone other than UTC could shift them.
        .config("spark.sql.session.timeZone", "UTC")
    )
    if not master or master.startswith("local"):
        # Spark's default of 200 shuffle partitions is for clusters; a local run wants few.
        builder = builder.config("spark.sql.shuffle.partitions", "4")
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def connect(engine: str, *, spark_master: str | None = None) -> BaseBackend:
    if engine == "duckdb":
        return ibis.duckdb.connect()
    if engine == "spark":
        return ibis.pyspark.connect(spark_session(spark_master))
    raise SourceProblem(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")


def _read(con: BaseBackend, path: Path) -> ir.Table:
    if path.suffix == ".parquet":
        return con.read_parquet(str(path))
    # Every CSV column is read as text and parsed by the checks below, the same way for both
    # engines: neither engine's type sniffing decides what a value means.
    if con.name == "duckdb":
        return con.read_csv(str(path), all_varchar=True, header=True)
    return con.read_csv(str(path), header=True, inferSchema=False)


# -- reading one column -----------------------------------------------------------------------
# Values are taken as written: the rating reads the columns themselves (for typed Parquet, no
# conversion at all, which keeps the rating query as lean as hand-written SQL), and the checks
# refuse what would not match, e.g. a member id in lower case or a modality with a space.


def _as_text(column: ir.Value) -> ir.StringValue:
    return column if column.type().is_string() else column.cast("string")


def _blank(column: ir.Value) -> ir.BooleanValue:
    # Empty, not "only spaces": a value of spaces fails the column's own check (an id with
    # spaces, a date that is not a date, a modality not in the list), without a strip() of
    # every value of every column.
    text = _as_text(column)
    return text.isnull() | (text == "")


def _day(column: ir.Value) -> tuple[ir.DateValue, ir.BooleanValue]:
    """The column as a date, and whether a non-empty value is not a YYYY-MM-DD date."""
    if column.type().is_date():
        return column, ibis.literal(False)
    if column.type().is_timestamp():
        return column.date(), ibis.literal(False)
    text = _as_text(column)
    ok = text.re_search(_ISO_DATE)
    parsed = ok.ifelse(text, ibis.null().cast("string")).try_cast("date")
    return parsed, ~_blank(column) & parsed.isnull()


def _flag(column: ir.Value) -> ir.BooleanValue:
    if column.type().is_boolean():
        return column
    text = _as_text(column).lower()
    return ibis.cases(
        (text.isin(sorted(fields.TRUE_WORDS)), True),
        (text.isin(sorted(fields.FALSE_WORDS)), False),
        else_=ibis.null().cast("boolean"),
    )


def _whole(column: ir.Value) -> tuple[ir.IntegerValue, ir.BooleanValue]:
    """Whole minutes, and whether a non-empty value is not a whole number."""
    if column.type().is_integer():
        return column.cast("int64"), ibis.literal(False)
    number = _as_text(column).try_cast("float64") if column.type().is_string() else column
    number = number.cast("float64")
    whole = number.notnull() & (number == number.floor())
    value = whole.ifelse(number, ibis.null().cast("float64")).cast("int64")
    return value, ~_blank(column) & ~whole.fill_null(False)


def _clock(column: ir.Value) -> tuple[ir.IntegerValue, ir.BooleanValue]:
    """A time of day as minutes after midnight, and whether a value is not HH:MM."""
    text = _as_text(column)
    hours = text.re_extract(_CLOCK, 1).nullif("").cast("int64")
    mins = text.re_extract(_CLOCK, 2).nullif("").cast("int64")
    ok = text.re_search(_CLOCK) & (hours <= 23) & (mins <= 59)
    value = ok.ifelse(hours * 60 + mins, ibis.null().cast("int64"))
    return value, ~_blank(column) & ~ok.fill_null(False)


def _choice(column: ir.Value, options: type[Any]) -> tuple[ir.StringValue, ir.BooleanValue]:
    text = _as_text(column)
    return text, text.isnull() | ~text.isin(sorted(option.value for option in options))


def _bad_id(column: ir.Value) -> ir.BooleanValue:
    return _as_text(column).re_search(_BAD_ID)


def _not_cin(column: ir.Value) -> ir.BooleanValue:
    return ~_as_text(column).re_search(CIN_PATTERN).fill_null(False)


# -- checking and shaping each kind -----------------------------------------------------------


@dataclass
class Checked:
    """A table in the rating's layout, and a column ``problem`` (null for a good row)."""

    table: ir.Table
    example: str | None  # the column whose value may be quoted in an example


def _problems(cases: list[tuple[ir.BooleanValue, str]]) -> ir.StringValue:
    return ibis.cases(*[(c.fill_null(False), text) for c, text in cases], else_=None).cast("string")


def _require(table: ir.Table, kind: str, path: Path, also: tuple[str, ...] = ()) -> None:
    header = {name.strip().lower() for name in table.columns}
    if set(table.columns) != header:
        raise SourceProblem(f"{path.name}: column names must be lower case without spaces")
    problem = KINDS[kind].header_problem(header)
    missing = [name for name in also if name not in header]
    if missing:
        problem = "; ".join(filter(None, [problem, f"missing column(s): {', '.join(missing)}"]))
    if problem:
        raise SourceProblem(f"{path.name}: {problem}")


def _member_checks(table: ir.Table) -> list[tuple[ir.BooleanValue, str]]:
    return [
        (_blank(table.member_id), "member_id is empty"),
        (_not_cin(table.member_id), "member_id is not a Medi-Cal CIN (8 digits, a capital letter)"),
    ]


def _time(table: ir.Table, path: Path) -> Checked:
    _require(table, "time", path, also=("entry_id",))
    cols = set(table.columns)
    on, bad_date = _day(table.date)
    modality, bad_modality = _choice(table.modality, Modality)
    if "minutes" in cols:
        given, bad_minutes = _whole(table.minutes)
    else:
        given, bad_minutes = ibis.null().cast("int64"), ibis.literal(False)
    if {"start_time", "end_time"} <= cols:
        start, bad_start = _clock(table.start_time)
        end, bad_end = _clock(table.end_time)
        one_only = start.isnull() != end.isnull()
        backwards = end <= start
        mismatch = given.notnull() & (given != end - start)
        minutes = (start.notnull() & end.notnull()).ifelse(end - start, given)
    else:
        bad_start = bad_end = one_only = backwards = mismatch = ibis.literal(False)
        minutes = given
    problem = _problems(
        [
            (_blank(table.entry_id), "entry_id is empty"),
            (_bad_id(table.entry_id), "entry_id contains spaces or control characters"),
            (_blank(table.staff_id), "staff_id is empty"),
            (_bad_id(table.staff_id), "staff_id contains spaces or control characters"),
            *_member_checks(table),
            (_blank(table.date), "date is empty"),
            (bad_date, "date is not a date (use YYYY-MM-DD)"),
            (_blank(table.activity), "activity is empty"),
            (bad_modality, "modality must be one of: in_person, telephonic"),
            (bad_start, "start_time is not a time of day (use HH:MM, 24-hour)"),
            (bad_end, "end_time is not a time of day (use HH:MM, 24-hour)"),
            (one_only, "start_time and end_time go together: give both or neither"),
            (backwards, "end_time must be after start_time on the same day"),
            (mismatch, "minutes does not match start_time to end_time"),
            (bad_minutes, "minutes must be whole minutes"),
            (minutes.isnull(), "minutes is empty (give minutes or start_time and end_time)"),
            (minutes <= 0, "minutes must be more than 0"),
            (minutes > MINUTES_PER_DAY, "minutes is more than 24 hours for one day"),
        ]
    )
    shaped = table.select(
        entry_id=_as_text(table.entry_id),
        staff_id=_as_text(table.staff_id),
        member_id=_as_text(table.member_id),
        date=on,
        minutes=minutes,
        activity=_as_text(table.activity),
        modality=modality,
        problem=problem,
    )
    return Checked(shaped, "entry_id")


def _outreach(table: ir.Table, path: Path) -> Checked:
    _require(table, "outreach", path, also=("attempt_id",))
    on, bad_date = _day(table.date)
    method, bad_method = _choice(table.method, OutreachMethod)
    individualized = _flag(table.individualized)
    if "minutes" in table.columns:
        minutes, bad_minutes = _whole(table.minutes)
    else:
        minutes, bad_minutes = ibis.null().cast("int64"), ibis.literal(False)
    problem = _problems(
        [
            (_blank(table.attempt_id), "attempt_id is empty"),
            (_bad_id(table.attempt_id), "attempt_id contains spaces or control characters"),
            (_blank(table.staff_id), "staff_id is empty"),
            (_bad_id(table.staff_id), "staff_id contains spaces or control characters"),
            *_member_checks(table),
            (_blank(table.date), "date is empty"),
            (bad_date, "date is not a date (use YYYY-MM-DD)"),
            (bad_method, f"method must be one of: {', '.join(m.value for m in OutreachMethod)}"),
            (individualized.isnull(), "individualized must be true or false"),
            (bad_minutes, "minutes must be whole minutes"),
            ((minutes < 0) | (minutes > MINUTES_PER_DAY), "minutes must be between 0 and 24 hours"),
        ]
    )
    shaped = table.select(
        attempt_id=_as_text(table.attempt_id),
        staff_id=_as_text(table.staff_id),
        member_id=_as_text(table.member_id),
        date=on,
        method=method,
        individualized=individualized,
        minutes=minutes,
        problem=problem,
    )
    return Checked(shaped, "attempt_id")


def _staff(table: ir.Table, path: Path) -> Checked:
    _require(table, "staff", path)
    cols = set(table.columns)
    role, bad_role = _choice(table.role, Role)
    empty, fine = ibis.null().cast("date"), ibis.literal(False)
    start, bad_start = _day(table.effective_from) if "effective_from" in cols else (empty, fine)
    end, bad_end = _day(table.effective_to) if "effective_to" in cols else (empty, fine)
    problem = _problems(
        [
            (_blank(table.staff_id), "staff_id is empty"),
            (_bad_id(table.staff_id), "staff_id contains spaces or control characters"),
            (bad_role, "role must be one of: clinical, non_clinical"),
            (bad_start, "effective_from is not a date (use YYYY-MM-DD)"),
            (bad_end, "effective_to is not a date (use YYYY-MM-DD)"),
            (end < start, "effective_to is before effective_from"),
        ]
    )
    shaped = table.select(
        staff_id=_as_text(table.staff_id),
        role=role,
        effective_from=start,
        effective_to=end,
        problem=problem,
    )
    return Checked(shaped, "staff_id")


def _eligibility(table: ir.Table, path: Path) -> Checked:
    _require(table, "eligibility", path)
    month = _as_text(table.month)
    eligible = _flag(table.eligible)
    problem = _problems(
        [
            *_member_checks(table),
            (~month.re_search(_MONTH).fill_null(False), "month is not a month (use YYYY-MM)"),
            (eligible.isnull(), "eligible must be true or false"),
        ]
    )
    shaped = table.select(
        member_id=_as_text(table.member_id), month=month, eligible=eligible, problem=problem
    )
    return Checked(shaped, None)


def _enrollments(table: ir.Table, path: Path) -> Checked:
    _require(table, "enrollments", path)
    start, bad_start = _day(table.start_date)
    if "end_date" in table.columns:
        end, bad_end = _day(table.end_date)
    else:
        end, bad_end = ibis.null().cast("date"), ibis.literal(False)
    problem = _problems(
        [
            *_member_checks(table),
            (_blank(table.start_date), "start_date is empty"),
            (bad_start, "start_date is not a date (use YYYY-MM-DD)"),
            (bad_end, "end_date is not a date (use YYYY-MM-DD)"),
            (end < start, "end_date is before start_date"),
        ]
    )
    shaped = table.select(
        member_id=_as_text(table.member_id), start_date=start, end_date=end, problem=problem
    )
    return Checked(shaped, None)


SHAPERS: dict[str, Callable[[ir.Table, Path], Checked]] = {
    "time": _time,
    "outreach": _outreach,
    "staff": _staff,
    "eligibility": _eligibility,
    "enrollments": _enrollments,
}


# Every check is a small table of (file, problem, rows, example); they are unioned into one
# query, because on Spark each query is a job that costs a second or more to schedule.
def _finding(path: Path, problem: str | None, found: ir.Table) -> ir.Table:
    """``found`` has ``rows`` and ``example`` (and ``problem`` when not given)."""
    return found.select(
        file=ibis.literal(path.name),
        problem=found.problem if problem is None else ibis.literal(problem),
        rows=found.rows.cast("int64"),
        example=found.example.cast("string"),
    )


def _no_example() -> ir.Value:
    return ibis.null().cast("string")


def _row_problems(path: Path, checked: Checked) -> ir.Table:
    bad = checked.table.filter(checked.table.problem.notnull())
    example = bad[checked.example].min() if checked.example else _no_example()
    return _finding(
        path, None, bad.group_by("problem").aggregate(rows=bad.count(), example=example)
    )


def _repeated(
    path: Path, table: ir.Table, key: dict[str, ir.Value], what: str, *, quote: bool = False
) -> ir.Table:
    """Rows that share a key, like two time entries with one entry_id."""
    grouped = table.group_by(**key).aggregate(n=table.count())
    clash = grouped.filter(grouped.n > 1)
    example = clash[next(iter(key))].min() if quote else _no_example()
    return _finding(path, what, clash.aggregate(rows=clash.count(), example=example))


def _conflicting(path: Path, table: ir.Table) -> ir.Table:
    grouped = table.group_by("member_id", "month").aggregate(values=table.eligible.nunique())
    clash = grouped.filter(grouped["values"] > 1)
    return _finding(
        path,
        "member-month(s) both eligible and not eligible",
        clash.aggregate(rows=clash.count(), example=_no_example()),
    )


def _overlapping(
    path: Path, periods: ir.Table, key: str, start: str, end: str, what: str, *, quote: bool
) -> ir.Table:
    """Periods of one key that overlap (one starts strictly inside the other): an entry would
    match both and be rated twice. Equal starts are found by ``_repeated``."""
    other = periods.view()
    first = periods[start].fill_null(OPEN_START)
    second = other[start].fill_null(OPEN_START)
    clash = periods.join(
        other,
        [
            periods[key] == other[key],
            first < second,
            second <= periods[end].fill_null(OPEN_END),
        ],
    )
    example = clash[key].min() if quote else _no_example()
    return _finding(path, what, clash.aggregate(rows=clash.count(), example=example))


def load_inputs(con: BaseBackend, files: dict[str, Path]) -> RatingInputs:
    """The five files as rating inputs; raises ``SourceProblem`` listing every bad row kind."""
    checked = {kind: SHAPERS[kind](_read(con, path), path) for kind, path in files.items()}
    tables = {kind: result.table for kind, result in checked.items()}
    staff, spans = tables["staff"], tables["enrollments"]
    checks = [_row_problems(files[kind], result) for kind, result in checked.items()]
    checks += [
        _repeated(
            files["time"],
            tables["time"],
            {"entry_id": tables["time"].entry_id},
            "entry_id(s) used more than once",
            quote=True,
        ),
        _repeated(
            files["outreach"],
            tables["outreach"],
            {"attempt_id": tables["outreach"].attempt_id},
            "attempt_id(s) used more than once",
            quote=True,
        ),
        _conflicting(files["eligibility"], tables["eligibility"]),
        _repeated(
            files["staff"],
            staff,
            {"staff_id": staff.staff_id, "start": staff.effective_from.fill_null(OPEN_START)},
            "staff role period(s) given twice (same staff_id and effective_from)",
            quote=True,
        ),
        _overlapping(
            files["staff"],
            staff,
            "staff_id",
            "effective_from",
            "effective_to",
            "staff role period(s) overlapping another of the same staff member",
            quote=True,
        ),
        _repeated(
            files["enrollments"],
            spans,
            {"member_id": spans.member_id, "start": spans.start_date},
            "enrollment span(s) given twice (same member and start_date)",
        ),
        _overlapping(
            files["enrollments"],
            spans,
            "member_id",
            "start_date",
            "end_date",
            "enrollment span(s) overlapping another of the same member",
            quote=False,
        ),
    ]
    found = ibis.union(*checks).to_pyarrow().to_pylist()
    problems = []
    for row in sorted(found, key=lambda r: (r["file"], r["problem"])):
        if not row["rows"]:
            continue
        example = f" (e.g. {row['example']})" if row["example"] else ""
        problems.append(f"{row['file']}: {row['rows']} row(s): {row['problem']}{example}")
    if problems:
        raise SourceProblem("the files cannot be rated:\n  " + "\n  ".join(problems))
    return RatingInputs(
        time_entries=tables["time"].select(*TIME_COLUMNS),
        outreach_attempts=tables["outreach"].select(*OUTREACH_COLUMNS),
        staff_roles=staff.select(*STAFF_ROLE_COLUMNS),
        eligibility=tables["eligibility"].select(*ELIGIBILITY_COLUMNS),
        enrollments=spans.select(*ENROLLMENT_COLUMNS),
    )


@contextmanager
def opened(engine: str, *, spark_master: str | None = None) -> Iterator[BaseBackend]:
    con = connect(engine, spark_master=spark_master)
    try:
        yield con
    finally:
        # The Spark session is left running: starting one costs seconds, and a session is
        # shared by everything in this process.
        if engine == "duckdb":
            con.disconnect()


def rate_folder(
    folder: Path,
    period: Period,
    contract: Contract,
    *,
    engine: str = "duckdb",
    spark_master: str | None = None,
    status: Status | None = None,
) -> PeriodRating:
    """The rating of ``period`` from the files in ``folder``, as the store path returns it."""
    say = status or (lambda _: None)
    files = find_files(folder)
    say(f"starting {engine}")
    with opened(engine, spark_master=spark_master) as con:
        say("checking the files")
        inputs = load_inputs(con, files)
        say(f"rating {period}")
        return rate_period(inputs, period, contract)


# -- writing the rating to files --------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    lines: Path
    not_billed: Path
    line_count: int
    units: int
    not_billed_count: int


def not_billed_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}.not_billed{out.suffix}")


def rate_folder_to_file(
    folder: Path,
    period: Period,
    contract: Contract,
    out: Path,
    *,
    engine: str = "duckdb",
    spark_master: str | None = None,
    status: Status | None = None,
) -> Written:
    """Rate ``period`` and write the claim lines to ``out`` and the entries that do not bill,
    with their reasons, to ``NAME.not_billed.EXT`` beside it. Stays in Arrow all the way: at
    plan scale, a Python object per entry would cost more than the rating."""
    if out.suffix not in SUFFIXES:
        raise SourceProblem(f"--out must end in .parquet or .csv, not {out.suffix or 'nothing'}")
    if not out.parent.is_dir():
        raise SourceProblem(f"--out: the folder {out.parent} does not exist")
    say = status or (lambda _: None)
    files = find_files(folder)
    say(f"starting {engine}")
    with opened(engine, spark_master=spark_master) as con:
        say("checking the files")
        inputs = load_inputs(con, files)
        say(f"rating {period}")
        lines, refused = rate_to_arrow(inputs, period, contract)
    say("writing the results")
    csv = out.suffix == ".csv"
    _write_atomically(_lines_for_output(lines, period, flat=csv), out)
    _write_atomically(refused, not_billed_path(out))
    return Written(
        lines=out,
        not_billed=not_billed_path(out),
        line_count=lines.num_rows,
        units=int(pc.sum(lines["units"]).as_py() or 0),
        not_billed_count=refused.num_rows,
    )


def rate_to_arrow(
    inputs: RatingInputs, period: Period, contract: Contract
) -> tuple[pa.Table, pa.Table]:
    """Claim lines and not-billed entries as Arrow tables (the rows ``rate_period`` turns into
    domain values), the not-billed ones with the reason in words."""
    classified = classify(inputs, period.start, period.end, contract)
    lines = billable_lines(classified).to_pyarrow()
    refused = (
        classified.filter(classified.reason_code.notnull())
        .select(
            "source", "id", "member_id", "date", "reason_code", "staff_id", "activity", "method"
        )
        .to_pyarrow()
    )
    return lines, _with_reasons(refused, contract)


def _with_reasons(refused: pa.Table, contract: Contract) -> pa.Table:
    """The reason sentence of each refused entry, computed once per distinct set of the values
    it depends on (a few thousand at most), not once per entry."""
    reason = refused["reason_code"]

    def only_for(name: str, *reasons: ReasonCode) -> pa.ChunkedArray:
        # A part the reason's sentence does not use is left out of the key, so that, e.g.,
        # every "not eligible in 2026-10" shares one sentence whoever the staff member was.
        text = pc.fill_null(refused[name].cast(pa.string()), "")
        return pc.if_else(pc.is_in(reason, pa.array([r.value for r in reasons])), text, "")

    parts = [
        reason,
        only_for("date", ReasonCode.NOT_ELIGIBLE, ReasonCode.NOT_ENROLLED, ReasonCode.NO_ROLE),
        only_for("staff_id", ReasonCode.NO_ROLE),
        only_for("activity", ReasonCode.NOT_REIMBURSABLE),
        only_for("method", ReasonCode.MASS_COMMUNICATION, ReasonCode.NOT_REIMBURSABLE),
    ]
    key = pc.binary_join_element_wise(*parts, ID_SEPARATOR)
    distinct = pc.unique(key)
    sentences = []
    for text in distinct.to_pylist():
        code, on, staff_id, activity, method = text.split(ID_SEPARATOR)
        described = contract.activities.get(activity) if activity else None
        sentences.append(
            explain(
                ReasonCode(code),
                # explain() reads the date only for the reasons whose key holds one.
                on=date.fromisoformat(on) if on else date.min,
                staff_id=staff_id,
                activity=activity or None,
                activity_description=described.description if described else None,
                method=method or None,
            )
        )
    sentence = pc.take(pa.array(sentences, pa.string()), pc.index_in(key, value_set=distinct))
    table = refused.select(["source", "id", "member_id", "date", "reason_code"]).append_column(
        "reason", sentence
    )
    return table.sort_by([(name, "ascending") for name in ("member_id", "date", "source", "id")])


def _lines_for_output(lines: pa.Table, period: Period, *, flat: bool) -> pa.Table:
    """Modifiers and source ids as lists (Parquet) or space-separated text (CSV)."""
    lines = lines.sort_by(
        [
            (name, "ascending")
            for name in ("member_id", "kind", "code", "modifiers", "first_date", "source_ids")
        ]
    )
    modifiers = pc.if_else(
        pc.equal(lines["modifiers"], ""),
        pa.scalar([], pa.list_(pa.string())),
        pc.split_pattern(lines["modifiers"], MODIFIER_SEPARATOR),
    )
    ids = _sorted_lists(pc.split_pattern(lines["source_ids"], ID_SEPARATOR))
    if flat:
        modifiers = pc.binary_join(modifiers, " ")
        ids = pc.binary_join(ids, " ")
    return pa.table(
        {
            "period": pa.array([str(period)] * lines.num_rows, pa.string()),
            "member_id": lines["member_id"],
            "kind": lines["kind"],
            "code": lines["code"],
            "modifiers": modifiers,
            "minutes": lines["minutes"],
            "units": lines["units"],
            "first_date": lines["first_date"],
            "last_date": lines["last_date"],
            "source_ids": ids,
        }
    )


def _sorted_lists(lists: pa.ChunkedArray) -> pa.ListArray:
    """Each list's items in order (group_concat gathers them in no particular order), sorted
    all at once rather than list by list."""
    combined = lists.combine_chunks()
    items = pc.list_flatten(combined)
    order = pc.sort_indices(
        pa.table({"list": pc.list_parent_indices(combined), "item": items}),
        sort_keys=[("list", "ascending"), ("item", "ascending")],
    )
    return pa.ListArray.from_arrays(combined.offsets, items.take(order))


def _write_atomically(table: pa.Table, target: Path) -> None:
    """Written to a temporary file in the same folder and renamed: never half a file."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        if target.suffix == ".parquet":
            pq.write_table(table, tmp)
        else:
            pa_csv.write_csv(table, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
