"""The supervisor's team this month: per person, the time recorded, the units it made, what
waits for approval and what will not bill, and one person's entries to review and approve.

Units are made by the team together: a member's service minutes of one code and modifiers
are summed over everyone and rounded up once (docs/billing-rules.md, rule 2). A person is
credited with the share of a claim line's units that their minutes are of the line's
minutes (two people with 30 and 60 minutes on one 90-minute, 2-unit line: 0.67 and 1.33), so
the team's shares add up to the units billed. Outreach attempts are not time entries: they
are not counted here.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from ecmbill.contract import Contract
from ecmbill.domain.lines import PeriodRating
from ecmbill.domain.period import Period
from ecmbill.domain.reasons import IN_WORDS, ReasonCode
from ecmbill.domain.vocabulary import Kind, Source
from ecmbill.imports.kinds import RowReject
from ecmbill.rating.service import rate_recent
from ecmbill.store import fieldwork as stored_work
from ecmbill.store.db import Engine
from ecmbill.store.fieldwork import TimeEntryView, time_entry_view
from ecmbill.store.lookups import member_names, staff_names

PAGE_SIZE = 50


@dataclass(frozen=True)
class PersonMonth:
    """One team member's month, as the dashboard shows it."""

    staff_id: str
    name: str
    minutes: int = 0
    units: Fraction = Fraction(0)
    entries: int = 0
    awaiting: int = 0
    # Reason in words -> how many of their entries it holds back.
    not_billing: dict[str, int] = field(default_factory=dict)

    @property
    def hours(self) -> str:
        return f"{self.minutes // 60}:{self.minutes % 60:02d}"

    @property
    def units_shown(self) -> str:
        return f"{float(self.units):.2f}".rstrip("0").rstrip(".") or "0"


@dataclass(frozen=True)
class ReviewedEntry:
    entry: TimeEntryView
    member_name: str
    approved: bool
    # None when the entry bills; else the reason code and its sentence.
    reason_code: ReasonCode | None
    reason: str | None


@dataclass(frozen=True)
class PersonEntries:
    staff_id: str
    name: str
    first: date
    last: date
    entries: list[ReviewedEntry]
    page: int
    pages: int
    total: int


def unit_shares(rating: PeriodRating, minutes_by_entry: dict[str, int]) -> dict[str, Fraction]:
    """Each time entry's share of the units of the claim line it is part of: the line's
    units times the entry's minutes over the line's minutes."""
    shares: dict[str, Fraction] = {}
    for line in rating.lines:
        if line.kind is not Kind.SERVICE or not line.minutes:
            continue
        for entry_id in line.source_ids:
            if entry_id in minutes_by_entry:
                shares[entry_id] = Fraction(line.units * minutes_by_entry[entry_id], line.minutes)
    return shares


def team_month(
    engine: Engine, contract: Contract, staff_ids: frozenset[str], period: Period
) -> list[PersonMonth]:
    """Every staff member of ``staff_ids`` (by name), with their month in ``period``."""
    names = staff_names(engine)
    entries = stored_work.time_entries(
        engine, staff_ids=staff_ids, start=period.start, end=period.end
    )
    approved = stored_work.approved(engine, entries)
    rating = rate_recent(engine, period, contract)
    shares = unit_shares(rating, {e.entry_id: e.minutes for e in entries})
    refused = {
        item.id: item.reason_code for item in rating.not_billed if item.source is Source.TIME
    }
    minutes: Counter[str] = Counter()
    units: dict[str, Fraction] = defaultdict(Fraction)
    count: Counter[str] = Counter()
    awaiting: Counter[str] = Counter()
    reasons: dict[str, Counter[str]] = defaultdict(Counter)
    for entry in entries:
        who = entry.staff_id
        minutes[who] += entry.minutes
        units[who] += shares.get(entry.entry_id, Fraction(0))
        count[who] += 1
        awaiting[who] += entry.entry_id not in approved
        if entry.entry_id in refused:
            reasons[who][IN_WORDS[refused[entry.entry_id]]] += 1
    people = [
        PersonMonth(
            staff_id=staff_id,
            name=names.get(staff_id, staff_id),
            minutes=minutes[staff_id],
            units=units[staff_id],
            entries=count[staff_id],
            awaiting=awaiting[staff_id],
            not_billing=dict(reasons[staff_id].most_common()),
        )
        for staff_id in staff_ids
    ]
    return sorted(people, key=lambda p: (p.name.lower(), p.staff_id))


def person_entries(
    engine: Engine,
    contract: Contract,
    staff_id: str,
    first: date,
    last: date,
    *,
    page: int = 1,
) -> PersonEntries:
    """One person's time entries dated first..last (one week or one month), latest first, a
    page at a time, each with its approval and whether it bills (from the period's rating)."""
    entries = stored_work.time_entries(
        engine, staff_ids=frozenset({staff_id}), start=first, end=last
    )
    pages = max(1, -(-len(entries) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown = entries[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    approved = stored_work.approved(engine, shown)
    refused = {}
    for period in sorted({Period.of(e.date) for e in shown}, key=str):
        for item in rate_recent(engine, period, contract).not_billed:
            if item.source is Source.TIME:
                refused[item.id] = item
    names = member_names(engine, {e.member_id for e in shown})
    return PersonEntries(
        staff_id=staff_id,
        name=staff_names(engine).get(staff_id, staff_id),
        first=first,
        last=last,
        entries=[
            ReviewedEntry(
                entry=time_entry_view(e),
                member_name=names.get(e.member_id, e.member_id),
                approved=e.entry_id in approved,
                reason_code=refused[e.entry_id].reason_code if e.entry_id in refused else None,
                reason=refused[e.entry_id].reason if e.entry_id in refused else None,
            )
            for e in shown
        ],
        page=page,
        pages=pages,
        total=len(entries),
    )


def approve_shown(engine: Engine, staff_id: str, entry_ids: list[str], *, actor: str) -> int:
    """Approve the entries of ``staff_id`` a supervisor was shown (each audited); an id that is
    not one of theirs refuses the whole request. Returns how many were approved."""
    wanted = list(dict.fromkeys(entry_ids))
    found = stored_work.entries_by_id(engine, wanted)
    strangers = [i for i in wanted if i not in found or found[i].staff_id != staff_id]
    if strangers:
        raise RowReject(None, f"{len(strangers)} of the entries shown are not this person's")
    stored_work.approve_many(engine, wanted, actor=actor)
    return len(wanted)


@dataclass(frozen=True)
class Unapproved:
    """One staff member's time in a period that waits for a supervisor's approval."""

    staff_id: str
    name: str
    entries: int
    minutes: int
    first: date
    last: date

    @property
    def hours(self) -> str:
        return f"{self.minutes // 60}:{self.minutes % 60:02d}"


def unapproved_time(engine: Engine, contract: Contract, rating: PeriodRating) -> list[Unapproved]:
    """Per staff member, the period's time the rating holds back as NOT_APPROVED (none unless
    the contract requires approval), for the biller to see before closing: a close leaves it
    out, and a later close claims it once approved."""
    if not contract.require_approval:
        return []
    ids = [i.id for i in rating.not_billed if i.reason_code is ReasonCode.NOT_APPROVED]
    by_staff: dict[str, list[tuple[date, int]]] = defaultdict(list)
    for entry in stored_work.entries_by_id(engine, ids).values():
        by_staff[entry.staff_id].append((entry.date, entry.minutes))
    names = staff_names(engine) if by_staff else {}
    found = [
        Unapproved(
            staff_id=staff_id,
            name=names.get(staff_id, staff_id),
            entries=len(days),
            minutes=sum(minutes for _, minutes in days),
            first=min(day for day, _ in days),
            last=max(day for day, _ in days),
        )
        for staff_id, days in by_staff.items()
    ]
    return sorted(found, key=lambda u: (u.name.lower(), u.staff_id))
