"""A care manager's caseload: the members they lead, or recorded time with in the last 90 days,
each with where the month stands (minutes and units so far, minutes left before another unit,
enrollment today, eligibility this month, and outreach attempts made against what "unable to
reach" requires). And finding a member by name parts in any order, CIN or birth date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ecmbill.contract import Contract
from ecmbill.domain.lifecycle import enrolled_on
from ecmbill.domain.period import Period
from ecmbill.domain.units import minutes_to_next_unit
from ecmbill.domain.vocabulary import Kind
from ecmbill.fieldwork.members import read_query
from ecmbill.members import lifecycle
from ecmbill.rating.service import rate_recent
from ecmbill.store import accounts as stored_accounts
from ecmbill.store import members as stored_members
from ecmbill.store.db import Engine
from ecmbill.store.members import MemberSummary

CASELOAD_DAYS = 90
PAGE_SIZE = 25


def find(
    engine: Engine,
    text: str,
    *,
    within: frozenset[str] | None,
    limit: int = PAGE_SIZE,
    offset: int = 0,
) -> tuple[list[MemberSummary], int]:
    """One page of the members matching ``text`` among ``within`` (None: all), and the total."""
    query = read_query(text)
    return stored_members.search(
        engine, query.name_parts, query.birth_date, limit, within, offset=offset
    )


def masked_cin(cin: str) -> str:
    """A CIN shown to staff: the last four characters, enough to tell two members apart."""
    return "•" * max(len(cin) - 4, 0) + cin[-4:]


@dataclass(frozen=True)
class CaseloadRow:
    member: MemberSummary
    minutes: int
    units: int
    to_next_unit: int
    enrolled: bool
    eligible: bool | None  # None: nothing on file for the month
    attempts_made: int
    attempts_required: int
    lead: bool


def my_caseload(
    engine: Engine, contract: Contract, staff_id: str, today: date
) -> list[CaseloadRow]:
    """The staff member's members, by name, with this month's figures from the month's
    rating so far (the rating the close will make, not a second count)."""
    since = today - timedelta(days=CASELOAD_DAYS)
    ids = sorted(
        stored_accounts.caseload_member_ids(engine, frozenset({staff_id}), since=since, today=today)
    )
    if not ids:
        return []
    led = stored_accounts.caseload_member_ids(
        engine, frozenset({staff_id}), since=today + timedelta(days=1), today=today
    )
    month = Period.of(today)
    rating = rate_recent(engine, month, contract)
    spans = stored_members.spans(engine, ids)
    eligible = stored_members.eligible_in(engine, ids, str(month))
    rows = []
    for member in stored_members.summaries(engine, ids):
        service = [line for line in rating.lines_for(member.member_id) if line.kind is Kind.SERVICE]
        minutes = sum(line.minutes for line in service)
        enrolled = enrolled_on(today, spans.get(member.member_id, []))
        made = 0
        if not enrolled:
            check = lifecycle.check_unable_to_reach(engine, member.member_id, contract)
            made = len(check.decision.counted) if check.decision else 0
        rows.append(
            CaseloadRow(
                member=member,
                minutes=minutes,
                units=sum(line.units for line in service),
                to_next_unit=sum(minutes_to_next_unit(line.minutes) for line in service),
                enrolled=enrolled,
                eligible=eligible.get(member.member_id),
                attempts_made=made,
                attempts_required=contract.unable_to_reach.required_attempts,
                lead=member.member_id in led,
            )
        )
    return rows
