"""The six import kinds: how an accepted row is stored, the checks across rows and against
what is already stored, and the natural key that makes a re-import change nothing. What a row
may hold is declared once in ``ecmbill.domain.checks``, for the import and the file rating."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ecmbill.contract import Contract
from ecmbill.domain.checks import (
    MINUTES_PER_DAY,
    ROW_RULES,
    Known,
    RowProblem,
    RowRules,
    read_row,
)
from ecmbill.imports.batch import Row, RowReject
from ecmbill.store import models, records
from ecmbill.store.db import Session


@dataclass(frozen=True)
class Context:
    today: date
    contract: Contract
    staff_ids: frozenset[str]
    member_ids: frozenset[str]


def context(session: Session, contract: Contract, today: date | None) -> Context:
    return Context(
        today=today or date.today(),
        contract=contract,
        staff_ids=records.staff_ids(session),
        member_ids=records.member_ids(session),
    )


def source_key(prefix: str, *parts: object) -> str:
    """A stable id for a row the source system gave no id: the same row always gets the same id,
    so re-importing a file finds it again."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return f"{prefix}-{digest[:16]}"


class Kind:
    name: str
    model: type[models.Base]
    key_columns: tuple[str, ...]
    duplicate_hint = ""

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
        return self.rules.header_problem(header)

    def read(self, row: Mapping[str, str], ctx: Context) -> dict[str, Any]:
        """The row's values by the declared rules, or ``RowReject`` for the first it breaks."""
        known = {
            Known.STAFF: ctx.staff_ids,
            Known.MEMBER: ctx.member_ids,
            Known.ACTIVITY: ctx.contract.activities,
        }
        try:
            return read_row(self.rules, row, today=ctx.today, known=known)
        except RowProblem as problem:
            raise RowReject(problem.column, problem.reason) from None

    def parse(self, row: Mapping[str, str], ctx: Context) -> Row:
        values = self.read(row, ctx)
        return Row(0, tuple(values[name] for name in self.key_columns), values)

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
    model = models.StaffRole
    key_columns = ("staff_id", "effective_from")
    duplicate_hint = " (same staff_id and effective_from)"

    def parse(self, row: Mapping[str, str], ctx: Context) -> Row:
        read = self.read(row, ctx)
        staff_id, start = read["staff_id"], read["effective_from"]
        return Row(
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

    def check_rows(self, rows: list[Row], session: Session) -> list[tuple[Row, RowReject]]:
        rejects: list[tuple[Row, RowReject]] = []
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
            stored,
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

    def parse(self, row: Mapping[str, str], ctx: Context) -> Row:
        """An address or sex left empty (or a file without those columns) keeps what the plan's
        files gave: the row names only what it holds."""
        values = {k: v for k, v in self.read(row, ctx).items() if v is not None}
        if "sex" in values:
            values["sex"] = values["sex"].code
        return Row(0, (values["member_id"],), values)


class EligibilityKind(Kind):
    name = "eligibility"
    model = models.Eligibility
    key_columns = ("member_id", "month")
    duplicate_hint = " (same member and month)"


class EnrollmentsKind(Kind):
    name = "enrollments"
    model = models.Enrollment
    key_columns = ("member_id", "start_date")
    duplicate_hint = " (same member and start_date)"

    def check_rows(self, rows: list[Row], session: Session) -> list[tuple[Row, RowReject]]:
        stored = records.enrollments(session, (row.values["member_id"] for row in rows))
        return _overlapping(
            rows,
            stored,
            ("member_id", "start_date", "end_date"),
            "an enrollment already stored",
            "enrollment overlaps {where} for the same member",
            "start_date",
        )


class TimeKind(Kind):
    name = "time"
    model = models.TimeEntry
    key_columns = ("entry_id",)
    duplicate_hint = (
        " (same staff, member, date, activity and modality: give each entry an "
        "entry_id or a start_time to record both)"
    )

    def parse(self, row: Mapping[str, str], ctx: Context) -> Row:
        values = self.read(row, ctx)
        values["modality"] = values["modality"].value
        values["start_time"] = _clock_text(values["start_time"])
        values["end_time"] = _clock_text(values["end_time"])
        if values["entry_id"] is None:
            values["entry_id"] = source_key(
                "T",
                *(values[name] for name in ("staff_id", "member_id", "date", "activity")),
                values["modality"],
                values["start_time"] or "",
            )
        return Row(0, (values["entry_id"],), values)

    def check_rows(self, rows: list[Row], session: Session) -> list[tuple[Row, RowReject]]:
        """One staff member cannot work more than 24 hours on one day, across all imports."""
        totals = records.minutes_per_day(
            session,
            (row.values["staff_id"] for row in rows),
            (row.values["date"] for row in rows),
            (row.values["entry_id"] for row in rows),
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


class OutreachKind(Kind):
    name = "outreach"
    model = models.OutreachAttempt
    key_columns = ("attempt_id",)
    duplicate_hint = (
        " (same staff, member, date and method: give each attempt an attempt_id to record both)"
    )

    def parse(self, row: Mapping[str, str], ctx: Context) -> Row:
        values = self.read(row, ctx)
        values["method"] = values["method"].value
        values["outcome"] = values["outcome"].value
        if values["attempt_id"] is None:
            values["attempt_id"] = source_key(
                "O", values["staff_id"], values["member_id"], values["date"], values["method"]
            )
        return Row(0, (values["attempt_id"],), values)


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
