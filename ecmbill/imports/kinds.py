"""The import kinds (the six of a month's files, and the members' plan spans): how an accepted
row is stored, the checks across rows and against what is already stored, and the natural key
that makes a re-import change nothing. What a row may hold is declared once in
``ecmbill.domain.checks``, for the import and the file rating."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from ecmbill.contract import Contract
from ecmbill.domain.checks import (
    MINUTES_PER_DAY,
    ROW_RULES,
    UNKNOWN,
    Known,
    RowAction,
    RowProblem,
    RowReader,
    RowRules,
    directives_reader,
    row_reader,
)
from ecmbill.domain.corrections import Interval, OverlappingTime, first_overlap, merged
from ecmbill.domain.period import Period
from ecmbill.domain.plans import DEFAULT_PLAN
from ecmbill.domain.values import IDENTIFIER_LENGTH, clock
from ecmbill.imports import vectorised
from ecmbill.imports.batch import Row, RowReject
from ecmbill.store import models, records
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import Session


@dataclass(frozen=True)
class Options:
    """How one file is imported. ``source`` names the system whose ids the file's rows carry
    (a ``source`` column overrides it row by row); ``distinct_rows`` counts identical rows as
    separate records; ``replace_period`` makes the file the complete record of that month for
    the staff it covers (time and outreach)."""

    source: str | None = None
    distinct_rows: bool = False
    replace_period: Period | None = None


@dataclass(frozen=True)
class Context:
    today: date
    contract: Contract
    staff_ids: frozenset[str]
    member_ids: frozenset[str]
    options: Options = Options()
    # The office's plans, its first plan first (a row that names no plan is the first's).
    plans: tuple[str, ...] = (DEFAULT_PLAN,)


def context(
    session: Session, contract: Contract, today: date | None, options: Options = Options()
) -> Context:
    return Context(
        today=today or date.today(),
        contract=contract,
        staff_ids=records.staff_ids(session),
        member_ids=records.member_ids(session),
        options=options,
        plans=tuple(plan.key for plan in stored_plans.plans(session)) or (DEFAULT_PLAN,),
    )


def source_key(prefix: str, *parts: object) -> str:
    """A stable id for a row the source system gave no id: the same row always gets the same id,
    so re-importing a file finds it again."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return f"{prefix}-{digest[:16]}"


Rejects = list[tuple[Row, RowReject]]


class Kind:
    name: str
    model: type[models.Base]
    key_columns: tuple[str, ...]
    duplicate_hint = ""
    # The stored record a row may correct instead of its own key (``replaces_start``).
    replaces_column: str | None = None
    # The checks across rows compare only rows with the same value here.
    group_column = "member_id"

    @property
    def rules(self) -> RowRules:
        return ROW_RULES[self.name]

    @property
    def required(self) -> frozenset[str]:
        return self.rules.required

    @property
    def optional(self) -> frozenset[str]:
        return self.rules.optional

    def header_problem(self, header: set[str]) -> str | None:
        return self.rules.header_problem(header, directives=True)

    def read(
        self, row: Mapping[str, str], ctx: Context, given: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The row's values by the declared rules, or ``RowReject`` for the first it breaks.
        ``given``: the values the rules gave the row, read with its batch (``batch_reader``)."""
        if given is not None:
            return given
        read, known = self._reader(ctx)
        try:
            return read(row, known)
        except RowProblem as problem:
            raise RowReject(problem.column, problem.reason) from None

    def _reader(self, ctx: Context) -> tuple[RowReader, Mapping[Known, Any]]:
        """The declared rules as one function, and what is on file, made once per file: this
        runs for every imported row (the last context is kept, a file is read against one)."""
        cached = self.__dict__.get("_cached_reader")
        if cached is not None and cached[0] is ctx:
            return cached[1], cached[2]
        known = {
            Known.STAFF: ctx.staff_ids,
            Known.MEMBER: ctx.member_ids,
            Known.ACTIVITY: ctx.contract.activities,
            Known.PLAN: frozenset(ctx.plans),
        }
        read = row_reader(self.rules, ctx.today)
        self.__dict__["_cached_reader"] = (ctx, read, known)
        return read, known

    def batch_reader(
        self, ctx: Context
    ) -> Callable[[Sequence[str], Sequence[Sequence[str]]], list[dict[str, Any] | None]]:
        """The declared rules over a batch of rows (``imports.vectorised``): each row's values
        where it keeps every rule, None where it must be read alone (``parse``)."""
        read_batch = vectorised.batch_reader(self.rules, ctx.today)
        _, known = self._reader(ctx)
        return lambda header, rows: read_batch(header, rows, known)

    def instructions(self, row: Mapping[str, str]) -> dict[str, Any]:
        """The row's import instructions (``action``, ``count``, ...), None where not given."""
        read = self.__dict__.get("_directives")
        if read is None:
            read = self.__dict__["_directives"] = directives_reader(self.rules)
        try:
            return read(row)
        except RowProblem as problem:
            raise RowReject(problem.column, problem.reason) from None

    def parse(
        self, row: Mapping[str, str], ctx: Context, given: dict[str, Any] | None = None
    ) -> Row:
        values = self.read(row, ctx, given)
        return self.instructed(Row(0, self.key_of(values), values), row)

    def key_of(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(values[name] for name in self.key_columns)

    def instructed(self, parsed: Row, row: Mapping[str, str]) -> Row:
        """The row with its import instructions: delete, or correct a stored record."""
        given = self.instructions(row)
        parsed.delete = given.get("action") is RowAction.DELETE
        replaces = given.get(self.replaces_column) if self.replaces_column else None
        if replaces is not None:
            if parsed.delete:
                reason = (
                    f"{self.replaces_column} and action delete do not go together: delete the "
                    "stored record by its own key"
                )
                raise RowReject(self.replaces_column, reason)
            parsed.replaces = (parsed.key[0], replaces)
        return parsed

    def again(self, row: Row, occurrence: int) -> Row | None:
        """The row as the n-th identical record; None: a record of this kind is one row."""
        return None

    def hint_for_duplicate(self, row: Mapping[str, str]) -> str:
        """Why two rows count as the same record. A row that carries the source system's own
        id is matched on that id alone, whatever its other columns say."""
        if len(self.key_columns) == 1 and row.get(self.key_columns[0], "").strip():
            return f" (same {self.key_columns[0]})"
        return self.duplicate_hint

    def check_rows(self, rows: list[Row], session: Session, ctx: Context) -> Rejects:
        """Checks that need the other rows of the file or what is stored."""
        return self.check_deletes(rows, session)

    def check_deletes(self, rows: list[Row], session: Session) -> Rejects:
        """A row that deletes or corrects a stored record must name one that is stored."""
        named = [(row, row.key) for row in rows if row.delete]
        named += [(row, row.replaces) for row in rows if row.replaces is not None]
        if not named:
            return []
        stored = records.stored_keys(
            session, self.model, self.key_columns, [key for _, key in named if key is not None]
        )
        rejects = []
        for row, key in named:
            if key not in stored:
                column = self.replaces_column if row.replaces is not None else self.key_columns[-1]
                what = "correct" if row.replaces is not None else "delete"
                reason = f"nothing stored with {self.entity_key(key)} to {what}"
                rejects.append((row, RowReject(column, reason)))
        return rejects

    def entity_key(self, key: tuple[Any, ...]) -> str:
        return "/".join("" if part is None else str(part) for part in key)


class StaffKind(Kind):
    name = "staff"
    model = models.StaffRole
    key_columns = ("staff_id", "effective_from")
    duplicate_hint = " (same staff_id and effective_from)"
    replaces_column = "replaces_from"
    group_column = "staff_id"

    def parse(
        self, row: Mapping[str, str], ctx: Context, given: dict[str, Any] | None = None
    ) -> Row:
        read = self.read(row, ctx, given)
        staff_id, start = read["staff_id"], read["effective_from"]
        parsed = Row(
            line=0,
            key=(staff_id, start),
            values={
                "staff_id": staff_id,
                "role": read["role"].value,
                "effective_from": start,
                "effective_to": read["effective_to"],
            },
            extra={"staff_id": staff_id, "name": read["name"], "npi": read["npi"]},
        )
        return self.instructed(parsed, row)

    def check_rows(self, rows: list[Row], session: Session, ctx: Context) -> Rejects:
        rejects = self.check_deletes(rows, session)
        people: dict[str, Row] = {}
        for row in rows:
            first = people.setdefault(row.values["staff_id"], row)
            if first is not row and first.extra != row.extra:
                reason = f"name or npi differs from line {first.line} for the same staff_id"
                rejects.append((row, RowReject("name", reason)))
        rejected = {id(row) for row, _ in rejects}
        kept = [row for row in rows if id(row) not in rejected]
        stored = records.staff_roles(session, (row.values["staff_id"] for row in kept))
        rejects += _overlapping(
            kept,
            _without_corrected(stored, kept),
            ("staff_id", "effective_from", "effective_to"),
            "a role already stored",
            "role period overlaps {where} for the same staff member",
            "effective_from",
        )
        return rejects


class MembersKind(Kind):
    name = "members"
    model = models.Member
    key_columns = ("member_id",)
    duplicate_hint = " (same member_id)"

    def parse(
        self, row: Mapping[str, str], ctx: Context, given: dict[str, Any] | None = None
    ) -> Row:
        """An address or sex left empty (or a file without those columns) keeps what the plan's
        files gave: the row names only what it holds."""
        values = {k: v for k, v in self.read(row, ctx, given).items() if v is not None}
        if "sex" in values:
            values["sex"] = values["sex"].code
        return Row(0, (values["member_id"],), values)


class EligibilityKind(Kind):
    """A member's eligibility for a month, as one plan's files say it: kept per plan, so one
    plan's file never overwrites another's. A row without a plan is the first plan's."""

    name = "eligibility"
    model = models.Eligibility
    key_columns = ("member_id", "month", "plan")
    duplicate_hint = " (same member, month and plan)"

    def parse(
        self, row: Mapping[str, str], ctx: Context, given: dict[str, Any] | None = None
    ) -> Row:
        values = self.read(row, ctx, given)
        plan = self.instructions(row).get("plan") or ctx.plans[0]
        if plan not in ctx.plans:
            raise RowReject("plan", f"plan {UNKNOWN[Known.PLAN]}")
        values["plan"] = plan
        return self.instructed(Row(0, self.key_of(values), values), row)


class PlanAssignmentsKind(Kind):
    """Members' plans by date span. Stored through ``store.plans.assign``: a row is the
    member's plan on its days, whatever a stored span said of them (that span is cut back
    around it, audited). A re-import of the same file changes nothing."""

    name = "plan_assignments"
    model = models.PlanAssignment
    key_columns = ("member_id", "start_date")
    duplicate_hint = " (same member and start_date)"

    def check_rows(self, rows: list[Row], session: Session, ctx: Context) -> Rejects:
        # Only the file's own rows are compared: a stored span the row overlaps gives way.
        return _overlapping(
            rows,
            {},
            ("member_id", "start_date", "end_date"),
            "",
            "plan span overlaps {where} for the same member: a member has one plan on "
            "any day, so end the earlier span (end_date) before the later one starts",
            "start_date",
        )


class EnrollmentsKind(Kind):
    name = "enrollments"
    model = models.Enrollment
    key_columns = ("member_id", "start_date")
    duplicate_hint = " (same member and start_date)"
    replaces_column = "replaces_start"

    def check_rows(self, rows: list[Row], session: Session, ctx: Context) -> Rejects:
        rejects = self.check_deletes(rows, session)
        rejected = {id(row) for row, _ in rejects}
        kept = [row for row in rows if id(row) not in rejected]
        stored = records.enrollments(session, (row.values["member_id"] for row in kept))
        return rejects + _overlapping(
            kept,
            _without_corrected(stored, kept),
            ("member_id", "start_date", "end_date"),
            "an enrollment already stored",
            "enrollment overlaps {where} for the same member",
            "start_date",
        )


def _without_corrected(
    stored: dict[str, list[records.Span]], rows: list[Row]
) -> dict[str, list[records.Span]]:
    """The stored periods less those the file deletes or corrects (they make way)."""
    going = {row.key for row in rows if row.delete} | {
        row.replaces for row in rows if row.replaces is not None
    }
    return {
        owner: [span for span in spans if (owner, span[0]) not in going]
        for owner, spans in stored.items()
    }


@dataclass(frozen=True)
class Around:
    """What is stored around a file of work rows, on the days of its staff: the records that
    stay beside the file's rows, and the ids the file deletes (or --replace-period removes)."""

    staying: list[dict[str, Any]]
    going: set[str]


class WorkKind(Kind):
    """Time entries and outreach attempts: one record per row, known by the source system's id
    (namespaced by its ``source``) or, without one, by what the row says."""

    id_column: str
    prefix: str
    group_column = "staff_id"
    what: str
    # The columns whose change under one id is worth a word: they change what is billed.
    noted: tuple[str, ...]

    def parse(
        self, row: Mapping[str, str], ctx: Context, given: dict[str, Any] | None = None
    ) -> Row:
        values = self.normalised(self.read(row, ctx, given))
        given = self.instructions(row)
        source = given.get("source") or ctx.options.source
        own_id = values[self.id_column]
        generated = None
        if own_id is None:
            generated = self.key_parts(values)
            values[self.id_column] = source_key(self.prefix, *generated)
        elif source:
            values[self.id_column] = f"{source}:{own_id}"
            if len(values[self.id_column]) > IDENTIFIER_LENGTH:
                raise RowReject(
                    self.id_column,
                    f"{self.id_column} with its source is longer than {IDENTIFIER_LENGTH} "
                    "characters",
                )
        copies = given.get("count") or 1
        if copies > 1 and own_id is not None:
            raise RowReject(
                "count",
                f"count above 1 needs a row without {self.id_column}: a record with its own id "
                "is one record",
            )
        parsed = Row(0, (values[self.id_column],), values, copies=copies, generated=generated)
        parsed.delete = given.get("action") is RowAction.DELETE
        return parsed

    def normalised(self, values: dict[str, Any]) -> dict[str, Any]:
        return values

    def key_parts(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        raise NotImplementedError

    def again(self, row: Row, occurrence: int) -> Row | None:
        if row.generated is None:
            return None
        record_id = source_key(self.prefix, *row.generated, occurrence)
        values = {**row.values, self.id_column: record_id}
        return replace(row, key=(record_id,), values=values, notes=[])

    def hint_for_duplicate(self, row: Mapping[str, str]) -> str:
        if row.get(self.id_column, "").strip():
            return f" (same {self.id_column})"
        return self.duplicate_hint

    def check_rows(self, rows: list[Row], session: Session, ctx: Context) -> Rejects:
        rejects: Rejects = []
        period = ctx.options.replace_period
        if period is not None:
            for row in rows:
                if row.values["date"] not in period:
                    reason = f"date is not in {period}, the month --replace-period replaces"
                    rejects.append((row, RowReject("date", reason)))
        kept = _kept(rows, rejects)
        rejects += self.check_identity(kept, session)
        kept = _kept(kept, rejects)
        if not kept:
            return rejects
        nearby = records.work_of(
            session,
            self.model,
            {row.values["staff_id"] for row in kept},
            min(row.values["date"] for row in kept),
            max(row.values["date"] for row in kept),
        )
        in_file = {row.key[0] for row in kept}
        going = {row.key[0] for row in kept if row.delete}
        if period is not None:
            staff = {row.values["staff_id"] for row in kept}
            going |= {
                stored[self.id_column]
                for stored in nearby
                if stored["date"] in period
                and stored["staff_id"] in staff
                and stored[self.id_column] not in in_file
            }
        staying = [
            stored
            for stored in nearby
            if stored[self.id_column] not in in_file and stored[self.id_column] not in going
        ]
        around = Around(staying, going)
        rejects += self.check_day(_kept(kept, rejects), session, ctx, around)
        self.note_possible_repeats(_kept(kept, rejects), staying, ctx)
        return rejects

    def check_identity(self, rows: list[Row], session: Session) -> Rejects:
        """An id names one record: a row may not take over another staff member's or
        member's, and a row that deletes must name one that is stored."""
        stored = records.stored_rows(
            session, self.model, self.id_column, (row.key[0] for row in rows)
        )
        rejects: Rejects = []
        for row in rows:
            record_id, before = row.key[0], stored.get(row.key[0])
            if before is None:
                if row.delete:
                    reason = f"no stored {self.what} with {self.id_column} {record_id} to delete"
                    rejects.append((row, RowReject(self.id_column, reason)))
                continue
            taken = [name for name in ("staff_id", "member_id") if before[name] != row.values[name]]
            if taken:
                owner = " and ".join("staff member" if n == "staff_id" else "member" for n in taken)
                reason = (
                    f"{self.id_column} {record_id} is already stored for another {owner}: ids "
                    "are per source system, so give this system's file a source (a source "
                    "column or --source); to move a record to another staff member or member, "
                    "delete it and record it again"
                )
                rejects.append((row, RowReject(self.id_column, reason)))
            elif not row.delete:
                for name in self.noted:
                    if before[name] != row.values[name]:
                        row.notes.append(
                            f"updates {self.what} {record_id}: {name} {before[name]} -> "
                            f"{row.values[name]}"
                        )
        return rejects

    def check_day(self, rows: list[Row], session: Session, ctx: Context, around: Around) -> Rejects:
        """Checks of one staff member's day; none by default."""
        return []

    def note_possible_repeats(
        self, rows: list[Row], staying: list[dict[str, Any]], ctx: Context
    ) -> None:
        """A new row without an id beside a stored record of the same staff member, member and
        day may be a correction of it: say so, or it is billed as well."""
        stored: dict[tuple[str, str, date], list[str]] = {}
        for record in staying:
            day = (record["staff_id"], record["member_id"], record["date"])
            stored.setdefault(day, []).append(record[self.id_column])
        for row in rows:
            if row.delete or row.generated is None:
                continue
            day = (row.values["staff_id"], row.values["member_id"], row.values["date"])
            others = stored.get(day)
            if not others:
                continue
            month = Period.of(row.values["date"])
            row.notes.append(
                f"another {self.what} of this staff member and member on {row.values['date']} "
                f"is stored ({', '.join(sorted(others)[:3])}): if this row corrects it, import "
                f"the month with --replace-period {month} or delete the old one "
                f"(`ecmbill {self.name} delete ID --reason ...`); otherwise both are billed"
            )


def _kept(rows: list[Row], rejects: Rejects) -> list[Row]:
    refused = {row.line for row, _ in rejects}
    return [row for row in rows if row.line not in refused]


class TimeKind(WorkKind):
    name = "time"
    model = models.TimeEntry
    key_columns = ("entry_id",)
    id_column = "entry_id"
    prefix = "T"
    what = "time entry"
    noted = ("date", "activity", "modality")
    duplicate_hint = (
        " (same staff, member, date, activity and modality: add start_time and end_time "
        "columns (or an entry_id) to record both; a count column if the row stands for "
        "several entries; or import with --distinct-rows to count identical rows apart)"
    )

    def normalised(self, values: dict[str, Any]) -> dict[str, Any]:
        values["modality"] = values["modality"].value
        values["start_time"] = _clock_text(values["start_time"])
        values["end_time"] = _clock_text(values["end_time"])
        return values

    def key_parts(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        return (
            *(values[name] for name in ("staff_id", "member_id", "date", "activity")),
            values["modality"],
            values["start_time"] or "",
        )

    def check_day(self, rows: list[Row], session: Session, ctx: Context, around: Around) -> Rejects:
        setting = OverlappingTime(ctx.contract.overlapping_time)
        rejects = self.check_overlaps(rows, around.staying, setting)
        recorded = [row for row in _kept(rows, rejects) if not row.delete and not row.merged_into]
        rejects += self.check_hours(recorded, session, around.going)
        return rejects

    def check_overlaps(
        self, rows: list[Row], staying: list[dict[str, Any]], setting: OverlappingTime
    ) -> Rejects:
        """One staff member's clock intervals on one day may not overlap (the shared minutes
        would bill twice); by contract, overlapping rows of the same member, activity and
        modality are merged into one entry instead. Entries in minutes only are not compared."""
        days: dict[tuple[str, date], list[Interval[Any]]] = {}
        for record in staying:
            if record["start_time"] and record["end_time"]:
                days.setdefault((record["staff_id"], record["date"]), []).append(
                    Interval(record["entry_id"], clock(record["start_time"]),
                             clock(record["end_time"]))
                )  # fmt: skip
        rejects: Rejects = []
        for row in rows:
            values = row.values
            if row.delete or not values["start_time"]:
                continue
            mine = days.setdefault((values["staff_id"], values["date"]), [])
            interval = Interval(row, clock(values["start_time"]), clock(values["end_time"]))
            other = first_overlap(interval, mine)
            if other is None:
                mine.append(interval)
                continue
            partner = other.ref
            if (
                setting is OverlappingTime.MERGE
                and isinstance(partner, Row)
                and all(partner.values[n] == values[n] for n in MERGED_ALIKE)
            ):
                ((start, end, _),) = merged([other, interval])
                union = Interval(partner, start, end)
                if first_overlap(union, [i for i in mine if i is not other]) is None:
                    mine[mine.index(other)] = union
                    _merge(partner, row, union)
                    continue
            where = (
                f"line {partner.line}" if isinstance(partner, Row) else f"stored entry {partner}"
            )
            reason = (
                f"{interval.clock()} overlaps {where} ({other.clock()}) of the same staff member "
                f"on {values['date']}: one person's minutes count once, so correct the clock "
                "times (or give minutes only)"
            )
            rejects.append((row, RowReject("start_time", reason)))
        return rejects

    def check_hours(self, rows: list[Row], session: Session, going: set[str]) -> Rejects:
        """One staff member cannot work more than 24 hours on one day, across all imports."""
        totals = records.minutes_per_day(
            session,
            (row.values["staff_id"] for row in rows),
            (row.values["date"] for row in rows),
            [*(row.values["entry_id"] for row in rows), *going],
        )
        rejects = []
        for row in rows:
            day_key = (row.values["staff_id"], row.values["date"])
            if totals[day_key] + row.values["minutes"] > MINUTES_PER_DAY:
                reason = f"staff would have more than 24 hours on {row.values['date']}"
                rejects.append((row, RowReject("minutes", reason)))
                continue
            totals[day_key] += row.values["minutes"]
        return rejects


# Overlapping rows are merged only when they say the same thing but the time.
MERGED_ALIKE = ("member_id", "activity", "modality")


def _merge(kept: Row, merged: Row, union: Interval[Any]) -> None:
    kept.values["start_time"] = _clock_text(union.start)
    kept.values["end_time"] = _clock_text(union.end)
    kept.values["minutes"] = union.end - union.start
    merged.merged_into = kept
    kept.notes.append(
        f"merged with line {merged.line} ({merged.values['start_time']}-"
        f"{merged.values['end_time']}), which overlaps it: one entry of "
        f"{kept.values['start_time']}-{kept.values['end_time']}"
    )


class OutreachKind(WorkKind):
    name = "outreach"
    model = models.OutreachAttempt
    key_columns = ("attempt_id",)
    id_column = "attempt_id"
    prefix = "O"
    what = "outreach attempt"
    noted = ("date", "method")
    duplicate_hint = (
        " (same staff, member, date and method: add an attempt_time column (or an "
        "attempt_id) to record both; a count column if the row stands for several attempts; "
        "or import with --distinct-rows to count identical rows apart)"
    )

    def normalised(self, values: dict[str, Any]) -> dict[str, Any]:
        values["method"] = values["method"].value
        values["outcome"] = values["outcome"].value
        values["attempt_time"] = _clock_text(values["attempt_time"])
        return values

    def key_parts(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        parts = (values["staff_id"], values["member_id"], values["date"], values["method"])
        # An attempt without a time keeps the id it always had.
        return (*parts, values["attempt_time"]) if values["attempt_time"] else parts


def _clock_text(minutes: int | None) -> str | None:
    return None if minutes is None else f"{minutes // 60:02d}:{minutes % 60:02d}"


def _overlapping(
    rows: list[Row],
    stored: dict[str, list[records.Span]],
    columns: tuple[str, str, str],
    stored_where: str,
    message: str,
    blamed: str,
) -> list[tuple[Row, RowReject]]:
    """Rows whose period overlaps a stored one or an earlier row's of the same key (a row with
    the same start replaces that period)."""
    key, start_column, end_column = columns
    spans: dict[str, list[tuple[date | None, date | None, int]]] = {
        owner: [(start, end, -1) for start, end in periods] for owner, periods in stored.items()
    }
    rejects = []
    for row in rows:
        mine = spans.setdefault(row.values[key], [])
        start, end = row.values[start_column], row.values[end_column]
        clash = next((s for s in mine if s[0] != start and _overlaps(s[0], s[1], start, end)), None)
        if clash:
            where = f"line {clash[2]}" if clash[2] > 0 else stored_where
            rejects.append((row, RowReject(blamed, message.format(where=where))))
            continue
        mine[:] = [s for s in mine if s[0] != start] + [(start, end, row.line)]
    return rejects


def _overlaps(
    a_start: date | None, a_end: date | None, b_start: date | None, b_end: date | None
) -> bool:
    return (a_start or date.min) <= (b_end or date.max) and (b_start or date.min) <= (
        a_end or date.max
    )


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        StaffKind(),
        MembersKind(),
        EligibilityKind(),
        EnrollmentsKind(),
        TimeKind(),
        OutreachKind(),
    )
}
# The six kinds of a month's files have every door (forms, the API, files to rate); members'
# plan spans are imported from a file only.
PLAN_ASSIGNMENTS = PlanAssignmentsKind()
IMPORT_KINDS: dict[str, Kind] = {**KINDS, PLAN_ASSIGNMENTS.name: PLAN_ASSIGNMENTS}
