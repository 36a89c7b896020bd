"""Checking eligibility before a month is billed: a 270 inquiry (005010X279A1) for the
month's members, and the payer's 271 answer read back into monthly eligibility.

The 271 is read with pyx12's reader. pyx12 (4.0.0, the newest release) ships no map of the
005010X279A1 guide, so it checks the interchange's envelope, control numbers, counts and HL
numbering, not the 271's loops; this reader checks what it relies on (GS08, ST01, one
subscriber per 2000C, a member id and a month) and refuses the whole file otherwise.

A member's month: active coverage (EB01 1) with our plan → eligible; inactive (6), or active
coverage only with another plan → not eligible (``ecmbill.domain.payer``); an AAA rejection
is listed with its reason and changes nothing. Changes go through the eligibility import's
path (``ecmbill.imports.eligibility``): audited, and a month with recorded work whose
eligibility changes is marked for re-rating, so closing it again replaces or voids the
member's claim."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ecmbill.claims.settings import (
    ProviderSettings,
    all_plan_settings,
    plan_settings,
    provider_settings,
)
from ecmbill.claims.x12 import COMPONENT, REPETITION, TERMINATOR, clean
from ecmbill.domain.payer import Benefit, eligible_in
from ecmbill.domain.period import Period
from ecmbill.imports.batch import in_batch
from ecmbill.imports.eligibility import record_months
from ecmbill.payer.codes import PayerCodes, default_codes
from ecmbill.store import acks as stored
from ecmbill.store import audit, records
from ecmbill.store import claims as stored_claims
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import Engine, unit_of_work
from ecmbill.store.files import write_atomically
from ecmbill.x12.validation import NotX12, Segment, envelope_errors, read_interchange, segments

VERSION = "005010X279A1"
KIND = "271"
# Entities of a 2120C loop that name the plan behind a benefit.
PLAN_ENTITIES = frozenset({"PR", "PRP", "Y2", "P5"})
# Our trace (TRN02 of the 270, echoed by the 271): ECM, the month asked about, a number.
TRACE = re.compile(r"^ECM(\d{4})(\d{2})\d+$")


class NothingToAsk(Exception):
    """No member to ask about for the month."""


@dataclass(frozen=True)
class Request:
    path: Path
    members: int
    transactions: int
    interchange: int


def request_270(
    engine: Engine,
    period: Period,
    out: Path,
    *,
    actor: str,
    members: Sequence[str] | None = None,
    now: datetime | None = None,
    plan: str | None = None,
) -> Request:
    """Write a 270 for the period: every member enrolled or assigned in it (or the members
    named), one transaction set per ``eligibility_batch_size`` members. With several plans
    the 270 is one plan's (``plan``; None: the first), to that plan's payer, about the members
    with that plan on a day of the period: a payer is asked only about its own members.
    ``LookupError`` for a key that is not a plan of the office."""
    moment = now or audit.now()
    with unit_of_work(engine) as session:
        key = stored_plans.chosen_plan(session, plan)
        several = stored_plans.several(session)
    settings = plan_settings(engine, key) if several else provider_settings(engine)
    with unit_of_work(engine) as session:
        wanted = (
            list(members)
            if members is not None
            else stored.members_to_check(session, period.start, period.end)
        )
        found = stored_claims.billed_members(session, wanted)
        unknown = sorted(set(wanted) - set(found))
        if unknown:
            raise NothingToAsk(f"{len(unknown)} member id(s) are not on the roster")
        if several:
            of_plan = stored_plans.members_with_plan(session, list(found), key, period)
            if members is not None and len(of_plan) < len(found):
                raise NothingToAsk(
                    f"{len(found) - len(of_plan)} member id(s) have no day with plan {key} "
                    f"in {period}: ask their own plan's payer"
                )
            found = {member: found[member] for member in of_plan}
        if not found:
            whose = f" with plan {key}" if several else ""
            raise NothingToAsk(f"no member is enrolled or assigned{whose} in {period}")
        chosen = [found[m] for m in sorted(found)]
        size = settings.eligibility_batch_size
        batches = [chosen[i : i + size] for i in range(0, len(chosen), size)]
        interchange = stored_claims.next_number(session, "interchange")
        group = stored_claims.next_number(session, "group")
        sets = [stored_claims.next_number(session, "transaction") for _ in batches]
        text = write_270(settings, period, batches, (interchange, group, sets), moment)
        write_atomically(out, lambda path: path.write_text(text, encoding="ascii"))
        audit.record_change(
            session, actor=actor, at=moment, action="export", entity="eligibility_request",
            key=f"{period}/{interchange:09d}", before=None,
            after={"file": out.name, "members": len(chosen), "transactions": len(batches)}
            | ({"plan": key} if several else {}),
        )  # fmt: skip
    return Request(out, len(chosen), len(batches), interchange)


def write_270(
    settings: ProviderSettings,
    period: Period,
    batches: Sequence[Sequence[Any]],
    control: tuple[int, int, Sequence[int]],
    created: datetime,
) -> str:
    """One interchange and group; per batch a transaction set: information source (the
    payer), information receiver (our billing provider), a subscriber loop per member with
    our trace, birth date, the month (DTP*291) and EQ*30 (health benefit plan coverage)."""
    interchange, group, transactions = control
    receiver = settings.eligibility_receiver_id or settings.receiver_id
    source = settings.eligibility_source_id or settings.payer_id
    lines: list[str] = []

    def add(*elements: str) -> None:
        values = list(elements)
        while values and values[-1] == "":
            values.pop()
        lines.append("*".join(values))

    add("ISA", "00", " " * 10, "00", " " * 10, "ZZ", settings.submitter_id.ljust(15), "ZZ",
        receiver.ljust(15), f"{created:%y%m%d}", f"{created:%H%M}", REPETITION, "00501",
        f"{interchange:09d}", "0", settings.usage, COMPONENT)  # fmt: skip
    add("GS", "HS", settings.submitter_id.strip(), receiver.strip(), f"{created:%Y%m%d}",
        f"{created:%H%M}", str(group), "X", VERSION)  # fmt: skip
    sequence = 0
    for number, batch in zip(transactions, batches, strict=True):
        start = len(lines)
        st = f"{number:04d}"
        add("ST", "270", st, VERSION)
        add("BHT", "0022", "13", f"{interchange:09d}{number:04d}", f"{created:%Y%m%d}",
            f"{created:%H%M}")  # fmt: skip
        add("HL", "1", "", "20", "1")
        add("NM1", "PR", "2", clean(settings.payer_name), "", "", "", "", "PI", source)
        add("HL", "2", "1", "21", "1")
        add("NM1", "1P", "2", clean(settings.billing_name), "", "", "", "", "XX",
            settings.billing_npi)  # fmt: skip
        for hl, member in enumerate(batch, start=3):
            sequence += 1
            add("HL", str(hl), "2", "22", "0")
            add("TRN", "1", f"ECM{period.start:%Y%m}{sequence:06d}", f"1{settings.billing_ein}")
            add("NM1", "IL", "1", clean(member.last_name), clean(member.first_name), "", "", "",
                "MI", member.member_id)  # fmt: skip
            add("DMG", "D8", f"{member.birth_date:%Y%m%d}")
            add("DTP", "291", "RD8", f"{period.start:%Y%m%d}-{period.end:%Y%m%d}")
            add("EQ", "30")
        add("SE", str(len(lines) - start + 1), st)
    add("GE", str(len(batches)), str(group))
    add("IEA", "1", f"{interchange:09d}")
    return "".join(f"{line}{TERMINATOR}\n" for line in lines)


# Reading a 271 ----------------------------------------------------------------------------


class EligibilityFileError(ValueError):
    """The file is not a 271 we can read; nothing from it was applied."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class Subscriber:
    segment: int
    member_id: str = ""
    trace: str | None = None
    dates: list[tuple[date, date]] = field(default_factory=list)
    benefits: list[dict[str, Any]] = field(default_factory=list)
    rejections: list[tuple[str, str]] = field(default_factory=list)  # AAA03, AAA04

    def month(self) -> Period | None:
        match = TRACE.match(self.trace or "")
        if match:
            return Period(int(match.group(1)), int(match.group(2)))
        return Period.of(self.dates[0][0]) if self.dates else None


@dataclass
class Answer271:
    sender_id: str
    control_number: str
    created_on: date
    subscribers: list[Subscriber] = field(default_factory=list)
    source_id: str = ""  # the information source (2100A NM109): the payer who answers
    rejections: list[tuple[int, str, str]] = field(default_factory=list)  # above subscribers


def read_271(path: Path) -> Answer271:
    try:
        text = read_interchange(path)
    except NotX12 as err:
        raise EligibilityFileError([str(err)]) from None
    problems = [str(error) for error in envelope_errors(text)]
    if problems:
        if any("Trailer" in p and "missing" in p for p in problems):
            last = sum(1 for _ in segments(text))
            problems.insert(0, f"the file is truncated: it ends after segment {last}")
        raise EligibilityFileError(problems)
    reader = _Reader()
    for number, seg in segments(text):
        reader.segment(seg, number)
    if reader.answer is None and not reader.problems:
        reader.problems.append("the file holds no 271 transaction")
    if reader.problems:
        raise EligibilityFileError(reader.problems)
    assert reader.answer is not None
    return reader.answer


def _dates(text: str | None) -> tuple[date, date] | None:
    try:
        if not text:
            return None
        first, _, last = text.partition("-")
        start = datetime.strptime(first, "%Y%m%d").date()
        return start, datetime.strptime(last, "%Y%m%d").date() if last else start
    except ValueError:
        return None


class _Reader:
    def __init__(self) -> None:
        self.answer: Answer271 | None = None
        self.problems: list[str] = []
        self.level = ""
        self.source = ""
        self.subscriber: Subscriber | None = None
        self.in_2120 = False

    def segment(self, seg: Segment, number: int) -> None:
        seg_id, get = seg.get_seg_id(), seg.get_value
        if seg_id == "ISA":
            self.isa = (get("ISA06").strip(), get("ISA13"))
        elif seg_id == "GS":
            if get("GS08") != VERSION:
                self.problems.append(
                    f"segment {number} GS: the file is not a 271 {VERSION} (GS08 names "
                    f"{get('GS08')})"
                )
            day = _dates(get("GS04"))
            self.answer = self.answer or Answer271(
                self.isa[0], self.isa[1], day[0] if day else date.min
            )
        elif seg_id == "ST" and get("ST01") != "271":
            self.problems.append(f"segment {number} ST: a {get('ST01')} is not a 271 answer")
        elif self.answer is not None:
            self._body(seg_id, get, number)

    def _body(self, seg_id: str, get: Any, number: int) -> None:
        assert self.answer is not None
        sub = self.subscriber
        if seg_id == "HL":
            self.level, self.in_2120 = get("HL03") or "", False
            if self.level == "22":
                self.subscriber = Subscriber(number)
                self.answer.subscribers.append(self.subscriber)
            elif self.level != "23":
                self.subscriber = None
        elif seg_id == "NM1" and self.level == "20":
            self.source = get("NM109") or ""
            self.answer.source_id = self.answer.source_id or self.source.strip()
        elif seg_id == "AAA":
            if sub is not None and self.level == "22":
                sub.rejections.append((get("AAA03") or "", get("AAA04") or ""))
            elif self.level in ("20", "21"):
                self.answer.rejections.append((number, get("AAA03") or "", get("AAA04") or ""))
        elif sub is None or self.level != "22":
            return
        elif seg_id == "TRN" and get("TRN01") == "2":
            sub.trace = get("TRN02")
        elif seg_id == "NM1" and get("NM101") == "IL":
            sub.member_id = (get("NM109") or "").strip().upper()
        elif seg_id == "DTP" and (span := _dates(get("DTP03"))):
            if sub.benefits and not self.in_2120:
                sub.benefits[-1]["dates"].append(span)
            elif not sub.benefits:
                sub.dates.append(span)
        elif seg_id == "EB":
            sub.benefits.append({"code": get("EB01") or "", "plan": self.source, "dates": []})
            self.in_2120 = False
        elif seg_id == "LS":
            self.in_2120 = True
        elif seg_id == "LE":
            self.in_2120 = False
        elif seg_id == "NM1" and self.in_2120 and sub.benefits and get("NM101") in PLAN_ENTITIES:
            sub.benefits[-1]["plan"] = get("NM109") or sub.benefits[-1]["plan"]


@dataclass(frozen=True)
class MemberAnswer:
    member_id: str
    month: str
    eligible: bool | None
    reason: str
    segment: int


@dataclass
class EligibilityOutcome:
    file: Path
    already_imported: bool = False
    answers: list[MemberAnswer] = field(default_factory=list)
    rejections: list[str] = field(default_factory=list)
    not_on_roster: list[str] = field(default_factory=list)
    changed: int = 0
    rerate: list[tuple[str, str]] = field(default_factory=list)
    plan: str | None = None  # whose eligibility it was, with several plans

    def count(self, eligible: bool | None) -> int:
        return sum(1 for answer in self.answers if answer.eligible is eligible)


def benefits_of(subscriber: Subscriber) -> Iterable[Benefit]:
    for item in subscriber.benefits:
        spans = item["dates"] or [(None, None)]
        for start, end in spans:
            yield Benefit(item["code"], item["plan"] or None, start, end)


class WhosePlan(ValueError):
    """With several plans, a 271 whose payer cannot be told from the file; nothing applied."""


def import_271(
    engine: Engine,
    path: Path,
    *,
    actor: str,
    codes: PayerCodes | None = None,
    plan: str | None = None,
) -> EligibilityOutcome:
    """Apply a 271: each subscriber's month eligible or not, in one transaction. With several
    plans the answer is one plan's: ``plan``, else the one plan whose payer (its
    eligibility_source_id, else payer_id) is the 271's information source; its eligibility
    is written for that plan only. ``WhosePlan`` when the file cannot say which plan's it is
    (no plan's payer, or a payer several plans share), ``LookupError`` for an unknown key."""
    answer = read_271(path)
    tables = codes or default_codes()
    key, settings = _plan_of_answer(engine, answer, plan)
    outcome = EligibilityOutcome(file=path, plan=key)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    interchange = stored.Interchange(
        KIND, answer.sender_id, answer.control_number, path.name, digest, answer.created_on
    )
    for number, reason, action in answer.rejections:
        outcome.rejections.append(f"segment {number}: {_aaa(tables, reason, action)}")
    with unit_of_work(engine) as session:
        if stored.already_imported(session, interchange):
            outcome.already_imported = True
            return outcome
        roster = records.member_ids(session)
        months: dict[tuple[str, str], bool] = {}
        for sub in answer.subscribers:
            label = sub.member_id or "(no member id)"
            month = sub.month()
            if sub.rejections:
                for reason, action in sub.rejections:
                    outcome.rejections.append(
                        f"{label} (segment {sub.segment}): {_aaa(tables, reason, action)}"
                    )
            elif month is None:
                outcome.rejections.append(
                    f"{label} (segment {sub.segment}): no date and not our trace number: "
                    "which month it answers is unknown"
                )
            elif sub.member_id not in roster:
                outcome.not_on_roster.append(sub.member_id)
            else:
                result = eligible_in(benefits_of(sub), month, settings.plan_ids)
                outcome.answers.append(
                    MemberAnswer(sub.member_id, str(month), result.eligible, result.reason,
                                 sub.segment)
                )  # fmt: skip
                if result.eligible is not None:
                    months[(sub.member_id, str(month))] = result.eligible
        stored.add_interchange(session, interchange, imported_at=audit.now(), actor=actor)

        def write(batch_id: int) -> int:
            changed, outcome.rerate = record_months(
                session, months, actor=actor, batch_id=batch_id, source=KIND, plan=key
            )
            return changed

        file = records.BatchFile(
            KIND, path.name, digest, actor, len(answer.subscribers), len(months)
        )
        outcome.changed = in_batch(session, file, write)
    return outcome


def _plan_of_answer(
    engine: Engine, answer: Answer271, plan: str | None
) -> tuple[str | None, ProviderSettings]:
    """Whose answer the 271 is, and that plan's settings (one plan: the office's, key None)."""
    with unit_of_work(engine) as session:
        several = stored_plans.several(session)
        key = stored_plans.chosen_plan(session, plan) if plan is not None else None
    if not several:
        return None, provider_settings(engine)
    if key is not None:
        return key, plan_settings(engine, key)
    every = all_plan_settings(engine)
    sent_by = [
        name
        for name, found in every.items()
        if (found.eligibility_source_id or found.payer_id).strip() == answer.source_id
    ]
    if len(sent_by) != 1:
        why = (
            f"plans {', '.join(sent_by)} share its payer"
            if sent_by
            else "it is none of the plans' payers"
        )
        raise WhosePlan(
            f"the 271 is from {answer.source_id or 'an unnamed payer'} and {why}: "
            "say which plan's answer it is"
        )
    return sent_by[0], every[sent_by[0]]


def _aaa(tables: PayerCodes, reason: str, action: str) -> str:
    words = f"request rejected: {tables.describe('aaa', reason)}"
    return f"{words} ({tables.describe('aaa_action', action)})" if action else words


def read_member_list(path: Path) -> list[str]:
    """Member ids, one a line (a CSV's first column; a header line is skipped)."""
    ids = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        first = line.split(",")[0].strip().strip('"').upper()
        if first and first != "MEMBER_ID":
            ids.append(first)
    return ids
