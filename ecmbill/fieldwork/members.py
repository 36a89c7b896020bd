"""Finding the member a care manager means, and a member's month at a glance."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ecmbill.domain.identifiers import is_medi_cal_cin
from ecmbill.domain.lines import ClaimLine
from ecmbill.domain.period import Period
from ecmbill.domain.values import FieldError, day
from ecmbill.imports.kinds import RowReject
from ecmbill.store import fieldwork as stored_work
from ecmbill.store import members as stored_members
from ecmbill.store import models
from ecmbill.store.db import Engine
from ecmbill.store.members import MemberSummary

# "1950-01-02" or "01/02/1950": a birth date; anything else is name parts or a CIN.
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4})$")


@dataclass(frozen=True)
class Query:
    name_parts: tuple[str, ...]
    birth_date: date | None


def read_query(text: str) -> Query:
    """ "Lopez, Elena", "elena lopez", "Demo-Lopez, Maria 1950-01-02": the words in any order
    (commas and spaces separate them; a hyphen is part of a name), a birth date among them."""
    parts: list[str] = []
    born = None
    for word in re.split(r"[\s,;]+", text.strip()):
        if not word:
            continue
        if born is None and _DATE.match(word):
            try:
                born = day(word, today=date.max)
                continue
            except FieldError:
                pass
        parts.append(word[:40])
    return Query(tuple(parts[:6]), born)


def search_members(
    engine: Engine, query: str, limit: int = 20, within: frozenset[str] | None = None
) -> list[MemberSummary]:
    """Members matching ``query`` (``read_query``); only among ``within`` (a caseload)."""
    read = read_query(query)
    found, _ = stored_members.search(engine, read.name_parts, read.birth_date, limit, within)
    return found


def resolve_member(engine: Engine, typed: str, within: frozenset[str] | None = None) -> str:
    """The member a user meant: a CIN as typed, or the only member whose name matches among
    ``within`` (the members the user may see; None: all). A whole CIN is taken as typed, so a
    care manager can record the first visit of a member not yet on any caseload."""
    typed = typed.strip()
    # "91234567A — Garcia, Maria" as picked from the suggestion list.
    candidate = typed.split(" ", 1)[0].upper()
    if is_medi_cal_cin(candidate):
        return candidate
    if not typed:
        raise RowReject("member_id", "member is empty: type a name or a CIN")
    found = search_members(engine, typed, limit=2, within=within)
    if not found:
        raise RowReject("member_id", "no member matches: type a name or a CIN")
    if len(found) > 1:
        raise RowReject("member_id", "several members match: pick one from the list")
    return found[0].member_id


@dataclass(frozen=True)
class MemberMonth:
    member: models.Member
    period: Period
    eligibility: list[models.Eligibility]
    enrollments: list[models.Enrollment]
    entries: list[models.TimeEntry]
    lines: list[ClaimLine]
    lead_care_manager: str | None

    @property
    def minutes(self) -> int:
        return sum(entry.minutes for entry in self.entries)


def member_month(
    engine: Engine, member_id: str, period: Period, lines: list[ClaimLine]
) -> MemberMonth | None:
    """A member's month: eligibility, enrollments, time entries, and the claim lines the
    rating projects for the month so far (passed in: the caller rates the period). The lead
    care manager is the one recorded (``ecmbill members lead``) whose span reaches into the
    period; the latest if it changed during the month."""
    member = stored_members.member(engine, member_id)
    if member is None:
        return None
    return MemberMonth(
        member=member,
        period=period,
        eligibility=stored_members.eligibility(engine, member_id),
        enrollments=stored_members.enrollments(engine, member_id),
        entries=stored_work.time_entries(
            engine, staff_ids=None, start=period.start, end=period.end, member_id=member_id
        ),
        lines=lines,
        lead_care_manager=stored_members.lead_name(engine, member_id, period),
    )
