"""The six import kinds: their columns, how a row is read, the checks across rows and against
what is already stored, and the natural key that makes a re-import change nothing."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecmbill.contract import Contract
from ecmbill.domain import values as fields
from ecmbill.domain.values import FieldError
from ecmbill.domain.vocabulary import Modality, OutreachMethod, OutreachOutcome, Role
from ecmbill.store import models

MINUTES_PER_DAY = 24 * 60
T = TypeVar("T")


class RowReject(Exception):
    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


@dataclass
class Row:
    """An accepted row on its way into the store."""

    line: int
    key: tuple[Any, ...]
    values: dict[str, Any]
    # Rows written into a second table from the same line (staff roles from the staff file).
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    today: date
    contract: Contract
    staff_ids: frozenset[str]
    member_ids: frozenset[str]


def cell(row: Mapping[str, str], column: str, parse: Callable[[str], T]) -> T:
    try:
        return parse(row.get(column, ""))
    except FieldError as err:
        raise RowReject(column, f"{column} {err}") from None


def optional(row: Mapping[str, str], column: str, parse: Callable[[str], T]) -> T | None:
    if not row.get(column, "").strip():
        return None
    return cell(row, column, parse)


def known_staff(row: Mapping[str, str], ctx: Context) -> str:
    staff_id = cell(row, "staff_id", fields.identifier)
    if staff_id not in ctx.staff_ids:
        raise RowReject("staff_id", "staff_id is not a known staff member: import staff first")
    return staff_id


def known_member(row: Mapping[str, str], ctx: Context) -> str:
    member_id = cell(row, "member_id", fields.member_id)
    if member_id not in ctx.member_ids:
        raise RowReject("member_id", "member_id is not a known member: import members first")
    return member_id


def source_key(prefix: str, *parts: object) -> str:
    """A stable id for a row the source system gave no id: the same row always gets the same id,
    so re-importing a file finds it again."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return f"{prefix}-{digest[:16]}"


class Kind:
    name: str
    required: frozenset[str]
    optional: frozenset[str] = frozenset()
    model: type[models.Base]
    key_columns: tuple[str, ...]
    duplicate_hint = ""

    def header_problem(self, header: set[str]) -> str | None:
        missing = sorted(self.required - header)
        extra = sorted(header - self.required - self.optional)
        problems = []
        if missing:
            problems.append(f"missing column(s): {', '.join(missing)}")
        if extra:
            problems.append(f"unexpected column(s): {', '.join(extra)}")
        return "; ".join(problems) or None

    def parse(self, row: Mapping[str, str], ctx: Context) -> Row:
        raise NotImplementedError

    def hint_for_duplicate(self, row: Mapping[str, str]) -> str:
        """Why two rows count as the same record. A row that carries the source system's own
        id is matched on that id alone, whatever its other columns say."""
        if len(self.key_columns) == 1 and row.get(self.key_columns[0], "").strip():
            return f" (same {self.key_columns[0]})"
        return self.duplicate_hint

    def check_rows(self, rows: list[Row], session: Session) -> list[tuple[Row, RowReject]]:
        """Checks that need the other rows of the file or what is stored; default none."""
        return []

    def entity_key(self, key: tuple[Any, ...]) -> str:
        return "/".join("" if part is None else str(part) for part in key)


class StaffKind(Kind):
    name = "staff"
    required = frozenset({"staff_id", "name", "role"})
    optional = frozenset({"npi", "effective_from", "effective_to"})
    model = models.StaffRole
    key_columns = ("staff_id", "effective_from")
    duplicate_hint = " (same staff_id and effective_from)"

    def parse(self, row: Mapping[str, str], ctx: Context) -> Row:
        staff_id = cell(row, "staff_id", fields.identifier)
        name = cell(row, "name", fields.text)
        role = cell(row, "role", lambda v: fields.choice(v, Role))
        npi = optional(row, "npi", fields.npi)
        start = optional(row, "effective_from", lambda v: fields.day(v, today=date.max))
        end = optional(row, "effective_to", lambda v: fields.day(v, today=date.max))
        if start and end and end < start:
            raise RowReject("effective_to", "effective_to is before effective_from")
        return Row(
            line=0,
            key=(staff_id, start),
            values={
                "staff_id": staff_id,
                "role": role.value,
                "effective_from": start,
                "effective_to": end,
            },
            extra={"staff_id": staff_id, "name": name, "npi": npi},
        )

    def check_rows(self, rows: list[Row], session: Session) -> list[tuple[Row, RowReject]]:
        rejects: list[tuple[Row, RowReject]] = []
        people: dict[str, Row] = {}
        for row in rows:
            first = people.setdefault(row.values["staff_id"], row)
            if first is not row and first.extra != row.extra:
                rejects.append(
                    (
                        row,
                        RowReject(
                            "name",
                            f"name or npi differs from line {first.line} for the same staff_id",
                        ),
                    )
                )
        staff_ids = {row.values["staff_id"] for row in rows}
        stored: dict[str, list[tuple[date | None, date | None, int]]] = defaultdict(list)
        for staff_role in session.scalars(
            select(models.StaffRole).where(models.StaffRole.staff_id.in_(staff_ids))
        ):
            stored[staff_role.staff_id].append(
                (staff_role.effective_from, staff_role.effective_to, -1)
            )
        rejected = {id(row) for row, _ in rejects}
        for row in rows:
            if id(row) in rejected:
                continue
            staff_id = row.values["staff_id"]
            spans = stored[staff_id]
            start, end = row.values["effective_from"], row.values["effective_to"]
            clash = next(
                (s for s in spans if s[0] != start and _overlaps(s[0], s[1], start, end)), None
            )
            if clash:
                where = f"line {clash[2]}" if clash[2] > 0 else "a role already stored"
                rejects.append(
                    (
                        row,
                        RowReject(
                            "effective_from",
                            f"role period overlaps {where} for the same staff member",
                        ),
                    )
                )
                continue
            spans[:] = [s for s in spans if s[0] != start] + [(start, end, row.line)]
        return rejects


class MembersKind(Kind):
    name = "members"
    required = frozenset({"member_id", "first_name", "last_name", "birth_date"})
    model = models.Member
    key_columns = ("member_id",)
    duplicate_hint = " (same member_id)"

    def parse(self, row: Mapping[str, str], ctx: Context) -> Row:
        member_id = cell(row, "member_id", fields.member_id)
        values = {
            "member_id": member_id,
            "first_name": cell(row, "first_name", lambda v: fields.text(v, max_length=100)),
            "last_name": cell(row, "last_name", lambda v: fields.text(v, max_length=100)),
            "birth_date": cell(row, "birth_date", lambda v: fields.day(v, today=ctx.today)),
        }
        return Row(0, (member_id,), values)


class EligibilityKind(Kind):
    name = "eligibility"
    required = frozenset({"member_id", "month", "eligible"})
    model = models.Eligibility
    key_columns = ("member_id", "month")
    duplicate_hint = " (same member and month)"

    def parse(self, row: Mapping[str, str], ctx: Context) -> Row:
        member_id = known_member(row, ctx)
        month = cell(row, "month", fields.month)
        eligible = cell(row, "eligible", fields.flag)
        return Row(
            0, (member_id, month), {"member_id": member_id, "month": month, "eligible": eligible}
        )


class EnrollmentsKind(Kind):
    name = "enrollments"
    required = frozenset({"member_id", "start_date"})
    optional = frozenset({"end_date"})
    model = models.Enrollment
    key_columns = ("member_id", "start_date")
    duplicate_hint = " (same member and start_date)"

    def parse(self, row: Mapping[str, str], ctx: Context) -> Row:
        member_id = known_member(row, ctx)
        start = cell(row, "start_date", lambda v: fields.day(v, today=date.max))
        end = optional(row, "end_date", lambda v: fields.day(v, today=date.max))
        if end and end < start:
            raise RowReject("end_date", "end_date is before start_date")
        return Row(
            0, (member_id, start), {"member_id": member_id, "start_date": start, "end_date": end}
        )

    def check_rows(self, rows: list[Row], session: Session) -> list[tuple[Row, RowReject]]:
        members = {row.values["member_id"] for row in rows}
        spans: dict[str, list[tuple[date, date | None, int]]] = defaultdict(list)
        for enrollment in session.scalars(
            select(models.Enrollment).where(models.Enrollment.member_id.in_(members))
        ):
            spans[enrollment.member_id].append((enrollment.start_date, enrollment.end_date, -1))
        rejects = []
        for row in rows:
            start, end = row.values["start_date"], row.values["end_date"]
            mine = spans[row.values["member_id"]]
            clash = next(
                (s for s in mine if s[0] != start and _overlaps(s[0], s[1], start, end)), None
            )
            if clash:
                where = f"line {clash[2]}" if clash[2] > 0 else "an enrollment already stored"
                rejects.append(
                    (
                        row,
                        RowReject("start_date", f"enrollment overlaps {where} for the same member"),
                    )
                )
                continue
            mine[:] = [s for s in mine if s[0] != start] + [(start, end, row.line)]
        return rejects


class TimeKind(Kind):
    name = "time"
    required = frozenset({"staff_id", "member_id", "date", "activity", "modality"})
    optional = frozenset({"entry_id", "minutes", "start_time", "end_time", "note"})
    model = models.TimeEntry
    key_columns = ("entry_id",)
    duplicate_hint = (
        " (same staff, member, date, activity and modality: give each entry an "
        "entry_id or a start_time to record both)"
    )

    def header_problem(self, header: set[str]) -> str | None:
        problem = super().header_problem(header)
        if problem:
            return problem
        if "minutes" not in header and not {"start_time", "end_time"} <= header:
            return "missing column(s): minutes (or start_time and end_time)"
        return None

    def parse(self, row: Mapping[str, str], ctx: Context) -> Row:
        staff_id = known_staff(row, ctx)
        member_id = known_member(row, ctx)
        on = cell(row, "date", lambda v: fields.day(v, today=ctx.today))
        activity = cell(row, "activity", fields.identifier).lower()
        if activity not in ctx.contract.activities:
            raise RowReject("activity", "activity is not in the contract's activity catalogue")
        modality = cell(row, "modality", lambda v: fields.choice(v, Modality))
        start = optional(row, "start_time", fields.clock)
        end = optional(row, "end_time", fields.clock)
        minutes = optional(row, "minutes", fields.whole_number)
        if (start is None) != (end is None):
            column = "end_time" if end is None else "start_time"
            raise RowReject(column, "start_time and end_time go together: give both or neither")
        if start is not None and end is not None:
            if end <= start:
                raise RowReject("end_time", "end_time must be after start_time on the same day")
            if minutes is not None and minutes != end - start:
                raise RowReject("minutes", "minutes does not match start_time to end_time")
            minutes = end - start
        if minutes is None:
            raise RowReject("minutes", "minutes is empty (give minutes or start_time and end_time)")
        if minutes <= 0:
            raise RowReject("minutes", "minutes must be more than 0")
        if minutes > MINUTES_PER_DAY:
            raise RowReject("minutes", "minutes is more than 24 hours for one day")
        entry_id = optional(row, "entry_id", fields.identifier)
        start_text = _clock_text(start)
        if entry_id is None:
            entry_id = source_key(
                "T", staff_id, member_id, on, activity, modality.value, start_text or ""
            )
        values = {
            "entry_id": entry_id,
            "staff_id": staff_id,
            "member_id": member_id,
            "date": on,
            "minutes": minutes,
            "start_time": start_text,
            "end_time": _clock_text(end),
            "activity": activity,
            "modality": modality.value,
            "note": optional(row, "note", fields.note),
        }
        return Row(0, (entry_id,), values)

    def check_rows(self, rows: list[Row], session: Session) -> list[tuple[Row, RowReject]]:
        """One staff member cannot work more than 24 hours on one day, across all imports."""
        totals = self._stored_minutes(rows, session)
        rejects = []
        for row in rows:
            day_key = (row.values["staff_id"], row.values["date"])
            if totals[day_key] + row.values["minutes"] > MINUTES_PER_DAY:
                rejects.append(
                    (
                        row,
                        RowReject(
                            "minutes",
                            f"staff would have more than 24 hours on {row.values['date']}",
                        ),
                    )
                )
                continue
            totals[day_key] += row.values["minutes"]
        return rejects

    @staticmethod
    def _stored_minutes(rows: list[Row], session: Session) -> dict[tuple[str, date], int]:
        """Minutes already stored per staff member and day, not counting the entries this file
        replaces. Queried in chunks: a file of a million rows would otherwise put a million
        ids into one statement, more parameters than SQLite or PostgreSQL take."""
        staff_ids = sorted({row.values["staff_id"] for row in rows})
        dates = sorted({row.values["date"] for row in rows})
        totals: dict[tuple[str, date], int] = defaultdict(int)
        entry = models.TimeEntry
        for chunk in _chunked(staff_ids, 1000):
            stored = session.execute(
                select(entry.staff_id, entry.date, func.sum(entry.minutes))
                .where(entry.staff_id.in_(chunk), entry.date.in_(dates))
                .group_by(entry.staff_id, entry.date)
            )
            for staff_id, on, minutes in stored:
                totals[(staff_id, on)] = int(minutes)
        if not totals:
            return totals  # nothing stored for these staff and days: nothing to replace
        in_file = sorted({row.values["entry_id"] for row in rows})
        for chunk in _chunked(in_file, 1000):
            replaced = session.execute(
                select(entry.staff_id, entry.date, entry.minutes).where(entry.entry_id.in_(chunk))
            )
            for staff_id, on, minutes in replaced:
                totals[(staff_id, on)] -= int(minutes)
        return totals


def _chunked(items: list[T], size: int) -> list[list[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class OutreachKind(Kind):
    name = "outreach"
    required = frozenset({"staff_id", "member_id", "date", "method", "individualized", "outcome"})
    optional = frozenset({"attempt_id", "minutes"})
    model = models.OutreachAttempt
    key_columns = ("attempt_id",)
    duplicate_hint = (
        " (same staff, member, date and method: give each attempt an attempt_id to record both)"
    )

    def parse(self, row: Mapping[str, str], ctx: Context) -> Row:
        staff_id = known_staff(row, ctx)
        member_id = known_member(row, ctx)
        on = cell(row, "date", lambda v: fields.day(v, today=ctx.today))
        method = cell(row, "method", lambda v: fields.choice(v, OutreachMethod))
        minutes = optional(row, "minutes", fields.whole_number)
        if minutes is not None and not 0 <= minutes <= MINUTES_PER_DAY:
            raise RowReject("minutes", "minutes must be between 0 and 24 hours")
        attempt_id = optional(row, "attempt_id", fields.identifier) or source_key(
            "O", staff_id, member_id, on, method.value
        )
        values = {
            "attempt_id": attempt_id,
            "staff_id": staff_id,
            "member_id": member_id,
            "date": on,
            "method": method.value,
            "individualized": cell(row, "individualized", fields.flag),
            "outcome": cell(row, "outcome", lambda v: fields.choice(v, OutreachOutcome)).value,
            "minutes": minutes,
        }
        return Row(0, (attempt_id,), values)


def _clock_text(minutes: int | None) -> str | None:
    return None if minutes is None else f"{minutes // 60:02d}:{minutes % 60:02d}"


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
