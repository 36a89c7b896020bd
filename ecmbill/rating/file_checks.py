"""The checks of a folder to rate, as column expressions: the row rules each import kind
declares once (``ecmbill.domain.checks``) read in Ibis, so a folder is refused for what an
import refuses, with the same words, in one query however many rows it has.

Values are taken as written: the rating reads the columns themselves (typed Parquet needs no
conversion at all, which keeps the rating query as lean as hand-written SQL), so a value the
import would have normalised (a member id in lower case, a modality in capitals, a date with
spaces or in the US spelling) is refused with a reason saying how to write it. Each value rule
is restated here in Ibis from the patterns and words of ``ecmbill.domain.values``;
``tests/test_door_parity.py`` proves both readings agree on one table of cases.

Every check of a column starts with "is it fine as written": a good row costs that one
expression per column, and the reason is worked out only for a bad value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np

from ecmbill.contract.plans import PlanContracts
from ecmbill.domain import values
from ecmbill.domain.checks import (
    APPROVED,
    ELIGIBILITY_PLAN,
    NOT_PLAN_KEY,
    RATING_ONLY,
    ROW_RULES,
    BothOrNeither,
    Column,
    Duration,
    InOrder,
    RowRules,
    Value,
    Within,
)
from ecmbill.domain.corrections import OVERLAP, SAME_DAY
from ecmbill.domain.identifiers import CIN_PATTERN, NPI_PREFIX
from ecmbill.domain.lifecycle import OPEN_END, OPEN_START
from ecmbill.domain.plans import DEFAULT_PLAN, PLAN_KEY_PATTERN
from ecmbill.rating.expression import (
    APPROVAL_COLUMNS,
    ELIGIBILITY_COLUMNS,
    ENROLLMENT_COLUMNS,
    OUTREACH_COLUMNS,
    PLAN_ASSIGNMENT_COLUMNS,
    PLAN_ELIGIBILITY_COLUMNS,
    STAFF_ROLE_COLUMNS,
    TIME_COLUMNS,
    RatingInputs,
)

SOURCE_KINDS = ("time", "outreach", "staff", "eligibility", "enrollments")
# Columns the rating reads from each file, in the rating's layout.
SHAPES = {
    "time": TIME_COLUMNS,
    "outreach": OUTREACH_COLUMNS,
    "staff": STAFF_ROLE_COLUMNS,
    "eligibility": ELIGIBILITY_COLUMNS,
    "enrollments": ENROLLMENT_COLUMNS,
    "plan_assignments": PLAN_ASSIGNMENT_COLUMNS,
}
# Files have no store to find a row again: each entry and attempt must carry its id.
IDS_REQUIRED = {"time": "entry_id", "outreach": "attempt_id"}
# The id an aggregated problem may quote as its example; never a member id (PHI).
EXAMPLES = {"time": "entry_id", "outreach": "attempt_id", "staff": "staff_id"}

# How a value the import would accept must be written in a file to rate.
WRITTEN = {
    Value.CIN: "in capitals without spaces (e.g. 91234567A)",
    Value.DATE: "as YYYY-MM-DD without spaces",
    Value.PAST_DATE: "as YYYY-MM-DD without spaces",
    Value.CHOICE: "in lower case without spaces",
    Value.ACTIVITY: "in lower case without spaces",
}
WITHOUT_SPACES = "without spaces around it"

# Several plans: a folder may hold each member's plan by date span (``plan_assignments``, read
# only when there are several plans) and eligibility may say its plan (empty or no column: the
# first plan). Both are checked like the other files; a plan key must be one of the plans rated.
PLAN_ASSIGNMENTS = "plan_assignments"
PLAN = "plan"
# Which plan's eligibility a row is: the import's directive column, read here as data.
PLAN_ONLY: dict[str, tuple[Column, ...]] = {"eligibility": (ELIGIBILITY_PLAN,)}


def _rules(kind: str) -> RowRules:
    return ROW_RULES[kind]


def _file_only(kind: str) -> tuple[Column, ...]:
    """Columns only a file to rate takes."""
    return (*RATING_ONLY.get(kind, ()), *PLAN_ONLY.get(kind, ()))


def as_written(column: Column) -> str:
    """The reason for a value the import takes but a file to rate does not (it would have to
    be rewritten first)."""
    how = WRITTEN.get(column.value, WITHOUT_SPACES)
    return f"{column.name} must be written {how} in a file to rate"


class SourceProblem(Exception):
    """The folder cannot be rated as it is; the message says which file and what to fix."""


# -- one value ----------------------------------------------------------------------------------

_NO_REASON = ibis.null().cast("string")


def _text(column: ir.Value) -> ir.StringValue:
    return column if column.type().is_string() else column.cast("string")


def _blank(column: ir.Value) -> ir.BooleanValue:
    # Empty, not "only spaces": a value of spaces is told apart only once it failed its check,
    # without a strip() of every value of every column.
    text = _text(column)
    return text.isnull() | (text == "")


def _reasons(*cases: tuple[ir.BooleanValue, str]) -> ir.StringValue:
    """The first reason whose condition holds, else null."""
    return ibis.cases(*[(c.fill_null(False), r) for c, r in cases], else_=_NO_REASON)


def _iso_day(year: ir.StringValue, month: ir.StringValue, day: ir.StringValue) -> ir.DateValue:
    text = year.concat("-", month.lpad(2, "0"), "-", day.lpad(2, "0"))
    return text.try_cast("date")


def _spelled_day(text: ir.StringValue) -> ir.DateValue:
    """The date the import reads from ``text`` in any spelling it takes, else null."""
    iso = text.re_search(values.SHORT_DATE_PATTERN)
    us = text.re_search(values.US_DATE_PATTERN)
    return ibis.cases(
        (
            iso,
            _iso_day(
                text.re_extract(values.SHORT_DATE_PATTERN, 1),
                text.re_extract(values.SHORT_DATE_PATTERN, 2),
                text.re_extract(values.SHORT_DATE_PATTERN, 3),
            ),
        ),
        (
            us,
            _iso_day(
                text.re_extract(values.US_DATE_PATTERN, 3),
                text.re_extract(values.US_DATE_PATTERN, 1),
                text.re_extract(values.US_DATE_PATTERN, 2),
            ),
        ),
        else_=ibis.null().cast("date"),
    )


def _text_reason(text: ir.StringValue, max_length: int, *, note: bool = False) -> ir.StringValue:
    """``values.text`` (or ``values.note``) on a stripped text."""
    formula = text.re_search(values.NOTE_FORMULA_PATTERN if note else values.FORMULA_PATTERN)
    control = values.NOTE_CONTROL_PATTERN if note else values.CONTROL_PATTERN
    return _reasons(
        (text == "", values.EMPTY),
        (formula, values.FORMULA),
        (text.length() > max_length, values.too_long(max_length)),
        (text.re_search(control), values.CONTROL),
    )


def _luhn_ok(digits: ir.StringValue) -> ir.BooleanValue:
    """``identifiers.is_npi`` on ten digits: the Luhn check over the NPI prefix and them."""
    full = ibis.literal(NPI_PREFIX).concat(digits)
    total: ir.IntegerValue = ibis.literal(0)
    length = len(NPI_PREFIX) + 10
    for position in range(length):  # position 0 is the check digit, the last one
        digit = full.substr(length - 1 - position, 1).cast("int64")
        if position % 2 == 1:
            digit = digit * 2
            digit = (digit > 9).ifelse(digit - 9, digit)
        total = total + digit
    return total % 10 == 0


@dataclass
class Cell:
    """A column read by its rule: the value (null when empty or bad), whether it is fine as
    written, and the import's reason for it (null when the import takes it)."""

    value: ir.Value
    fine: ir.BooleanValue
    reason: ir.StringValue


def _typed(column: ir.Value, rule: Column) -> Cell | None:
    """A Parquet column already of the rule's type: nothing to parse. (Floating-point minutes
    are read as their text, "60.0", "60.5" or "nan", by the rule for written minutes.)"""
    kind, dtype = rule.value, column.type()
    if kind in (Value.DATE, Value.PAST_DATE) and (dtype.is_date() or dtype.is_timestamp()):
        day = column if dtype.is_date() else column.date()
        early = day < ibis.literal(values.EARLIEST)
        return Cell(day, ~early.fill_null(False), _reasons((early, values.BEFORE_EARLIEST)))
    if kind is Value.MINUTES and dtype.is_integer():
        return Cell(column.cast("int64"), ibis.literal(True), _NO_REASON)
    if kind is Value.FLAG and dtype.is_boolean():
        return Cell(column, ibis.literal(True), _NO_REASON)
    return None


def _read(column: ir.Value, rule: Column) -> Cell:
    """The cell as the import's parser reads it, restated in Ibis."""
    typed = _typed(column, rule)
    if typed is not None:
        return typed
    raw = _text(column)
    text = raw.strip()
    kind = rule.value
    if kind in (Value.TEXT, Value.NAME, Value.NOTE):
        length = {
            Value.TEXT: values.TEXT_LENGTH,
            Value.NAME: values.NAME_LENGTH,
            Value.NOTE: values.NOTE_LENGTH,
        }[kind]
        reason = _text_reason(text, length, note=kind is Value.NOTE)
        return Cell(raw, reason.isnull() & (text == raw), reason)
    if kind in (Value.IDENTIFIER, Value.ACTIVITY):
        reason = _reasons(
            (text == "", values.EMPTY),
            (text.re_search(values.FORMULA_PATTERN), values.FORMULA),
            (text.length() > values.IDENTIFIER_LENGTH, values.too_long(values.IDENTIFIER_LENGTH)),
            (text.re_search(values.CONTROL_PATTERN), values.CONTROL),
            (text.re_search(values.SPACE_PATTERN), values.SPACES),
        )
        lower = kind is Value.ACTIVITY  # stored in lower case
        fine = raw.re_search(
            values.LOWER_IDENTIFIER_PATTERN if lower else values.IDENTIFIER_PATTERN
        )
        return Cell(raw, fine, reason)
    if kind is Value.PLAN:
        key = text.lower()
        reason = _reasons(
            (text == "", values.EMPTY),
            (~key.re_search(PLAN_KEY_PATTERN), NOT_PLAN_KEY),
        )
        return Cell(raw, raw.re_search(PLAN_KEY_PATTERN), reason)
    if kind is Value.CIN:
        cin = text.upper()
        reason = _reasons((cin == "", values.EMPTY), (~cin.re_search(CIN_PATTERN), values.NOT_CIN))
        return Cell(raw, raw.re_search(CIN_PATTERN), reason)
    if kind is Value.NPI:
        ten = text.re_search(values.NPI_PATTERN)
        reason = _reasons((~ten, values.NOT_NPI), (~_luhn_ok(text), values.NPI_CHECK_DIGIT))
        return Cell(raw, reason.isnull() & (text == raw), reason)
    if kind in (Value.DATE, Value.PAST_DATE):
        strict = raw.re_search(values.ISO_DATE_PATTERN)
        day = strict.ifelse(raw, ibis.null().cast("string")).try_cast("date")
        early = day < ibis.literal(values.EARLIEST)
        spelled = _spelled_day(text)
        reason = _reasons(
            (text == "", values.EMPTY),
            (spelled.isnull(), values.NOT_A_DATE),
            (spelled < ibis.literal(values.EARLIEST), values.BEFORE_EARLIEST),
        )
        return Cell(day, day.notnull() & ~early.fill_null(False), reason)
    if kind is Value.MONTH:
        return Cell(raw, _month_ok(raw), _reasons((~_month_ok(text), values.NOT_A_MONTH)))
    if kind is Value.CLOCK:
        minutes, fine = _clock(raw)
        _, good = _clock(text)
        return Cell(minutes, fine, _reasons((~good, values.NOT_A_CLOCK)))
    if kind is Value.MINUTES:
        fine = raw.re_search(values.DECIMAL_PATTERN) & ~raw.re_search(values.FRACTION_PATTERN)
        number = raw.re_extract(values.WHOLE_PART_PATTERN, 0).nullif("").try_cast("float64")
        reason = _reasons(
            (text == "", values.EMPTY),
            (~text.re_search(values.DECIMAL_PATTERN), values.NOT_A_NUMBER),
            (text.re_search(values.FRACTION_PATTERN), values.NOT_WHOLE),
        )
        return Cell(fine.ifelse(number, ibis.null().cast("float64")), fine, reason)
    if kind is Value.FLAG:
        flag = _flag(raw)
        return Cell(flag, flag.notnull(), _reasons((_flag(text).isnull(), values.NOT_A_FLAG)))
    assert kind is Value.CHOICE and rule.options is not None
    words = sorted(option.value for option in rule.options)
    reason = _reasons((~text.lower().isin(words), values.not_one_of(rule.options)))
    return Cell(raw, raw.isin(words), reason)


def _month_ok(text: ir.StringValue) -> ir.BooleanValue:
    number = text.re_extract(values.MONTH_PATTERN, 2).nullif("").cast("int64")
    return (text.re_search(values.MONTH_PATTERN) & (number >= 1) & (number <= 12)).fill_null(False)


def _clock(text: ir.StringValue) -> tuple[ir.IntegerValue, ir.BooleanValue]:
    hours = text.re_extract(values.CLOCK_PATTERN, 1).nullif("").cast("int64")
    mins = text.re_extract(values.CLOCK_PATTERN, 2).nullif("").cast("int64")
    fine = (
        text.re_search(values.CLOCK_PATTERN)
        & (hours <= values.LAST_HOUR)
        & (mins <= values.LAST_MINUTE)
    ).fill_null(False)
    return fine.ifelse(hours * 60 + mins, ibis.null().cast("int64")), fine


def _flag(text: ir.StringValue) -> ir.BooleanValue:
    lowered = text.lower()
    return ibis.cases(
        (lowered.isin(sorted(values.TRUE_WORDS)), True),
        (lowered.isin(sorted(values.FALSE_WORDS)), False),
        else_=ibis.null().cast("boolean"),
    )


_NULLS = {
    Value.DATE: "date",
    Value.PAST_DATE: "date",
    Value.CLOCK: "int64",
    Value.MINUTES: "int64",
    Value.FLAG: "boolean",
}


def _problem(
    column: ir.Value, rule: Column, required: bool, known: ir.Column | None = None
) -> tuple[ir.Value, ir.StringValue]:
    """The column's value, and the reason its cell is refused (null when fine). ``known``:
    values fine as written by the same rule (see ``_known_values``); a cell holding one is
    fine without its own check (only the cells not found are matched against the pattern)."""
    cell = _read(column, rule)
    blank = _blank(column)
    fine = cell.fine if known is None else _text(column).isin(known) | cell.fine
    problem = ibis.cases(
        (fine, _NO_REASON),
        (blank, f"{rule.name} {values.EMPTY}" if required else _NO_REASON),
        (cell.reason.notnull(), ibis.literal(f"{rule.name} ").concat(cell.reason)),
        else_=ibis.literal(as_written(rule)),
    )
    return cell.value, problem


# -- one file -----------------------------------------------------------------------------------


@dataclass
class Checked:
    """A table in the rating's layout, and a column ``problem`` (null for a good row)."""

    table: ir.Table
    example: str | None  # the column whose value may be quoted in an example
    # The same columns without ``problem``: what the rating reads once the checks passed.
    # Read from ``table``, DuckDB kept the known-value subqueries of the problem
    # (``_known_values``) as joins of the classification, about 0.4 CPU-s at 5 M entries,
    # though no column it reads came from them.
    values: ir.Table


def require_columns(table: ir.Table, kind: str, path: Path) -> None:
    rules = _rules(kind)
    header = {name.strip().lower() for name in table.columns}
    if set(table.columns) != header:
        raise SourceProblem(f"{path.name}: column names must be lower case without spaces")
    problem = rules.header_problem(header - {column.name for column in _file_only(kind)})
    also = IDS_REQUIRED.get(kind)
    if also and also not in header:
        problem = "; ".join(filter(None, [problem, f"missing column(s): {also}"]))
    if problem:
        raise SourceProblem(f"{path.name}: {problem}")


def check(
    table: ir.Table, kind: str, path: Path, known: dict[str, ir.Column] | None = None
) -> Checked:
    """The file's rows with their first problem, by the rules the import declares; ``known``
    holds, per column, values known to be fine as written (``_problem``)."""
    require_columns(table, kind, path)
    rules: RowRules = _rules(kind)
    found: dict[str, ir.Value] = {}
    absent: set[str] = set()
    problems: list[ir.StringValue] = []
    for rule in (*rules.rules, *_file_only(kind)):
        if isinstance(rule, Column):
            if rule.name not in table.columns:
                found[rule.name] = ibis.null().cast(_NULLS.get(rule.value, "string"))
                absent.add(rule.name)
                continue
            required = rule.required or IDS_REQUIRED.get(kind) == rule.name
            found[rule.name], problem = _problem(
                table[rule.name], rule, required, (known or {}).get(rule.name)
            )
            problems.append(problem)
        elif not absent & _needs(rule):
            problems.append(_cross(rule, found))
    shape = {name: found[name] for name in SHAPES[kind]}
    if kind == "time":
        # Minutes after midnight (null when not given), for the overlap check of the folder.
        shape.update(start_time=found["start_time"], end_time=found["end_time"])
        if APPROVED not in absent:
            shape[APPROVED] = found[APPROVED]
    if kind == "eligibility" and PLAN not in absent:
        shape[PLAN] = found[PLAN]
    if "minutes" in shape:
        shape["minutes"] = _whole_minutes(shape["minutes"])
    problem = ibis.coalesce(*problems) if len(problems) > 1 else problems[0]
    shaped = table.select(**shape, problem=problem)
    return Checked(shaped, EXAMPLES.get(kind), table.select(**shape))


def _whole_minutes(minutes: ir.Value) -> ir.Value:
    if minutes.type().is_integer():
        return minutes.cast("int64")
    # A refused row may hold any number; only a fine one (whole, at most a day) is rated.
    return minutes.try_cast("int64")


def _needs(rule: BothOrNeither | InOrder | Duration | Within) -> set[str]:
    """The columns a rule across columns reads: it is left out when a file lacks one."""
    if isinstance(rule, BothOrNeither):
        return {rule.first, rule.second}
    if isinstance(rule, InOrder):
        return {rule.earlier, rule.later}
    if isinstance(rule, Duration):
        return {rule.start, rule.end}
    return set()


def _cross(rule: BothOrNeither | InOrder | Duration | Within, found: dict[str, Any]) -> Any:
    """A rule across columns; ``found`` holds the values read so far (null if bad or empty)."""
    if isinstance(rule, BothOrNeither):
        return _reasons((found[rule.first].isnull() != found[rule.second].isnull(), rule.message))
    if isinstance(rule, InOrder):
        earlier, later = found[rule.earlier], found[rule.later]
        wrong = (later <= earlier) if rule.strict else (later < earlier)
        return _reasons((wrong, rule.message))
    if isinstance(rule, Duration):
        start, end, given = found[rule.start], found[rule.end], found[rule.minutes]
        both = start.notnull() & end.notnull()
        mismatch = both & given.notnull() & (given != end - start)
        found[rule.minutes] = both.ifelse(end - start, given)
        return _reasons((mismatch, rule.message))
    value = found[rule.column]
    return _reasons(
        *([(value.isnull(), rule.missing)] if rule.missing else []),
        (value < rule.low, rule.below),
        (value > rule.high, rule.above),
    )


# -- the folder ----------------------------------------------------------------------------------


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


def _repeated_ids(path: Path, read: ir.Table, column: str, what: str) -> ir.Table:
    """``_repeated`` on one id column of a large file, the ids hashed first: grouping five
    million ids by a fixed-size hash costs about half as much as grouping their text, and only
    the rows whose hash is shared are then grouped by the id itself (none, in a file without
    repeats; on Spark, whose hash has 32 bits, some more: the answer is the same). Read from
    the file as read, not from the checked table: a second reader of the checked table makes
    DuckDB keep all of it in memory for both (a CTE), which costs more than the grouping.
    The id is the checked table's, the column as text (``_read`` of an identifier)."""
    ids = _text(read[column])
    hashed = read.group_by(h=ids.hash()).aggregate(n=read.count())
    shared = hashed.filter(hashed.n > 1)
    suspects = read.filter(ids.hash().isin(shared.h))
    return _repeated(path, suspects, {column: _text(suspects[column])}, what, quote=True)


def _conflicting(path: Path, table: ir.Table) -> ir.Table:
    # Per plan when the file says the plan: each plan says which of its members are eligible.
    keys = [key for key in ("member_id", "month", PLAN) if key in table.columns]
    # Both values given (some row true, some false; nulls aside): "any and not all" costs
    # DuckDB about a third of counting the distinct values of each group.
    grouped = table.group_by(*keys).aggregate(some=table.eligible.any(), every=table.eligible.all())
    clash = grouped.filter(grouped.some & ~grouped.every)
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


def _overlapping_clock(path: Path, time: ir.Table) -> ir.Table:
    """Entries of one staff member's day whose clock times share a minute
    (``ecmbill.domain.corrections.Interval.meets``): the shared minutes would bill twice.
    Touching ends do not overlap; entries in minutes only have no clock time to compare."""
    other = time.view()
    clash = time.join(
        other,
        [
            *(time[column] == other[column] for column in SAME_DAY),
            time.entry_id < other.entry_id,
            time.start_time < other.end_time,
            other.start_time < time.end_time,
        ],
    )
    return _finding(
        path, f"time entries with {OVERLAP}",
        clash.aggregate(rows=clash.count(), example=clash.entry_id.min()),
    )  # fmt: skip


def _ids_distinct(read: ir.Table, column: str) -> bool:
    """Whether every id of ``column`` is surely used once, proven on DuckDB by their 64-bit
    hashes all differing (the same id always has the same hash): the hashes are sorted in
    NumPy and neighbours compared, about a quarter of the CPU of grouping five million
    hashes in the engine. False proves nothing (a repeated id, two blank ids, or two ids
    hashing alike): the check query then finds the repeats as before (``_repeated_ids``).
    Other engines always leave it to the check query, where it costs no query of its own
    (on Spark each query is a job)."""
    if read.get_backend().name != "duckdb":
        return False
    hashes = read.select(h=_text(read[column]).hash()).to_pyarrow()["h"]
    if hashes.null_count:
        return False
    ordered = np.sort(hashes.to_numpy())
    return not bool((ordered[1:] == ordered[:-1]).any())


def _known_values(
    read: dict[str, ir.Table], plans: PlanContracts | None
) -> dict[str, dict[str, ir.Column]]:
    """Per file and column, values known to be fine as written, which the rating joins on
    anyway: a staff id the staff file holds and its own check finds fine, an activity of the
    contract's catalogue written as the rule wants it. The rule is the same on both sides (an
    identifier; an activity), so a cell holding such a value is fine by it: only the cells not
    found are matched against the rule's pattern, and the problems found are the same.
    DuckDB only: Spark takes a subquery (the staff ids) in a filter or a join, not inside the
    expression of a column, and checks each cell as before."""
    if read["staff"].get_backend().name != "duckdb":
        return {}
    staff_rule = _column_rule("staff", "staff_id")
    staff = read["staff"]
    staff_ids = staff.filter(_read(staff["staff_id"], staff_rule).fine)
    known_staff = staff_ids.select(value=_text(staff_ids["staff_id"])).value
    found: dict[str, dict[str, ir.Column]] = {}
    for kind in ("time", "outreach"):
        if _column_rule(kind, "staff_id").value is staff_rule.value:
            found.setdefault(kind, {})["staff_id"] = known_staff
    activity = _column_rule("time", "activity")
    names = sorted(
        {
            name
            for _, contract in (plans.items() if plans is not None else [])
            for name in contract.activities
            if _PLAIN_NAME.fullmatch(name) and re.search(values.LOWER_IDENTIFIER_PATTERN, name)
        }
    )
    if activity.value is Value.ACTIVITY and names:
        catalogue = ibis.memtable({"value": names}, schema={"value": "string"})
        found.setdefault("time", {})["activity"] = catalogue.value
    return found


# Only names of these characters are taken as known: on them Python's and the engines'
# regular expressions agree (``\s`` differs beyond ASCII).
_PLAIN_NAME = re.compile(r"[a-z0-9_]+")


def _column_rule(kind: str, name: str) -> Column:
    return next(
        rule for rule in _rules(kind).rules if isinstance(rule, Column) and rule.name == name
    )


def _has_clock_times(time: ir.Table) -> bool:
    """Without both clock columns no entry has clock times to overlap (each is null), so the
    check is left out: it would find nothing, and it would be a second reader of the checked
    time table (see ``_repeated_ids``)."""
    return {"start_time", "end_time"} <= set(time.columns)


def checked_inputs(
    read: dict[str, ir.Table], files: dict[str, Path], plans: PlanContracts | None = None
) -> RatingInputs:
    """The five files (``read`` from ``files``), and the plan assignments if given, as rating
    inputs for ``plans`` (default: the one default plan); raises ``SourceProblem`` listing
    every kind of bad row, in one query."""
    keys = list(plans or [DEFAULT_PLAN])
    if len(keys) > 1 and PLAN_ASSIGNMENTS not in files:
        raise SourceProblem(
            f"several plans ({', '.join(keys)}): add a file {PLAN_ASSIGNMENTS}.parquet or "
            f"{PLAN_ASSIGNMENTS}.csv (member_id, plan, start_date, end_date) saying each "
            "member's plan by date"
        )
    known = _known_values(read, plans)
    checked = {kind: check(read[kind], kind, path, known.get(kind)) for kind, path in files.items()}
    _known_plans(checked, keys)
    tables = {kind: result.table for kind, result in checked.items()}
    staff, spans = tables["staff"], tables["enrollments"]
    rated = {kind: result.values for kind, result in checked.items()}
    checks = [_row_problems(files[kind], result) for kind, result in checked.items()]
    checks += [
        _repeated_ids(files[kind], read[kind], column, f"{column}(s) used more than once")
        for kind, column in IDS_REQUIRED.items()
        if not _ids_distinct(read[kind], column)
    ]
    checks += [
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
    if _has_clock_times(read["time"]):
        checks.append(_overlapping_clock(files["time"], tables["time"]))
    checks += _plan_checks(files, tables)
    found = ibis.union(*checks).to_pyarrow().to_pylist()
    problems = []
    for row in sorted(found, key=lambda r: (r["file"], r["problem"])):
        if not row["rows"]:
            continue
        example = f" (e.g. {row['example']})" if row["example"] else ""
        problems.append(f"{row['file']}: {row['rows']} row(s): {row['problem']}{example}")
    if problems:
        raise SourceProblem("the files cannot be rated:\n  " + "\n  ".join(problems))
    time = rated["time"]
    return RatingInputs(
        time_entries=time.select(*TIME_COLUMNS),
        outreach_attempts=rated["outreach"].select(*OUTREACH_COLUMNS),
        staff_roles=rated["staff"].select(*STAFF_ROLE_COLUMNS),
        eligibility=_eligibility(rated["eligibility"], keys),
        enrollments=rated["enrollments"].select(*ENROLLMENT_COLUMNS),
        approvals=(
            time.filter(time[APPROVED].fill_null(False)).select(*APPROVAL_COLUMNS)
            if APPROVED in time.columns
            else None
        ),
        plan_assignments=(
            rated[PLAN_ASSIGNMENTS].select(*PLAN_ASSIGNMENT_COLUMNS) if len(keys) > 1 else None
        ),
    )


def _known_plans(checked: dict[str, Checked], keys: list[str]) -> None:
    """An eligibility row without a plan is the first plan's; a plan assignment or an
    eligibility row naming a plan that is not rated is refused (the member's days could not
    be rated under any contract)."""
    for kind in ("eligibility", PLAN_ASSIGNMENTS):
        if kind not in checked or PLAN not in checked[kind].table.columns:
            continue
        table, values = checked[kind].table, checked[kind].values

        def plan_of(rows: ir.Table) -> ir.StringValue:
            return rows[PLAN].fill_null(keys[0])

        plan = plan_of(table)
        unknown = _reasons(
            (~plan.isin(keys), f"plan is not one of the plans rated ({', '.join(keys)})")
        )
        checked[kind].table = table.mutate(
            **{PLAN: plan}, problem=ibis.coalesce(table.problem, unknown)
        )
        checked[kind].values = values.mutate(**{PLAN: plan_of(values)})


def _plan_checks(files: dict[str, Path], tables: dict[str, ir.Table]) -> list[ir.Table]:
    """Plan spans given twice or overlapping: an entry on a shared day would have two plans."""
    if PLAN_ASSIGNMENTS not in files:
        return []
    path, spans = files[PLAN_ASSIGNMENTS], tables[PLAN_ASSIGNMENTS]
    return [
        _repeated(
            path,
            spans,
            {"member_id": spans.member_id, "start": spans.start_date},
            "plan span(s) given twice (same member and start_date)",
        ),
        _overlapping(
            path,
            spans,
            "member_id",
            "start_date",
            "end_date",
            "plan span(s) overlapping another of the same member",
            quote=False,
        ),
    ]


def _eligibility(table: ir.Table, keys: list[str]) -> ir.Table:
    """Eligibility as the rating reads it: per plan when there are several (a file without a
    plan column is the first plan's)."""
    if len(keys) == 1:
        return table.select(*ELIGIBILITY_COLUMNS)
    if PLAN not in table.columns:
        table = table.mutate(**{PLAN: ibis.literal(keys[0], type="string")})
    return table.select(*PLAN_ELIGIBILITY_COLUMNS)


def approvals_given(inputs: RatingInputs, require_approval: bool, path: Path) -> None:
    """A folder rated under a contract that requires approval must say which entries were
    approved: without the column, every entry would be refused as NOT_APPROVED, which is
    more likely a file written for another contract than a month nobody approved."""
    if require_approval and inputs.approvals is None:
        raise SourceProblem(
            f"{path.name}: the contract requires a supervisor's approval (require_approval): "
            f"add a column {APPROVED} (true or false) saying which time entries were approved"
        )
