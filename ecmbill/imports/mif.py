"""Importing the plan's Member Information File (CSV or XLSX): members, their address,
phone, population of focus, assignment date and plan.

As every import: each row accepted or rejected with its line, column and reason; one
transaction; a re-import changes nothing; changes are kept in the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from ecmbill.domain import values as fields
from ecmbill.domain.plans import PlanSpan
from ecmbill.domain.values import FieldError
from ecmbill.domain.vocabulary import Sex
from ecmbill.exchange.layouts import Layouts, default_layouts
from ecmbill.imports.batch import Accepted, Importer, ImportResult, Row, RowReject, import_table
from ecmbill.imports.reading import FileProblem, RawTable
from ecmbill.members.lifecycle import record_assignment
from ecmbill.store import models, records
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import Engine, Session, unit_of_work

T = TypeVar("T")
KIND = "mif"


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
    plan: str | None = None,
) -> ImportResult:
    """``plan``: the plan whose file this is (None: the office's first plan; ``LookupError``
    for a key that is not one of its plans). In an office of several plans each member of the
    file has that plan from their assignment date (``store.plans.assign``)."""
    with unit_of_work(engine) as session:
        plan = stored_plans.chosen_plan(session, plan)
    chosen = layouts or default_layouts()
    titles = chosen.mif_columns
    day = today or date.today()

    def read(cells: dict[str, str]) -> Row:
        values = _parse(cells, titles, day)
        return Row(0, (values["member_id"],), values)

    importer = Importer(
        kind=KIND,
        fields_of=lambda table: _fields_of_header(table, chosen),
        reader=lambda _session: read,
        repeated=lambda _cells: (titles["member_id"], " (same CIN)"),
        write=lambda session, rows, _batch: _write(session, rows, actor, plan),
        titles_in_rejects=True,
    )
    return import_table(engine, path, importer, actor=actor, progress=None)


def _write(session: Session, accepted: Accepted, actor: str, plan: str) -> int:
    """Members, then their details, then assignments (and, in an office of several plans,
    the plan from the assignment date), each step reading the rows chunk by chunk."""
    detail_columns = records.member_detail_columns()

    def members() -> Iterator[list[records.Record]]:
        for chunk in accepted.chunks():
            yield [((row.values["member_id"],), member_values(row.values)) for row in chunk]

    def details() -> Iterator[list[records.Record]]:
        for chunk in accepted.chunks():
            yield [
                ((row.values["member_id"],), {k: row.values.get(k) for k in detail_columns})
                for row in chunk
            ]

    changed = records.upsert_streamed(
        session, models.Member, ("member_id",), members, actor, "members"
    ).changed
    changed += records.upsert_streamed(
        session, models.MemberDetail, ("member_id",), details, actor, "member_details"
    ).changed
    several = stored_plans.several(session)
    for chunk in accepted.chunks():
        for row in chunk:
            values = row.values
            changed += record_assignment(
                session, values["member_id"], values["assignment_date"], actor
            )
            if several:
                span = PlanSpan(values["member_id"], plan, values["assignment_date"])
                changed += stored_plans.assign(session, span, actor)
    return changed


MEMBER_COLUMNS = ("member_id", "first_name", "last_name", "birth_date")


def member_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The member's row: names, birth date and, when the file gives it, the sex the claim
    needs (an empty one keeps what is on file). The address stays in the MIF's details, where
    the claim finds it when no other file gave one (``store.claims.billed_members``)."""
    row = {k: values[k] for k in MEMBER_COLUMNS}
    if values.get("sex"):
        row["sex"] = values["sex"]
    return row


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


def _parse(row: Mapping[str, str], titles: Mapping[str, str], today: date) -> dict[str, Any]:
    def cell(name: str, parse: Callable[[str], T]) -> T:
        try:
            return parse(row.get(name, ""))
        except FieldError as err:
            raise RowReject(titles[name], f"{titles[name]} {err}") from None

    def optional(name: str, parse: Callable[[str], T]) -> T | None:
        if not row.get(name, "").strip():
            return None
        return cell(name, parse)

    def past_day(value: str) -> date:
        return fields.day(value, today=today)

    return {
        "plan_id": cell("plan_id", fields.identifier),
        "member_id": cell("member_id", fields.member_id),
        "last_name": cell("last_name", fields.name),
        "first_name": cell("first_name", fields.name),
        "birth_date": cell("birth_date", past_day),
        "address": optional("address", fields.text),
        "city": optional("city", fields.name),
        "state": optional("state", fields.state),
        "zip": optional("zip", fields.zip_code),
        "phone": optional("phone", phone),
        "homeless": optional("homeless", fields.flag),
        "population_of_focus": optional("population_of_focus", fields.text),
        "assignment_date": cell("assignment_date", past_day),
        "sex": optional("sex", sex_code),
    }


def sex_code(value: str) -> str:
    """F, M or U, as the 837P writes it (DMG03)."""
    return fields.choice(value, Sex).code
