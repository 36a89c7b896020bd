"""Importing the plan's Member Information File (CSV or XLSX): members, their address,
phone, population of focus, assignment date and plan.

As every import: each row accepted or rejected with its line, column and reason; one
transaction; a re-import changes nothing; changes are kept in the audit log.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine

from ecmbill.domain import values as fields
from ecmbill.domain.values import FieldError
from ecmbill.exchange.layouts import Layouts, default_layouts
from ecmbill.imports.reading import FileProblem, RawTable, read_table, width_problem
from ecmbill.imports.service import ImportResult, Rejection, upsert, write_rejects
from ecmbill.members.lifecycle import record_assignment
from ecmbill.store import audit, models
from ecmbill.store.db import unit_of_work

T = TypeVar("T")
_ZIP = re.compile(r"^\d{5}(-?\d{4})?$")
KIND = "mif"


class _Reject(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def zip_code(value: str) -> str:
    value = value.strip()
    if not _ZIP.match(value):
        raise FieldError("is not a ZIP code (5 digits, or 5+4)")
    return value


def state(value: str) -> str:
    value = value.strip().upper()
    if not (len(value) == 2 and value.isalpha()):
        raise FieldError("is not a two-letter state code")
    return value


def phone(value: str) -> str:
    digits = re.sub(r"[\s().+-]", "", value)
    if digits.startswith("1") and len(digits) == 11:
        digits = digits[1:]
    if not (len(digits) == 10 and digits.isdigit()):
        raise FieldError("is not a 10-digit phone number")
    return digits


def import_mif(
    engine: Engine,
    path: Path,
    *,
    actor: str,
    today: date | None = None,
    layouts: Layouts | None = None,
) -> ImportResult:
    layouts = layouts or default_layouts()
    today = today or date.today()
    result = ImportResult(kind=KIND, file=path)
    try:
        table = read_table(path)
        header = _fields_of_header(table, layouts)
    except FileProblem as problem:
        result.file_problem = str(problem)
        return result
    result.rows_read = len(table.rows)
    titles = layouts.mif_columns
    accepted: list[tuple[int, dict[str, Any]]] = []
    first_line: dict[str, tuple[int, dict[str, Any]]] = {}
    for raw in table.rows:
        if uneven := width_problem(header, raw):
            result.rejections.append(Rejection(raw.line, None, uneven))
            continue
        try:
            values = _parse(dict(zip(header, raw.values, strict=True)), titles, layouts, today)
        except _Reject as reject:
            result.rejections.append(Rejection(raw.line, reject.column, reject.reason))
            continue
        earlier = first_line.get(values["member_id"])
        if earlier is not None:
            what = "duplicate of" if earlier[1] == values else "conflicts with"
            result.rejections.append(
                Rejection(raw.line, titles["member_id"], f"{what} line {earlier[0]} (same CIN)")
            )
            continue
        first_line[values["member_id"]] = (raw.line, values)
        accepted.append((raw.line, values))
    result.accepted = len(accepted)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with unit_of_work(engine) as session:
        batch = models.ImportBatch(
            kind=KIND,
            file_name=path.name,
            sha256=digest,
            imported_at=audit.now(),
            actor=actor,
            rows_read=result.rows_read,
            accepted=result.accepted,
            rejected=result.rejected,
            changed=0,
        )
        session.add(batch)
        session.flush()
        member_columns = ("member_id", "first_name", "last_name", "birth_date")
        detail_columns = [c.name for c in models.MemberDetail.__table__.columns]
        changed = upsert(
            session,
            models.Member,
            ("member_id",),
            [((v["member_id"],), {k: v[k] for k in member_columns}) for _, v in accepted],
            actor,
            "members",
        )
        changed += upsert(
            session,
            models.MemberDetail,
            ("member_id",),
            [((v["member_id"],), {k: v.get(k) for k in detail_columns}) for _, v in accepted],
            actor,
            "member_details",
        )
        for _, values in accepted:
            changed += record_assignment(
                session, values["member_id"], values["assignment_date"], actor
            )
        result.changed = batch.changed = changed
    result.rejections.sort(key=lambda r: r.line)
    assert result.accepted + result.rejected == result.rows_read
    if result.rejections:
        result.rejects_file = write_rejects(path, tuple(table.header), table, result.rejections)
    return result


def _fields_of_header(table: RawTable, layouts: Layouts) -> tuple[str, ...]:
    """The field each column of the file holds; a file with a missing, unexpected or repeated
    column is refused whole."""
    by_title = {title.strip().casefold(): name for name, title in layouts.mif_columns.items()}
    names = [name.strip().casefold() for name in table.header]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise FileProblem(f"column(s) named twice: {', '.join(repeated)}")
    unexpected = [
        title.strip() for title in table.header if title.strip().casefold() not in by_title
    ]
    header = tuple(by_title.get(n, "") for n in names)
    missing = [
        layouts.mif_columns[name]
        for name in layouts.mif_columns
        if name not in header and name not in layouts.mif_optional
    ]
    problems = []
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected column(s): {', '.join(unexpected)}")
    if problems:
        raise FileProblem(
            "; ".join(problems)
            + f" (a Member Information File has: {', '.join(layouts.mif_columns.values())})"
        )
    return header


def _parse(
    row: Mapping[str, str], titles: Mapping[str, str], layouts: Layouts, today: date
) -> dict[str, Any]:
    def cell(name: str, parse: Callable[[str], T]) -> T:
        try:
            return parse(row.get(name, ""))
        except FieldError as err:
            raise _Reject(titles[name], f"{titles[name]} {err}") from None

    def optional(name: str, parse: Callable[[str], T]) -> T | None:
        if not row.get(name, "").strip():
            return None
        return cell(name, parse)

    def name_text(value: str) -> str:
        return fields.text(value, max_length=100)

    def past_day(value: str) -> date:
        return fields.day(value, today=today)

    return {
        "plan_id": cell("plan_id", fields.identifier),
        "member_id": cell("member_id", fields.member_id),
        "last_name": cell("last_name", name_text),
        "first_name": cell("first_name", name_text),
        "birth_date": cell("birth_date", past_day),
        "address": optional("address", fields.text),
        "city": optional("city", name_text),
        "state": optional("state", state),
        "zip": optional("zip", zip_code),
        "phone": optional("phone", phone),
        "homeless": optional("homeless", fields.flag),
        "population_of_focus": optional("population_of_focus", fields.text),
        "assignment_date": cell("assignment_date", past_day),
    }
