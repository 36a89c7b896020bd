"""Claims from a rated period, and the rule for correcting what was already claimed.

Pure: a ``PeriodRating`` and the contract's rates in, claim drafts and decisions out. The store
and the file writers are elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from ecmbill.domain.lines import ClaimLine, PeriodRating
from ecmbill.domain.plans import DEFAULT_PLAN
from ecmbill.domain.vocabulary import Kind, Source

CENT = Decimal("0.01")
# X12 837P allows at most 50 service lines (LX) per claim.
MAX_LINES_PER_CLAIM = 50


class Frequency(StrEnum):
    """CLM05-3, the claim frequency type code."""

    ORIGINAL = "1"
    REPLACEMENT = "7"
    VOID = "8"


class Action(StrEnum):
    NOTHING = "nothing"
    ORIGINAL = "original"
    REPLACEMENT = "replacement"
    VOID = "void"

    @property
    def frequency(self) -> Frequency:
        return {
            Action.ORIGINAL: Frequency.ORIGINAL,
            Action.REPLACEMENT: Frequency.REPLACEMENT,
            Action.VOID: Frequency.VOID,
        }[self]


@dataclass(frozen=True)
class ChargeLine:
    """A claim line with its charge: units × the contract's rate for the code and modifiers."""

    kind: Kind
    code: str
    modifiers: tuple[str, ...]
    units: int
    charge: Decimal
    first_date: date
    last_date: date
    minutes: int
    source_ids: tuple[str, ...]
    rendering_npi: str | None = None

    def billed(self) -> tuple[str, ...]:
        """What the payer sees of this line; the correction rule compares only this. Plain
        text, so a line read back from any database compares equal to a freshly rated one."""
        return (
            self.code,
            " ".join(self.modifiers),
            str(self.units),
            f"{self.charge:.2f}",
            self.first_date.isoformat(),
            self.last_date.isoformat(),
            self.rendering_npi or "",
        )


@dataclass(frozen=True)
class ClaimDraft:
    """One billing provider × member × period × plan."""

    member_id: str
    period: str
    lines: tuple[ChargeLine, ...]
    plan: str = DEFAULT_PLAN

    @property
    def total_charge(self) -> Decimal:
        return sum((line.charge for line in self.lines), Decimal("0.00"))

    def billed(self) -> tuple[tuple[str, ...], ...]:
        return billed_lines(self.lines)


def billed_lines(lines: Iterable[ChargeLine]) -> tuple[tuple[str, ...], ...]:
    return tuple(sorted(line.billed() for line in lines))


def charge_for(units: int, rate: Decimal) -> Decimal:
    return (Decimal(units) * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def source_of(kind: Kind) -> Source:
    return Source.OUTREACH if kind is Kind.OUTREACH else Source.TIME


def rendering_npi(line: ClaimLine, npi_of: Mapping[tuple[Source, str], str | None]) -> str | None:
    """The staff NPI for the line when everyone whose time is on it shares one NPI. A team line
    (several staff) names no single renderer; the billing provider then renders it."""
    source = source_of(line.kind)
    npis = {npi_of.get((source, source_id)) for source_id in line.source_ids}
    if len(npis) == 1:
        return npis.pop()
    return None


class SameDayOutreach(StrEnum):
    """How two outreach attempts of one member on one day under one code and modifiers are
    billed (the contract's ``claims.same_day_outreach``): identical lines would be denied as
    duplicates (CARC 18)."""

    ONE_LINE = "one_line"  # one line, units = attempts
    REPEAT_MODIFIER = "repeat_modifier"  # a line each, later ones with the repeat modifier


def same_day_outreach(
    lines: Iterable[ClaimLine], how: SameDayOutreach, repeat_modifier: str = "76"
) -> list[ClaimLine]:
    """The rated lines with same-day repeated outreach made distinct: attempts of one member
    on one day under one code and modifiers become one line whose units are the attempts
    (minutes and attempts summed), or stay a line each with ``repeat_modifier`` added to the
    second and later. Service lines pass through. Order is kept (first line's place)."""
    out: list[ClaimLine] = []
    first: dict[tuple[str, str, tuple[str, ...], date], int] = {}
    for line in lines:
        if line.kind is not Kind.OUTREACH:
            out.append(line)
            continue
        key = (line.member_id, line.code, line.modifiers, line.first_date)
        if key not in first:
            first[key] = len(out)
            out.append(line)
        elif how is SameDayOutreach.ONE_LINE:
            kept = out[first[key]]
            out[first[key]] = replace(
                kept, units=kept.units + line.units, minutes=kept.minutes + line.minutes,
                source_ids=kept.source_ids + line.source_ids,
            )  # fmt: skip
        else:
            out.append(replace(line, modifiers=(*line.modifiers, repeat_modifier)[:4]))
    return out


def build_claims(
    rating: PeriodRating,
    rate_for: Callable[[str, tuple[str, ...]], Decimal],
    npi_of: Mapping[tuple[Source, str], str | None] | None = None,
    *,
    outreach: SameDayOutreach = SameDayOutreach.ONE_LINE,
    repeat_modifier: str = "76",
    plan: str | None = None,
) -> tuple[ClaimDraft, ...]:
    """One claim per member with a line per rated claim line (services per code and modifier
    set, one per outreach attempt, same-day repeats made distinct by ``outreach``), in the
    rating's order. A line with the repeat modifier is charged at the rate of its code and
    modifiers without it. With ``plan``, only that plan's lines, charged at ``rate_for`` (the
    plan's rates): a member who changed plan has one claim per plan."""
    lines = rating.lines if plan is None else [x for x in rating.lines if x.plan == plan]
    by_member: dict[str, list[ChargeLine]] = {}
    for line in same_day_outreach(lines, outreach, repeat_modifier):
        rated = line.modifiers
        if outreach is SameDayOutreach.REPEAT_MODIFIER and rated[-1:] == (repeat_modifier,):
            rated = rated[:-1]
        by_member.setdefault(line.member_id, []).append(
            ChargeLine(
                kind=line.kind,
                code=line.code,
                modifiers=line.modifiers,
                units=line.units,
                charge=charge_for(line.units, rate_for(line.code, rated)),
                first_date=line.first_date,
                last_date=line.last_date,
                minutes=line.minutes,
                source_ids=line.source_ids,
                rendering_npi=rendering_npi(line, npi_of) if npi_of is not None else None,
            )
        )
    return tuple(
        ClaimDraft(member, rating.period, tuple(found), plan if plan is not None else DEFAULT_PLAN)
        for member, found in sorted(by_member.items())
    )


@dataclass(frozen=True)
class Claimed:
    """The member's latest claim for the period, as the payer knows it: ``denied`` when the
    payer's latest answer to it is a denial (CLP02 = 4)."""

    frequency: Frequency
    billed: tuple[tuple[str, ...], ...]
    denied: bool = False


class AfterDenial(StrEnum):
    """How a claim the payer denied is corrected (the contract's ``claims.after_denial``)."""

    NEW_ORIGINAL = "new_original"
    REPLACEMENT = "replacement"


def correction(
    new: ClaimDraft | None,
    claimed: Claimed | None,
    after_denial: AfterDenial = AfterDenial.NEW_ORIGINAL,
) -> Action:
    """The rule, member by member:
    - never claimed (or the last claim was voided) and billable now: an original claim;
    - claimed and nothing billable left: a void of the claim, unless the payer denied it: a
      denied claim paid nothing, so there is nothing to void, and it is never voided;
    - claimed and the billed lines differ: a replacement of the whole claim, or, when the
      payer denied it, what the contract says: a new original claim or a replacement;
    - otherwise nothing."""
    if claimed is None or claimed.frequency is Frequency.VOID:
        return Action.ORIGINAL if new is not None and new.lines else Action.NOTHING
    if new is None or not new.lines:
        return Action.NOTHING if claimed.denied else Action.VOID
    if new.billed() != claimed.billed:
        if claimed.denied and after_denial is AfterDenial.NEW_ORIGINAL:
            return Action.ORIGINAL
        return Action.REPLACEMENT
    return Action.NOTHING


@dataclass(frozen=True)
class Decision:
    member_id: str
    action: Action
    draft: ClaimDraft | None
    plan: str = DEFAULT_PLAN


def plan_corrections(
    drafts: Iterable[ClaimDraft],
    claimed: Mapping[str, Claimed],
    after_denial: AfterDenial = AfterDenial.NEW_ORIGINAL,
    plan: str = DEFAULT_PLAN,
) -> tuple[Decision, ...]:
    """Every member with a draft or a claim gets a decision; the ones with something to do are
    those whose action is not NOTHING. Drafts and claims are of one ``plan``: a claim is only
    ever corrected by a claim to the same plan."""
    by_member = {draft.member_id: draft for draft in drafts}
    members = sorted(set(by_member) | set(claimed))
    return tuple(
        Decision(
            member,
            correction(by_member.get(member), claimed.get(member), after_denial),
            by_member.get(member),
            plan,
        )
        for member in members
    )


NO_ADDRESS = (
    "held back: the member has no residential address on file, and the 837P must give the "
    "subscriber's address (2010BA N3/N4) when the member is the patient. Add it (the members "
    "import's address, city, state and zip columns, the plan's Member Information File or "
    "834) and close again; for a member experiencing homelessness give the address the plan "
    "asks for (a shelter's, or the provider's). If your payer accepts claims without it, set "
    'member_address = "waived" under [claims] in the contract.'
)


@dataclass(frozen=True)
class HeldBack:
    """A claim not made at this close, and what the biller must do for it to be made."""

    member_id: str
    action: Action
    reason: str
    plan: str = DEFAULT_PLAN


def hold_back(
    decisions: Iterable[Decision], has_address: Callable[[str], bool], *, waived: bool
) -> tuple[list[Decision], list[HeldBack]]:
    """The decisions to carry out now, and those held back for a member without an address
    (unless the contract says the payer waives it). A held-back claim is not made; the next
    close decides again, so nothing is lost."""
    go: list[Decision] = []
    held: list[HeldBack] = []
    for decision in decisions:
        if decision.action is Action.NOTHING or waived or has_address(decision.member_id):
            go.append(decision)
        else:
            held.append(HeldBack(decision.member_id, decision.action, NO_ADDRESS, decision.plan))
    return go, held


@dataclass(frozen=True)
class FilingWarning:
    member_id: str
    code: str
    modifiers: tuple[str, ...]
    first_date: date
    deadline: date
    days_left: int

    @property
    def past(self) -> bool:
        return self.days_left < 0


def timely_filing(
    drafts: Iterable[ClaimDraft], today: date, limit_days: int, *, near_days: int = 30
) -> tuple[FilingWarning, ...]:
    """Lines whose earliest service date is within ``near_days`` of the filing limit, or past
    it. The earliest date binds: a range line is late as soon as its first day is."""
    warnings = []
    for draft in drafts:
        for line in draft.lines:
            deadline = line.first_date + timedelta(days=limit_days)
            left = (deadline - today).days
            if left <= near_days:
                warnings.append(
                    FilingWarning(
                        draft.member_id, line.code, line.modifiers, line.first_date, deadline, left
                    )
                )
    return tuple(warnings)
