"""Eligibility from the plan's X12 834 (005010X220A1), read with pyx12.

pyx12 first validates the whole interchange against the 834 implementation guide: a file
with any syntax or structure error (a truncated file misses its trailers) is refused whole,
with the segment and the reason of each error. A valid file gives, per member loop (2000),
the CIN (REF*0F), birth date and sex (DMG), residential address (N3/N4) and coverage.

The shapes plans send: INS03 001 (change), 021 (addition), 024 (cancellation or
termination), 025 (reinstatement), 030 (audit or compare); coverage dates in the health
coverage loop (2300: DTP*348 begin, DTP*349 end) or at the member level (2000: DTP*356
eligibility begin, DTP*357 eligibility end). A termination with only DTP*357 ends coverage on
that day: its month stays eligible, the months after it are not. A change without dates
updates the address and sex and leaves eligibility alone. Dependents (INS01 = N) are not ECM
members of ours: they are skipped and counted. A member not on the roster is listed as such,
never added, whatever else their loop lacks.

Coverage becomes monthly eligibility for members on our roster, written through the same
path as the eligibility import (same audit trail). A month whose eligibility changes after
the fact, for a member with recorded time or outreach in it, is marked for re-rating.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyx12.error_handler
import pyx12.params
import pyx12.x12context

from ecmbill.domain.identifiers import is_medi_cal_cin
from ecmbill.domain.period import Period
from ecmbill.domain.plans import PlanSpan
from ecmbill.imports.batch import Rejection, in_batch
from ecmbill.imports.eligibility import record_months
from ecmbill.store import models, records
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import Engine, Session, unit_of_work
from ecmbill.x12.validation import NotX12, SegmentError, read_interchange, validate

KIND = "834"
IMPLEMENTATION = "005010X220A1"
CHANGE, ADDITION, TERMINATION, REINSTATEMENT, AUDIT = "001", "021", "024", "025", "030"


@dataclass(frozen=True)
class Coverage:
    start: date
    end: date | None


@dataclass(frozen=True)
class MemberLoop:
    segment_number: int
    member_id: str
    birth_date: date | None
    coverage: tuple[Coverage, ...]
    maintenance: str = AUDIT  # INS03
    subscriber: bool = True  # INS01 = Y; a dependent is not an ECM member of ours
    ends: date | None = None  # a termination's DTP*357 when no coverage span is given
    address: tuple[str, str, str, str] | None = None  # N301, N401, N402, N403
    sex: str | None = None  # DMG03


@dataclass
class X834Result:
    file: Path
    file_problem: str | None = None
    segment_errors: list[SegmentError] = field(default_factory=list)
    members_read: int = 0
    accepted: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    not_on_roster: list[str] = field(default_factory=list)
    changed: int = 0
    rerate: list[tuple[str, str]] = field(default_factory=list)
    # Dependents' loops (INS01 = N), skipped; and what was read in a way worth saying.
    dependents: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 every member loop accepted; 1 some rejected or not on the roster; 2 nothing
        imported."""
        if self.file_problem or self.segment_errors:
            return 2
        return 1 if self.rejections or self.not_on_roster else 0


def import_834(
    engine: Engine,
    path: Path,
    *,
    actor: str,
    today: date | None = None,
    plan: str | None = None,
) -> X834Result:
    """``plan``: the plan whose 834 this is (None: the office's first plan; ``LookupError``
    for a key that is not one of its plans). The eligibility written is that plan's; in an
    office of several plans its coverage spans give the members that plan on those days."""
    today = today or date.today()
    with unit_of_work(engine) as session:
        plan = stored_plans.chosen_plan(session, plan)
    result = X834Result(file=path)
    try:
        text = read_interchange(path, what="834 files")
    except NotX12 as err:
        result.file_problem = str(err)
        return result
    text, result.notes = _single_race_values(text)
    result.segment_errors = validate(text)
    if result.segment_errors:
        return result
    try:
        loops = list(read_members(text))
    except _WrongTransaction as err:
        result.file_problem = str(err)
        return result
    result.members_read = len(loops)
    result.dependents = sum(not loop.subscriber for loop in loops)
    if result.dependents:
        result.notes.append(
            f"{result.dependents} dependent loop(s) (INS01 = N) skipped: a dependent is not an "
            "ECM member of ours"
        )
    loops = [loop for loop in loops if loop.subscriber]
    digest = hashlib.sha256(text.encode("ascii")).hexdigest()
    with unit_of_work(engine) as session:
        roster = records.member_birth_dates(session)
        accepted: dict[str, MemberLoop] = {}
        for loop in loops:
            problem = _loop_problem(loop, roster, accepted)
            if problem:
                result.rejections.append(Rejection(loop.segment_number, *problem))
            elif loop.member_id not in roster:
                result.not_on_roster.append(loop.member_id)
            else:
                accepted[loop.member_id] = loop
        # Members not on the roster count as read and not imported; they are listed apart.
        result.accepted = len(accepted)

        def write(batch_id: int) -> int:
            months = _monthly_eligibility(accepted, Period.of(today))
            changed, result.rerate = record_months(
                session, months, actor=actor, batch_id=batch_id, source=KIND, plan=plan
            )
            if stored_plans.several(session):
                changed += _assign_plan(session, accepted, plan, actor)
            changed += records.upsert(
                session, models.Member, ("member_id",), _member_rows(accepted), actor, "members"
            ).changed
            return changed

        file = records.BatchFile(
            KIND, path.name, digest, actor, result.members_read, result.accepted
        )
        result.changed = in_batch(session, file, write)
    return result


def _loop_problem(
    loop: MemberLoop, roster: dict[str, date], accepted: dict[str, MemberLoop]
) -> tuple[str, str] | None:
    """Why a member loop cannot be taken; None for one that can, or for a member not on the
    roster (listed as such, whatever else the loop lacks)."""
    if not is_medi_cal_cin(loop.member_id):
        return ("REF02", "REF*0F subscriber identifier is not a Medi-Cal CIN")
    known = roster.get(loop.member_id)
    if known is None:
        return None
    if loop.member_id in accepted:
        return ("REF02", "the member appears twice in the file")
    if loop.birth_date is not None and loop.birth_date != known:
        return ("DMG02", "birth date does not match the member on file: check the CIN")
    if not loop.coverage and loop.ends is None:
        if loop.maintenance == CHANGE:
            return None  # a change of address or name: eligibility stays as it is
        if loop.maintenance == TERMINATION:
            return ("DTP03", "a termination (INS03 024) without its end date (DTP*357 in loop "
                    "2000 or DTP*349 in loop 2300)")  # fmt: skip
        return ("DTP03", "no coverage begin date (DTP*348 in loop 2300 or DTP*356 in loop 2000)")
    for span in loop.coverage:
        if span.end is not None and span.end < span.start:
            return ("DTP03", "coverage end (DTP*349) is before its begin (DTP*348)")
    return None


def _assign_plan(session: Session, members: dict[str, MemberLoop], plan: str, actor: str) -> int:
    """The plan's coverage spans are the member's spans of that plan (``store.plans.assign``,
    audited); how many spans were stored anew."""
    changed = 0
    for member_id, loop in sorted(members.items()):
        for span in sorted(loop.coverage, key=lambda s: s.start):
            changed += stored_plans.assign(
                session, PlanSpan(member_id, plan, span.start, span.end), actor
            )
    return changed


def _member_rows(members: dict[str, MemberLoop]) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """The address and sex the plan sent, for the claim (2010BA): only what the loop gives."""
    rows = []
    for member_id, loop in sorted(members.items()):
        values: dict[str, Any] = {"member_id": member_id}
        if loop.address is not None:
            values.update(zip(("address", "city", "state", "zip"), loop.address, strict=True))
        if loop.sex is not None:
            values["sex"] = loop.sex
        if len(values) > 1:
            rows.append(((member_id,), values))
    return rows


def _monthly_eligibility(
    members: dict[str, MemberLoop], current: Period
) -> dict[tuple[str, str], bool]:
    """Eligibility per member and month from the coverage spans, from the first month
    covered to the current month (or the last month covered, if later): covered months are
    eligible, the others in that window are not."""
    found: dict[tuple[str, str], bool] = {}
    for member_id, loop in sorted(members.items()):
        if not loop.coverage and loop.ends is None:
            continue  # a change without dates
        covered = {str(p) for span in loop.coverage for p in _months(span, current)}
        if loop.coverage:
            first = min(Period.of(span.start) for span in loop.coverage)
        else:  # a termination on its own: its month is covered, the ones after are not
            assert loop.ends is not None
            first = Period.of(loop.ends)
            covered.add(str(first))
        last = max([current, *(Period.parse(m) for m in covered)])
        month = first
        while month <= last:
            found[(member_id, str(month))] = str(month) in covered
            month = month.next()
    return found


def _months(span: Coverage, current: Period) -> Iterator[Period]:
    month = Period.of(span.start)
    last = Period.of(span.end) if span.end else max(current, month)
    while month <= last:
        yield month
        month = month.next()


class _WrongTransaction(ValueError):
    pass


def read_members(text: str) -> Iterator[MemberLoop]:
    """The member loops (2000) of a valid 834."""
    params = pyx12.params.params()
    errh = pyx12.error_handler.errh_null()
    reader = pyx12.x12context.X12ContextReader(params, errh, io.StringIO(text))
    try:
        for node in reader.iter_segments("2000"):
            if node.id == "GS" and node.get_value("GS08") != IMPLEMENTATION:
                raise _WrongTransaction(
                    f"the file is not an 834 {IMPLEMENTATION} (GS08 says something else)"
                )
            if node.id != "2000":
                continue
            yield _member_loop(node)
    finally:
        reader.close()


def _member_loop(node: Any) -> MemberLoop:
    member_id = (node.get_value("REF[0F]02") or "").strip().upper()
    birth = _d8(node.get_value("2100A/DMG02"))
    maintenance = (node.get_value("INS03") or "").strip()
    terminated = maintenance == TERMINATION
    eligibility_begin = _d8(node.get_value("DTP[356]03"))
    eligibility_end = _d8(node.get_value("DTP[357]03"))
    spans = []
    for hd in node.select("2300"):
        start = _d8(hd.get_value("DTP[348]03"))
        end = _d8(hd.get_value("DTP[349]03"))
        if end is None and (terminated or hd.get_value("HD01") == TERMINATION):
            end = eligibility_end
        if start is not None:
            spans.append(Coverage(start, end))
    ends = None
    if not spans and eligibility_begin is not None:
        spans.append(Coverage(eligibility_begin, eligibility_end))
    elif not spans and terminated:
        ends = eligibility_end
    street, city = node.get_value("2100A/N301"), node.get_value("2100A/N401")
    state, postal = node.get_value("2100A/N402"), node.get_value("2100A/N403")
    address = (
        (street.strip(), city.strip(), state.strip().upper(), postal.strip()[:10])
        if street and city and state and postal
        else None
    )
    sex = (node.get_value("2100A/DMG03") or "").strip().upper()
    return MemberLoop(
        node.cur_line_number or 0, member_id, birth, tuple(spans), maintenance,
        (node.get_value("INS01") or "Y").strip() == "Y", ends, address,
        sex if sex in ("F", "M", "U") else None,
    )  # fmt: skip


def _single_race_values(text: str) -> tuple[str, list[str]]:
    """DMG05 (race or ethnicity) may repeat, split by the ISA11 repetition separator; pyx12
    fails on the repetition (an IndexError, once reported as an unreadable ISA). ecmbill does
    not use DMG05: each repeated value is read as its first. Returns the text and a note."""
    element = text.lstrip()[3]
    isa = text.lstrip()[:106].split(element)
    repetition = isa[11] if len(isa) > 11 else ""
    if len(repetition) != 1 or repetition.isalnum() or repetition == " ":
        return text, []
    terminator = text.lstrip()[105] if len(text.lstrip()) > 105 else "~"
    segments = text.split(terminator)
    notes = []
    for index, segment in enumerate(segments):
        if segment.strip().startswith(f"DMG{element}") and repetition in segment:
            fields = segment.split(element)
            segments[index] = element.join(f.split(repetition)[0] for f in fields)
            notes.append(
                f"segment {index + 1} (DMG): repeated race or ethnicity values read as the "
                "first (ecmbill does not use them)"
            )
    return terminator.join(segments), notes


def _d8(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        return None
