"""The row rules of each import kind, declared once as data: which columns a row has, what
each holds, and the rules across columns. Two interpreters read them: ``read_row`` below (the
import, a form, the API) and the file checks of plan-scale rating
(``ecmbill.rating.file_checks``), which turn the same declaration into column expressions.

A row is checked in the declared order and refused for the first rule it breaks, so both
interpreters name the same fault with the same words."""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from typing import Any

from ecmbill.domain import values
from ecmbill.domain.plans import PLAN_KEY_PATTERN
from ecmbill.domain.values import FieldError
from ecmbill.domain.vocabulary import Modality, OutreachMethod, OutreachOutcome, Role, Sex

MINUTES_PER_DAY = 24 * 60
# The most records one row may stand for (its ``count``): more is a typing slip.
MAX_COUNT = 100


class Value(StrEnum):
    """What a cell holds; each is one parser of ``ecmbill.domain.values``."""

    TEXT = "text"
    NAME = "name"
    NOTE = "note"
    IDENTIFIER = "identifier"
    ACTIVITY = "activity"  # an identifier, kept in lower case
    CIN = "cin"
    NPI = "npi"
    DATE = "date"  # may lie in the future (the end of a role, an enrollment)
    PAST_DATE = "past_date"  # not after today (a service, a birth)
    MONTH = "month"
    CLOCK = "clock"
    MINUTES = "minutes"
    FLAG = "flag"
    CHOICE = "choice"
    STATE = "state"
    ZIP = "zip"
    PLAN = "plan"  # a plan's key (``ecmbill plans add KEY``), kept in lower case


class Known(StrEnum):
    """What must already be on file for a value to be taken; only the import can ask."""

    STAFF = "staff"
    MEMBER = "member"
    ACTIVITY = "activity"
    PLAN = "plan"


UNKNOWN = {
    Known.STAFF: "is not a known staff member: import staff first",
    Known.MEMBER: "is not a known member: import members first",
    Known.ACTIVITY: "is not in the contract's activity catalogue",
    Known.PLAN: "is not a plan of this office: see `ecmbill plans list`, or add it with "
    "`ecmbill plans add`",
}


@dataclass(frozen=True)
class Column:
    name: str
    value: Value
    required: bool = True
    options: type[StrEnum] | None = None  # the words a CHOICE takes
    known: Known | None = None


@dataclass(frozen=True)
class BothOrNeither:
    """Two columns given together or not at all; the one left empty is blamed."""

    first: str
    second: str
    message: str


@dataclass(frozen=True)
class InOrder:
    """``later`` may not come before ``earlier`` (nor equal it, when ``strict``)."""

    earlier: str
    later: str
    strict: bool
    message: str


@dataclass(frozen=True)
class Duration:
    """``minutes`` is the time from ``start`` to ``end`` when both are given; a ``minutes``
    given as well must agree."""

    minutes: str
    start: str
    end: str
    message: str


@dataclass(frozen=True)
class Within:
    column: str
    low: int
    high: int
    below: str
    above: str
    missing: str | None = None  # the reason when no value is given, if one is needed


Rule = Column | BothOrNeither | InOrder | Duration | Within


@dataclass(frozen=True)
class RowRules:
    kind: str
    rules: tuple[Rule, ...]
    # A column that others may stand in for: time gives minutes, or start_time and end_time.
    instead: tuple[str, tuple[str, ...]] | None = None
    # Import instructions (``DIRECTIVES``): columns an import file may add to say what a row
    # does to the store. They are not data of the record, so a file to rate has none.
    directives: tuple[Rule, ...] = ()

    @property
    def columns(self) -> tuple[Column, ...]:
        return tuple(rule for rule in self.rules if isinstance(rule, Column))

    @property
    def required(self) -> frozenset[str]:
        return frozenset(c.name for c in self.columns if c.required)

    @property
    def optional(self) -> frozenset[str]:
        return frozenset(c.name for c in self.columns if not c.required)

    @property
    def directive_columns(self) -> frozenset[str]:
        return frozenset(rule.name for rule in self.directives if isinstance(rule, Column))

    def header_problem(self, header: set[str], *, directives: bool = False) -> str | None:
        """What is wrong with a header; ``directives`` when the import instructions may be
        given too (an import file, not a file to rate)."""
        allowed = self.required | self.optional | (self.directive_columns if directives else set())
        missing = sorted(self.required - header)
        extra = sorted(header - allowed)
        problems = []
        if missing:
            problems.append(f"missing column(s): {', '.join(missing)}")
        if extra:
            problems.append(f"unexpected column(s): {', '.join(extra)}")
        if not problems and self.instead:
            column, stand_ins = self.instead
            if column not in header and not set(stand_ins) <= header:
                problems.append(f"missing column(s): {column} (or {' and '.join(stand_ins)})")
        return "; ".join(problems) or None


class RowProblem(ValueError):
    """A row broke a rule: the column at fault (if one) and the reason."""

    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


class RowAction(StrEnum):
    """What an import row does: record (add or update) its record, or delete it."""

    RECORD = "record"
    DELETE = "delete"


ACTION = Column("action", Value.CHOICE, required=False, options=RowAction)
# A source system's own ids are its own: ``source`` namespaces them, so entry 1 of one system
# is not entry 1 of another.
SOURCE = Column("source", Value.IDENTIFIER, required=False)
COUNT = (
    Column("count", Value.MINUTES, required=False),
    Within(
        "count",
        1,
        MAX_COUNT,
        below="count must be at least 1",
        above=f"count is more than {MAX_COUNT}",
    ),
)
WORK_DIRECTIVES = (ACTION, SOURCE, *COUNT)

STAFF = RowRules(
    "staff",
    (
        Column("staff_id", Value.IDENTIFIER),
        Column("name", Value.TEXT),
        Column("role", Value.CHOICE, options=Role),
        Column("npi", Value.NPI, required=False),
        Column("effective_from", Value.DATE, required=False),
        Column("effective_to", Value.DATE, required=False),
        InOrder("effective_from", "effective_to", False, "effective_to is before effective_from"),
    ),
    # The stored role period this row corrects, named by its effective_from.
    directives=(ACTION, Column("replaces_from", Value.DATE, required=False)),
)
# The residential address and sex the 837P needs (2010BA N3/N4, DMG03), when the plan's
# files (MIF, 834) do not bring them. An address is given whole or not at all; a member row
# that leaves them empty keeps what is stored.
_ADDRESS_WHOLE = "address, city, state and zip go together: give all four or none"
MEMBER_ADDRESS = ("address", "city", "state", "zip")
MEMBERS = RowRules(
    "members",
    (
        Column("member_id", Value.CIN),
        Column("first_name", Value.NAME),
        Column("last_name", Value.NAME),
        Column("birth_date", Value.PAST_DATE),
        Column("address", Value.TEXT, required=False),
        Column("city", Value.NAME, required=False),
        Column("state", Value.STATE, required=False),
        Column("zip", Value.ZIP, required=False),
        BothOrNeither("address", "city", _ADDRESS_WHOLE),
        BothOrNeither("address", "state", _ADDRESS_WHOLE),
        BothOrNeither("address", "zip", _ADDRESS_WHOLE),
        Column("sex", Value.CHOICE, required=False, options=Sex),
    ),
)
# Which plan's eligibility a row is (empty or no column: the office's first plan). Each plan's
# files speak for that plan only, so it is where the import keeps the row, not data a file to
# rate carries: one plan's "not eligible" never overwrites another's "eligible". Whether the
# plan is the office's is checked by the import (``UNKNOWN[Known.PLAN]``).
ELIGIBILITY_PLAN = Column("plan", Value.PLAN, required=False)
ELIGIBILITY = RowRules(
    "eligibility",
    (
        Column("member_id", Value.CIN, known=Known.MEMBER),
        Column("month", Value.MONTH),
        Column("eligible", Value.FLAG),
    ),
    directives=(ACTION, ELIGIBILITY_PLAN),
)
# A member's plan from start_date to end_date (empty: still running). The spans of one member
# may not overlap within a file: on any day a member has one plan.
PLAN_ASSIGNMENTS = RowRules(
    "plan_assignments",
    (
        Column("member_id", Value.CIN, known=Known.MEMBER),
        Column("plan", Value.PLAN, known=Known.PLAN),
        Column("start_date", Value.DATE),
        Column("end_date", Value.DATE, required=False),
        InOrder(
            "start_date",
            "end_date",
            False,
            "end_date is before start_date: a plan span ends on or after the day it starts",
        ),
    ),
)
ENROLLMENTS = RowRules(
    "enrollments",
    (
        Column("member_id", Value.CIN, known=Known.MEMBER),
        Column("start_date", Value.DATE),
        Column("end_date", Value.DATE, required=False),
        InOrder("start_date", "end_date", False, "end_date is before start_date"),
    ),
    # The stored span this row corrects, named by its start_date.
    directives=(ACTION, Column("replaces_start", Value.DATE, required=False)),
)
TIME = RowRules(
    "time",
    (
        Column("staff_id", Value.IDENTIFIER, known=Known.STAFF),
        Column("member_id", Value.CIN, known=Known.MEMBER),
        Column("date", Value.PAST_DATE),
        Column("activity", Value.ACTIVITY, known=Known.ACTIVITY),
        Column("modality", Value.CHOICE, options=Modality),
        Column("start_time", Value.CLOCK, required=False),
        Column("end_time", Value.CLOCK, required=False),
        Column("minutes", Value.MINUTES, required=False),
        BothOrNeither(
            "start_time", "end_time", "start_time and end_time go together: give both or neither"
        ),
        InOrder(
            "start_time", "end_time", True, "end_time must be after start_time on the same day"
        ),
        Duration(
            "minutes", "start_time", "end_time", "minutes does not match start_time to end_time"
        ),
        Within(
            "minutes",
            1,
            MINUTES_PER_DAY,
            below="minutes must be more than 0",
            above="minutes is more than 24 hours for one day",
            missing="minutes is empty (give minutes or start_time and end_time)",
        ),
        Column("entry_id", Value.IDENTIFIER, required=False),
        Column("note", Value.NOTE, required=False),
    ),
    instead=("minutes", ("start_time", "end_time")),
    directives=WORK_DIRECTIVES,
)
OUTREACH = RowRules(
    "outreach",
    (
        Column("staff_id", Value.IDENTIFIER, known=Known.STAFF),
        Column("member_id", Value.CIN, known=Known.MEMBER),
        Column("date", Value.PAST_DATE),
        Column("method", Value.CHOICE, options=OutreachMethod),
        Column("minutes", Value.MINUTES, required=False),
        Within(
            "minutes",
            0,
            MINUTES_PER_DAY,
            below="minutes must be between 0 and 24 hours",
            above="minutes must be between 0 and 24 hours",
        ),
        Column("attempt_id", Value.IDENTIFIER, required=False),
        Column("individualized", Value.FLAG),
        Column("outcome", Value.CHOICE, options=OutreachOutcome),
        # When in the day: two attempts on one day without ids are told apart by it.
        Column("attempt_time", Value.CLOCK, required=False),
    ),
    directives=WORK_DIRECTIVES,
)
ROW_RULES: dict[str, RowRules] = {
    rules.kind: rules
    for rules in (STAFF, MEMBERS, ELIGIBILITY, ENROLLMENTS, TIME, OUTREACH, PLAN_ASSIGNMENTS)
}
# Columns only a file to rate (``ecmbill rate --source``) takes. ``approved``: whether a
# supervisor approved the time entry (true/false; empty is false). The store keeps approvals
# apart, given in the web app, so an import does not take the column. A folder rated under a
# contract with ``require_approval`` must have it; without that setting it is not read.
APPROVED = "approved"
RATING_ONLY: dict[str, tuple[Column, ...]] = {
    "time": (Column(APPROVED, Value.FLAG, required=False),),
}


# -- reading one row of text cells ------------------------------------------------------------


def parser(column: Column, today: date) -> Callable[[str], Any]:
    """The parser of ``ecmbill.domain.values`` that reads ``column``."""
    kind = column.value
    if kind is Value.CHOICE:
        options = column.options
        assert options is not None, f"{column.name}: a choice needs its options"
        return lambda text: values.choice(text, options)
    if kind is Value.PAST_DATE:
        return lambda text: values.day(text, today=today)
    return _PARSERS[kind]


def _activity(text: str) -> str:
    return values.identifier(text).lower()


_PLAN_KEY = re.compile(PLAN_KEY_PATTERN)


NOT_PLAN_KEY = "is not a plan key (lower-case letters, digits, - and _, up to 20 characters)"


def plan_key(text: str) -> str:
    """A plan's key as typed (any case): letters, digits, - and _, up to 20."""
    key = values.identifier(text).lower()
    if not _PLAN_KEY.match(key):
        raise values.FieldError(NOT_PLAN_KEY)
    return key


_PARSERS: dict[Value, Callable[[str], Any]] = {
    Value.TEXT: values.text,
    Value.NAME: values.name,
    Value.NOTE: values.note,
    Value.IDENTIFIER: values.identifier,
    Value.ACTIVITY: _activity,
    Value.CIN: values.member_id,
    Value.NPI: values.npi,
    Value.DATE: values.any_day,
    Value.MONTH: values.month,
    Value.CLOCK: values.clock,
    Value.MINUTES: values.whole_number,
    Value.FLAG: values.flag,
    Value.STATE: values.state,
    Value.ZIP: values.zip_code,
    Value.PLAN: plan_key,
}

Step = Callable[[Mapping[str, str], dict[str, Any], Mapping[Known, Container[str]]], None]


def read_row(
    rules: RowRules,
    cells: Mapping[str, str],
    *,
    today: date,
    known: Mapping[Known, Container[str]],
) -> dict[str, Any]:
    """The row's values by column (None where an optional cell is empty), or ``RowProblem``
    for the first rule the row breaks. ``known`` holds what is on file, by what it is."""
    found: dict[str, Any] = {}
    for step in _steps(rules, today):
        step(cells, found, known)
    return found


def row_problems(
    rules: RowRules,
    cells: Mapping[str, str],
    *,
    today: date,
    known: Mapping[Known, Container[str]],
) -> list[RowProblem]:
    """Every rule the row breaks, the first per column, in the rules' order: a form shows all
    of them at once where the import stops at the first (``read_row``). A column that fails
    is left out of what later rules read, as an empty cell is."""
    found: dict[str, Any] = {}
    problems: dict[str | None, RowProblem] = {}
    for step in _steps(rules, today):
        try:
            step(cells, found, known)
        except RowProblem as problem:
            problems.setdefault(problem.column, problem)
    return list(problems.values())


def read_directives(rules: RowRules, cells: Mapping[str, str]) -> dict[str, Any]:
    """The row's import instructions by column (None where not given), or ``RowProblem``."""
    found: dict[str, Any] = {}
    for step in _directive_steps(rules):
        step(cells, found, {})
    return found


RowReader = Callable[[Mapping[str, str], Mapping[Known, Container[str]]], dict[str, Any]]


def row_reader(rules: RowRules, today: date) -> RowReader:
    """``read_row`` for many rows of one kind on one day: the rules are turned into functions
    once, not looked up (and hashed, every column of the declaration) for each row."""
    steps = _steps(rules, today)

    def read(cells: Mapping[str, str], known: Mapping[Known, Container[str]]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for step in steps:
            step(cells, found, known)
        return found

    return read


def directives_reader(rules: RowRules) -> Callable[[Mapping[str, str]], dict[str, Any]]:
    """``read_directives`` for many rows of one kind, the rules turned into functions once."""
    steps = _directive_steps(rules)

    def read(cells: Mapping[str, str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for step in steps:
            step(cells, found, {})
        return found

    return read


def across_columns(rules: RowRules) -> Callable[[dict[str, Any]], bool]:
    """The rules between a row's columns (both or neither, in order, a duration, within),
    in the declaration's order, over the row's column values as read: whether the row keeps
    every one (``found`` gains what they work out, a duration's minutes, as in the row
    reader). For a reader that reads the columns of many rows at once: each of these rules
    names only columns declared before it, so reading every column first changes nothing."""
    declared: set[str] = set()
    for rule in rules.rules:
        if isinstance(rule, Column):
            declared.add(rule.name)
        else:
            named = {getattr(rule, field) for field in _NAMED_COLUMNS[type(rule)]}
            assert named <= declared, f"{rules.kind}: {rule} names a column declared after it"
    steps = tuple(_step(rule, date.max) for rule in rules.rules if not isinstance(rule, Column))

    def keeps(found: dict[str, Any]) -> bool:
        try:
            for step in steps:
                step(found, found, {})
        except RowProblem:
            return False
        return True

    return keeps


# The columns each rule between columns reads.
_NAMED_COLUMNS: dict[type, tuple[str, ...]] = {
    BothOrNeither: ("first", "second"),
    InOrder: ("earlier", "later"),
    Duration: ("minutes", "start", "end"),
    Within: ("column",),
}


@cache
def _directive_steps(rules: RowRules) -> tuple[Step, ...]:
    return tuple(_step(rule, date.max) for rule in rules.directives)


@cache
def _steps(rules: RowRules, today: date) -> tuple[Step, ...]:
    """The rules as functions, made once per kind and day: this runs for every imported row."""
    return tuple(_step(rule, today) for rule in rules.rules)


def _step(rule: Rule, today: date) -> Step:
    if isinstance(rule, Column):
        parse, name, required, must_know = parser(rule, today), rule.name, rule.required, rule.known

        def column(cells: Mapping[str, str], found: dict[str, Any], known: Any) -> None:
            text = cells.get(name, "")
            if not required and not text.strip():
                found[name] = None
                return
            try:
                found[name] = parse(text)
            except FieldError as err:
                raise RowProblem(name, f"{name} {err}") from None
            if must_know is not None and found[name] not in known[must_know]:
                raise RowProblem(name, f"{name} {UNKNOWN[must_know]}")

        return column
    if isinstance(rule, BothOrNeither):

        def both(_: Mapping[str, str], found: dict[str, Any], __: Any) -> None:
            first, second = found.get(rule.first), found.get(rule.second)
            if (first is None) != (second is None):
                raise RowProblem(rule.second if second is None else rule.first, rule.message)

        return both
    if isinstance(rule, InOrder):

        def ordered(_: Mapping[str, str], found: dict[str, Any], __: Any) -> None:
            earlier, later = found.get(rule.earlier), found.get(rule.later)
            if earlier is None or later is None:
                return
            if later < earlier or (rule.strict and later == earlier):
                raise RowProblem(rule.later, rule.message)

        return ordered
    if isinstance(rule, Duration):

        def duration(_: Mapping[str, str], found: dict[str, Any], __: Any) -> None:
            start, end = found.get(rule.start), found.get(rule.end)
            if start is None or end is None:
                return
            given = found.get(rule.minutes)
            if given is not None and given != end - start:
                raise RowProblem(rule.minutes, rule.message)
            found[rule.minutes] = end - start

        return duration

    def within(_: Mapping[str, str], found: dict[str, Any], __: Any) -> None:
        value = found.get(rule.column)
        if value is None:
            if rule.missing:
                raise RowProblem(rule.column, rule.missing)
        elif value < rule.low:
            raise RowProblem(rule.column, rule.below)
        elif value > rule.high:
            raise RowProblem(rule.column, rule.above)

    return within
