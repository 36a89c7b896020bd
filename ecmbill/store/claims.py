"""Claims, their lines, period closes, control numbers and exports as the store keeps them.

Every function works inside the caller's transaction (``unit_of_work``) and hands back plain
values, so the claims services decide and this module only reads and writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from ecmbill.domain.claims import ChargeLine
from ecmbill.domain.period import Period
from ecmbill.domain.plans import DEFAULT_PLAN
from ecmbill.domain.vocabulary import Kind, Source
from ecmbill.store import models
from ecmbill.store.db import serialise

CENT = Decimal("0.01")
# A claim's status once the payer's 999 or 277CA refused it (see ecmbill.payer.acks).
REJECTED = "rejected"


@dataclass(frozen=True)
class StoredClaim:
    id: int
    period: str
    member_id: str
    billing_npi: str
    frequency: str
    status: str
    patient_control_number: str
    payer_claim_control_number: str | None
    corrects_claim_id: int | None
    original_reference: str | None
    total_charge: Decimal
    diagnosis_code: str
    place_of_service: str
    created_at: datetime
    # The plan billed: a replacement or void goes to the plan of the claim it corrects.
    plan: str = DEFAULT_PLAN


@dataclass(frozen=True)
class PeriodClosed:
    """One close of a period: when, by whom, how many claims it created."""

    period: str
    closed_at: datetime
    actor: str
    claims_created: int


@dataclass(frozen=True)
class BilledMember:
    member_id: str
    first_name: str
    last_name: str
    birth_date: date
    # The residential address (street, city, state, zip), None while none is on file.
    address: tuple[str, str, str, str] | None = None
    sex: str | None = None


@dataclass(frozen=True)
class StoredLine:
    """A claim line with its row id, which a remittance's answer points to."""

    id: int
    number: int
    line: ChargeLine


def as_stored_claim(row: models.Claim) -> StoredClaim:
    return StoredClaim(
        id=row.id,
        period=row.period,
        member_id=row.member_id,
        billing_npi=row.billing_npi,
        frequency=row.frequency,
        status=row.status,
        patient_control_number=row.patient_control_number,
        payer_claim_control_number=row.payer_claim_control_number,
        corrects_claim_id=row.corrects_claim_id,
        original_reference=row.original_reference,
        total_charge=row.total_charge,
        diagnosis_code=row.diagnosis_code,
        place_of_service=row.place_of_service,
        created_at=row.created_at,
        plan=row.plan,
    )


# Control numbers --------------------------------------------------------------------------


def next_number(session: Session, name: str) -> int:
    """The counter's next value. The UPDATE takes the row's write lock until the transaction
    ends, so two processes can never receive the same number, and a rolled-back transaction
    gives its number back without ever letting a counter go down."""
    session.execute(
        update(models.ControlCounter)
        .where(models.ControlCounter.name == name)
        .values(value=models.ControlCounter.value + 1)
    )
    value = session.scalar(
        select(models.ControlCounter.value).where(models.ControlCounter.name == name)
    )
    if value is None:
        raise RuntimeError(f"control counter {name!r} is missing (migration 0002 not applied?)")
    return value


# Closes -----------------------------------------------------------------------------------


def first_close(session: Session, period: str) -> PeriodClosed | None:
    row = session.scalar(
        select(models.PeriodClose)
        .where(models.PeriodClose.period == period)
        .order_by(models.PeriodClose.id)
        .limit(1)
    )
    if row is None:
        return None
    return PeriodClosed(row.period, row.closed_at, row.actor, row.claims_created)


def latest_close_time(session: Session, period: str) -> datetime | None:
    return session.scalar(
        select(models.PeriodClose.closed_at)
        .where(models.PeriodClose.period == period)
        .order_by(models.PeriodClose.id.desc())
        .limit(1)
    )


def add_close(
    session: Session, period: str, closed_at: datetime, actor: str, claims_created: int
) -> int:
    close = models.PeriodClose(
        period=period, closed_at=closed_at, actor=actor, claims_created=claims_created
    )
    session.add(close)
    session.flush()
    return close.id


def set_claims_created(session: Session, close_id: int, claims_created: int) -> None:
    """The close's count of claims, known once its last batch is written."""
    close = session.get(models.PeriodClose, close_id)
    assert close is not None
    close.claims_created = claims_created


# What a close rates: edits of these wait while a close holds its lock (PostgreSQL; on
# SQLite the close's write lock holds every writer back).
RATED_TABLES = ("time_entries", "outreach_attempts", "eligibility", "enrollments", "staff_roles")


def hold_for_close(session: Session, period: str) -> None:
    """Take the close's lock: one close of a period at a time, and no edit of what it rates
    is saved between its rating and its commit. An edit saving now is waited for first."""
    serialise(session, f"ecmbill-close-{period}")
    if session.get_bind().dialect.name == "postgresql":
        # SHARE mode lets the rating read and waits for open writers, then keeps new ones
        # waiting until this transaction ends.
        session.execute(text(f"LOCK TABLE {', '.join(RATED_TABLES)} IN SHARE MODE"))


def close_mark(session: Session, period: str, *, first: bool) -> int | None:
    """The audit record of the period's first (or latest) close: edits recorded after it were
    saved after that close's rating, whatever time their own clock gave them."""
    record = models.AuditRecord
    order = record.id if first else record.id.desc()
    # A reopened period starts afresh: its closes before the reopening no longer count.
    reopened = session.scalar(
        select(func.max(record.id)).where(
            record.entity == REOPEN_ENTITY, record.entity_key == period
        )
    )
    return session.scalar(
        select(record.id)
        .where(
            record.entity == "period_close",
            record.entity_key == period,
            record.id > (reopened or 0),
        )
        .order_by(order)
        .limit(1)
    )


def changed_after(
    session: Session, period: Period, closed_at: datetime, *, after_audit_id: int | None = None
) -> list[str]:
    """Time entries and outreach attempts of the period created, changed or deleted after the
    period was closed, read from the audit trail (which records every such change), so the
    flag can never disagree with the history. With the close's audit record, "after" is by
    the trail's order (an edit held back by the close's lock can carry an earlier time);
    without it (a close recorded before the trail held one), by time."""
    keys: set[str] = set()
    record = models.AuditRecord
    since = record.id > after_audit_id if after_audit_id is not None else record.at > closed_at
    rows = session.execute(
        select(record.entity, record.entity_key, record.at, record.before, record.after).where(
            record.entity.in_(("time", "outreach")), since
        )
    )
    for entity, key, at, before, after in rows:
        if after_audit_id is None and aware(at) <= aware(closed_at):
            continue
        for values in (before, after):
            day = json.loads(values).get("date") if values else None
            if day and date.fromisoformat(day[:10]) in period:
                keys.add(f"{entity}/{key}")
    return sorted(keys)


def aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything ecmbill stores is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Claimed dollars and pages of claims ------------------------------------------------------


@dataclass(frozen=True)
class ClaimedCode:
    """The lines of a period's standing claims with one code and modifiers."""

    code: str
    modifiers: tuple[str, ...]
    kind: str
    lines: int
    units: int
    charge: Decimal


def _standing_ids(period: str):  # type: ignore[no-untyped-def]
    """Each member's newest claim of the period the payer did not reject at the door."""
    return (
        select(func.max(models.Claim.id))
        .where(models.Claim.period == period, models.Claim.status != REJECTED)
        .group_by(models.Claim.member_id)
    )


def claimed_by_code(session: Session, period: str) -> list[ClaimedCode]:
    """What the period's standing claims bill, per code and modifiers (a void bills nothing),
    summed in the database."""
    line = models.ClaimLineRecord
    rows = session.execute(
        select(line.code, line.modifiers, line.kind, func.count(), func.sum(line.units),
               func.sum(line.charge))
        .join(models.Claim, models.Claim.id == line.claim_id)
        .where(line.claim_id.in_(_standing_ids(period)), models.Claim.frequency != "8")
        .group_by(line.code, line.modifiers, line.kind)
        .order_by(line.code, line.modifiers)
    )  # fmt: skip
    return [
        ClaimedCode(code, tuple(modifiers.split()), kind, int(count), int(units or 0),
                    Decimal(charge or 0).quantize(CENT))
        for code, modifiers, kind, count, units, charge in rows
    ]  # fmt: skip


@dataclass(frozen=True)
class ClaimRow:
    """A claim as a list shows it: no lines, the formats it was written in."""

    claim: StoredClaim
    lines: int
    exported: tuple[str, ...]


@dataclass(frozen=True)
class ClaimPage:
    rows: list[ClaimRow]
    total: int  # claims matching the filter, on every page
    total_charge: Decimal


CLAIM_SORTS = {
    "number": (models.Claim.id,),
    "member": (models.Claim.member_id, models.Claim.id),
    "charge": (models.Claim.total_charge, models.Claim.id),
    "status": (models.Claim.status, models.Claim.id),
}


def claims_page(
    session: Session,
    period: str,
    *,
    status: str | None = None,
    frequency: str | None = None,
    sent: bool | None = None,
    sort: str = "number",
    descending: bool = False,
    offset: int = 0,
    limit: int = 20,
) -> ClaimPage:
    """One page of the period's claims, filtered and sorted in the database, with the count
    and the charge of all that match."""
    claim = models.Claim
    where = [claim.period == period]
    if status is not None:
        where.append(claim.status == status)
    if frequency is not None:
        where.append(claim.frequency == frequency)
    if sent is not None:
        exported = select(models.ClaimExport.claim_id)
        where.append(claim.id.in_(exported) if sent else claim.id.not_in(exported))
    total, charge = session.execute(
        select(func.count(), func.sum(claim.total_charge)).where(*where)
    ).one()
    order = [c.desc() if descending else c for c in CLAIM_SORTS[sort]]
    rows = list(
        session.scalars(select(claim).where(*where).order_by(*order).offset(offset).limit(limit))
    )
    ids = [row.id for row in rows]
    formats: dict[int, set[str]] = {}
    lines: dict[int, int] = {}
    if ids:
        for claim_id, fmt in session.execute(
            select(models.ClaimExport.claim_id, models.ClaimExport.format).where(
                models.ClaimExport.claim_id.in_(ids)
            )
        ):
            formats.setdefault(claim_id, set()).add(fmt)
        lines = dict(
            session.execute(
                select(models.ClaimLineRecord.claim_id, func.count())
                .where(models.ClaimLineRecord.claim_id.in_(ids))
                .group_by(models.ClaimLineRecord.claim_id)
            ).all()
        )
    return ClaimPage(
        [ClaimRow(as_stored_claim(row), int(lines.get(row.id, 0)),
                  tuple(sorted(formats.get(row.id, ())))) for row in rows],
        int(total or 0),
        Decimal(charge or 0).quantize(CENT),
    )  # fmt: skip


def waiting_counts(
    session: Session, period: str, formats: Iterable[str], plans: Iterable[str] | None = None
) -> dict[str, int]:
    """How many of the period's claims (of these plans, or all) were never written in each
    format."""
    claim = models.Claim
    only = [claim.plan.in_(sorted(set(plans)))] if plans is not None else []
    return {
        fmt: int(
            session.scalar(
                select(func.count()).where(
                    claim.period == period,
                    claim.id.not_in(
                        select(models.ClaimExport.claim_id).where(models.ClaimExport.format == fmt)
                    ),
                    *only,
                )
            )
            or 0
        )
        for fmt in formats
    }


# Reopening --------------------------------------------------------------------------------

# The audit entity of a reopening: closes recorded before it no longer mark the period.
REOPEN_ENTITY = "period_reopen"


@dataclass(frozen=True)
class ClosedPeriod:
    """A closed period, with what reopening it would undo."""

    period: str
    closes: int
    claims: int
    sent: int  # claims of it written to a file (837P or invoice): none, or it cannot reopen


def closed_periods(session: Session) -> list[ClosedPeriod]:
    """Every closed period, newest first, counted in the database."""
    closes = dict(
        session.execute(
            select(models.PeriodClose.period, func.count()).group_by(models.PeriodClose.period)
        ).all()
    )
    claims = dict(
        session.execute(
            select(models.Claim.period, func.count()).group_by(models.Claim.period)
        ).all()
    )
    sent = dict(
        session.execute(
            select(models.Claim.period, func.count(func.distinct(models.Claim.id)))
            .join(models.ClaimExport, models.ClaimExport.claim_id == models.Claim.id)
            .group_by(models.Claim.period)
        ).all()
    )
    return [
        ClosedPeriod(period, int(count), int(claims.get(period, 0)), int(sent.get(period, 0)))
        for period, count in sorted(closes.items(), reverse=True)
    ]


def undo_closes(session: Session, period: str) -> tuple[list[StoredClaim], int]:
    """Delete the period's claims, their lines and its closes; the caller checked none was
    sent. Returns the claims deleted and the number of closes undone."""
    claims = claims_of(session, period)
    ids = [claim.id for claim in claims]
    if ids:
        session.execute(
            delete(models.ClaimLineRecord).where(models.ClaimLineRecord.claim_id.in_(ids))
        )
        # Newest first: a replacement or void points at the claim it corrects.
        for claim_id in sorted(ids, reverse=True):
            session.execute(delete(models.Claim).where(models.Claim.id == claim_id))
    undone = session.execute(delete(models.PeriodClose).where(models.PeriodClose.period == period))
    return claims, int(getattr(undone, "rowcount", 0) or 0)


# Claims -----------------------------------------------------------------------------------


def add_claim(
    session: Session,
    *,
    period: str,
    member_id: str,
    billing_npi: str,
    frequency: str,
    status: str,
    patient_control_number: str,
    corrects_claim_id: int | None,
    original_reference: str | None,
    diagnosis_code: str,
    place_of_service: str,
    close_id: int,
    created_at: datetime,
    lines: list[ChargeLine],
) -> StoredClaim:
    """A new claim with its lines numbered from 1; its total is the sum of their charges."""
    claim = models.Claim(
        period=period,
        member_id=member_id,
        billing_npi=billing_npi,
        frequency=frequency,
        status=status,
        patient_control_number=patient_control_number,
        corrects_claim_id=corrects_claim_id,
        original_reference=original_reference,
        total_charge=sum((line.charge for line in lines), Decimal("0.00")),
        diagnosis_code=diagnosis_code,
        place_of_service=place_of_service,
        close_id=close_id,
        created_at=created_at,
    )
    session.add(claim)
    session.flush()
    session.add_all(
        models.ClaimLineRecord(
            claim_id=claim.id,
            line_number=number,
            kind=line.kind.value,
            code=line.code,
            modifiers=" ".join(line.modifiers),
            units=line.units,
            charge=line.charge,
            first_date=line.first_date,
            last_date=line.last_date,
            minutes=line.minutes,
            source_ids=json.dumps(list(line.source_ids)),
            rendering_npi=line.rendering_npi,
        )
        for number, line in enumerate(lines, start=1)
    )
    return as_stored_claim(claim)


def _row(session: Session, claim_id: int) -> models.Claim:
    row = session.get(models.Claim, claim_id)
    if row is None:
        raise LookupError(f"claim {claim_id} is not in the store")
    return row


def set_status(session: Session, claim_id: int, status: str) -> None:
    _row(session, claim_id).status = status


def set_original_reference(session: Session, claim_id: int, reference: str) -> None:
    _row(session, claim_id).original_reference = reference


def set_payer_claim_control_number(session: Session, claim_id: int, number: str) -> None:
    _row(session, claim_id).payer_claim_control_number = number


def claim(session: Session, claim_id: int) -> StoredClaim:
    return as_stored_claim(_row(session, claim_id))


def reference_for(session: Session, claim_id: int) -> str:
    """REF*F8 of a replacement or void of this claim: the payer's claim control number from
    the nearest claim in the chain a remittance answered, else our control number of it."""
    corrected = _row(session, claim_id)
    row: models.Claim | None = corrected
    while row is not None:
        if row.payer_claim_control_number:
            return row.payer_claim_control_number
        row = session.get(models.Claim, row.corrects_claim_id) if row.corrects_claim_id else None
    return corrected.patient_control_number


def latest_claims(session: Session, period: str, plan: str | None = None) -> dict[str, StoredClaim]:
    """Each member's newest claim of the period that stands (of one plan, or of every plan
    when the office bills one): a claim the payer rejected at the door (999 or 277CA) never
    entered adjudication, so the claim before it stands, and closing again sends the
    member's claim anew."""
    latest: dict[str, StoredClaim] = {}
    query = select(models.Claim).where(
        models.Claim.period == period, models.Claim.status != REJECTED
    )
    if plan is not None:
        query = query.where(models.Claim.plan == plan)
    for row in session.scalars(query.order_by(models.Claim.id)):
        latest[row.member_id] = as_stored_claim(row)
    return latest


def rejected_and_newest(session: Session, period: str | None = None) -> list[StoredClaim]:
    """The rejected claims (of one period, or all) that are still their member's newest claim
    of the month, oldest first: the rejected work list, found by the database instead of
    reading every claim of the month."""
    claim = models.Claim
    newest = select(func.max(claim.id)).group_by(claim.period, claim.member_id, claim.plan)
    query = select(claim).where(claim.status == REJECTED).order_by(claim.id)
    if period is not None:
        newest = newest.where(claim.period == period)
        query = query.where(claim.period == period)
    query = query.where(claim.id.in_(newest.scalar_subquery()))
    return [as_stored_claim(row) for row in session.scalars(query)]


def claims_of(
    session: Session,
    period: str | None = None,
    *,
    member_id: str | None = None,
    voids: bool = True,
    plan: str | None = None,
) -> list[StoredClaim]:
    """Claims oldest first, of one period (or all), one member (or all), one plan (or all),
    voids or not."""
    query = select(models.Claim).order_by(models.Claim.id)
    if plan is not None:
        query = query.where(models.Claim.plan == plan)
    if not voids:
        query = query.where(models.Claim.frequency != "8")
    if period is not None:
        query = query.where(models.Claim.period == period)
    if member_id is not None:
        query = query.where(models.Claim.member_id == member_id)
    return [as_stored_claim(row) for row in session.scalars(query)]


def find_claim(session: Session, claim_ref: str) -> StoredClaim | None:
    """A claim by its patient control number (ECM000000001) or its number (1)."""
    row = session.scalar(
        select(models.Claim).where(models.Claim.patient_control_number == claim_ref.upper())
    )
    if row is None and claim_ref.isdigit():
        row = session.get(models.Claim, int(claim_ref))
    return as_stored_claim(row) if row is not None else None


def claim_by_control_number(session: Session, patient_control_number: str) -> StoredClaim | None:
    row = session.scalar(
        select(models.Claim).where(models.Claim.patient_control_number == patient_control_number)
    )
    return as_stored_claim(row) if row is not None else None


def claims_by_control_numbers(
    session: Session, patient_control_numbers: Iterable[str]
) -> dict[str, StoredClaim]:
    """:func:`claim_by_control_number` of many claims, one query per thousand numbers."""
    found: dict[str, StoredClaim] = {}
    wanted = sorted(set(patient_control_numbers))
    claim = models.Claim
    for at in range(0, len(wanted), 1000):
        rows = session.scalars(
            select(claim).where(claim.patient_control_number.in_(wanted[at : at + 1000]))
        )
        found.update((row.patient_control_number, as_stored_claim(row)) for row in rows)
    return found


def _line_rows(session: Session, claim_id: int) -> Iterable[models.ClaimLineRecord]:
    return session.scalars(
        select(models.ClaimLineRecord)
        .where(models.ClaimLineRecord.claim_id == claim_id)
        .order_by(models.ClaimLineRecord.line_number)
    )


def as_stored_line(row: models.ClaimLineRecord) -> StoredLine:
    return StoredLine(
        row.id,
        row.line_number,
        ChargeLine(
            kind=Kind(row.kind),
            code=row.code,
            modifiers=tuple(row.modifiers.split()),
            units=row.units,
            charge=Decimal(row.charge).quantize(CENT),
            first_date=row.first_date,
            last_date=row.last_date,
            minutes=row.minutes,
            source_ids=tuple(json.loads(row.source_ids)),
            rendering_npi=row.rendering_npi,
        ),
    )


def stored_lines(session: Session, claim_id: int) -> list[StoredLine]:
    return [as_stored_line(row) for row in _line_rows(session, claim_id)]


def charge_lines(session: Session, claim_id: int) -> list[ChargeLine]:
    return [stored.line for stored in stored_lines(session, claim_id)]


def charge_lines_of(session: Session, claim_ids: Iterable[int]) -> dict[int, list[ChargeLine]]:
    """Each claim's lines in line order, for many claims in one query per thousand claims
    (a month's claims listed one query each took most of the listing's time). The columns
    are read as plain rows, not mapped objects: the export reads every line of the month."""
    found: dict[int, list[ChargeLine]] = {}
    wanted = sorted(set(claim_ids))
    record = models.ClaimLineRecord
    kinds = {kind.value: kind for kind in Kind}
    columns = (record.claim_id, record.kind, record.code, record.modifiers, record.units,
               record.charge, record.first_date, record.last_date, record.minutes,
               record.source_ids, record.rendering_npi)  # fmt: skip
    for at in range(0, len(wanted), 1000):
        rows = session.execute(
            select(*columns)
            .where(record.claim_id.in_(wanted[at : at + 1000]))
            .order_by(record.claim_id, record.line_number)
        )
        for (
            claim_id,
            kind,
            code,
            modifiers,
            units,
            charge,
            first,
            last,
            minutes,
            sources,
            npi,
        ) in rows:
            found.setdefault(claim_id, []).append(
                ChargeLine(
                    kind=kinds[kind], code=code, modifiers=tuple(modifiers.split()), units=units,
                    charge=Decimal(charge).quantize(CENT), first_date=first, last_date=last,
                    minutes=minutes, source_ids=tuple(json.loads(sources)), rendering_npi=npi,
                )
            )  # fmt: skip
    return found


def staff_npis(session: Session) -> dict[tuple[Source, str], str | None]:
    """The NPI of whoever recorded each time entry and outreach attempt."""
    npi = {
        row[0]: row[1] for row in session.execute(select(models.Staff.staff_id, models.Staff.npi))
    }
    out: dict[tuple[Source, str], str | None] = {}
    for entry_id, staff_id in session.execute(
        select(models.TimeEntry.entry_id, models.TimeEntry.staff_id)
    ):
        out[(Source.TIME, entry_id)] = npi.get(staff_id)
    for attempt_id, staff_id in session.execute(
        select(models.OutreachAttempt.attempt_id, models.OutreachAttempt.staff_id)
    ):
        out[(Source.OUTREACH, attempt_id)] = npi.get(staff_id)
    return out


def staff_names(session: Session) -> dict[str, str]:
    """Rendering providers' names by NPI."""
    return {
        str(npi): name
        for npi, name in session.execute(
            select(models.Staff.npi, models.Staff.name).where(models.Staff.npi.is_not(None))
        )
    }


def billed_members(session: Session, member_ids: Iterable[str]) -> dict[str, BilledMember]:
    """The members as a claim names them. The address is the one the members import or the
    834 gave (on the member), else the one of the plan's Member Information File. One query
    per thousand members, of plain rows."""
    member, detail = models.Member, models.MemberDetail
    columns = (member.member_id, member.first_name, member.last_name, member.birth_date,
               member.address, member.city, member.state, member.zip, member.sex,
               detail.address, detail.city, detail.state, detail.zip)  # fmt: skip
    wanted = sorted(set(member_ids))
    found: dict[str, BilledMember] = {}
    for at in range(0, len(wanted), 1000):
        rows = session.execute(
            select(*columns)
            .outerjoin(detail, detail.member_id == member.member_id)
            .where(member.member_id.in_(wanted[at : at + 1000]))
        )
        for row in rows:
            address = None
            for place in (row[4:8], row[9:13]):
                if all(place):
                    address = tuple(place)
                    break
            found[row[0]] = BilledMember(
                row[0], row[1], row[2], row[3], address,  # type: ignore[arg-type]
                row[8],
            )  # fmt: skip
    return found


# Exports ----------------------------------------------------------------------------------


def not_exported(
    session: Session, period: str, fmt: str, plans: Iterable[str] | None = None
) -> list[StoredClaim]:
    """The period's claims (of these plans, or all) never written in this format, oldest
    first."""
    done = select(models.ClaimExport.claim_id).where(models.ClaimExport.format == fmt)
    query = select(models.Claim).where(models.Claim.period == period, models.Claim.id.not_in(done))
    if plans is not None:
        query = query.where(models.Claim.plan.in_(sorted(set(plans))))
    return [as_stored_claim(row) for row in session.scalars(query.order_by(models.Claim.id))]


def not_exported_ids(
    session: Session, period: str, fmt: str, plans: Iterable[str] | None = None
) -> list[int]:
    """:func:`not_exported`, the claim ids only: the export reads the claims a few thousand
    at a time."""
    done = select(models.ClaimExport.claim_id).where(models.ClaimExport.format == fmt)
    claim = models.Claim
    query = select(claim.id).where(claim.period == period, claim.id.not_in(done))
    if plans is not None:
        query = query.where(claim.plan.in_(sorted(set(plans))))
    return list(session.scalars(query.order_by(claim.id)))


def claims_by_ids(session: Session, claim_ids: Sequence[int]) -> list[StoredClaim]:
    """These claims (a few thousand at most), oldest first, read as plain rows."""
    claim = models.Claim
    columns = [getattr(claim, field.name) for field in fields(StoredClaim)]
    rows = session.execute(select(*columns).where(claim.id.in_(claim_ids)).order_by(claim.id))
    return [StoredClaim(*row) for row in rows]


def exported_formats(session: Session, claim_id: int) -> tuple[str, ...]:
    formats = session.scalars(
        select(models.ClaimExport.format).where(models.ClaimExport.claim_id == claim_id)
    )
    return tuple(sorted(set(formats)))


def exported_formats_of(session: Session, claim_ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
    """:func:`exported_formats` of many claims, one query per thousand claims."""
    found: dict[int, set[str]] = {}
    wanted = sorted(set(claim_ids))
    export = models.ClaimExport
    for at in range(0, len(wanted), 1000):
        rows = session.execute(
            select(export.claim_id, export.format).where(
                export.claim_id.in_(wanted[at : at + 1000])
            )
        )
        for claim_id, fmt in rows:
            found.setdefault(claim_id, set()).add(fmt)
    return {claim_id: tuple(sorted(formats)) for claim_id, formats in found.items()}


def record_exports(
    session: Session,
    claim_ids: Iterable[int],
    *,
    fmt: str,
    file_name: str,
    interchange: int | None,
    at: datetime,
    actor: str,
    group: int | None = None,
    transaction: int | None = None,
) -> None:
    """Record the claims as written to this file, by the bulk writer (a month's claims)."""
    from ecmbill.store.bulk import insert_rows

    insert_rows(
        session,
        cast(Table, models.ClaimExport.__table__),
        (
            {
                "claim_id": claim_id,
                "format": fmt,
                "file_name": file_name,
                "interchange_control_number": interchange,
                "group_control_number": group,
                "transaction_control_number": transaction,
                "exported_at": at,
                "actor": actor,
            }
            for claim_id in claim_ids
        ),
    )


def record_trail(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """Audit records (``audit.audit_row``) of many claims, by the bulk writer, in order."""
    from ecmbill.store.bulk import insert_rows

    insert_rows(session, cast(Table, models.AuditRecord.__table__), rows)


def export_batch_recorded(session: Session, batch: str) -> bool:
    """Whether an export with this batch token was committed (its audit records carry it)."""
    record = models.AuditRecord
    found = session.scalar(
        select(record.id)
        .where(
            record.entity == "claim",
            record.action == "export",
            record.after.like(f'%"batch": "{batch}"%'),
        )
        .limit(1)
    )
    return found is not None


def last_sent(session: Session) -> dict[int, datetime]:
    """When each exported claim was first written to a file (newest first, so the oldest
    export of a claim is the one that stays)."""
    return dict(
        (claim_id, moment)
        for claim_id, moment in session.execute(
            select(models.ClaimExport.claim_id, models.ClaimExport.exported_at).order_by(
                models.ClaimExport.exported_at.desc()
            )
        )
    )


# Claims of a close, written in batches ----------------------------------------------------


@dataclass(frozen=True)
class NewClaim:
    """A claim the close makes, before it has its row id."""

    period: str
    member_id: str
    billing_npi: str
    frequency: str
    status: str
    patient_control_number: str
    corrects_claim_id: int | None
    original_reference: str | None
    diagnosis_code: str
    place_of_service: str
    close_id: int
    created_at: datetime
    lines: list[ChargeLine]
    plan: str = DEFAULT_PLAN


def reserve_numbers(session: Session, name: str, count: int) -> int:
    """The first of ``count`` consecutive values of the counter, taken in one statement: the
    same numbers ``count`` calls of ``next_number`` would have given, with the same lock."""
    session.execute(
        update(models.ControlCounter)
        .where(models.ControlCounter.name == name)
        .values(value=models.ControlCounter.value + count)
    )
    value = session.scalar(
        select(models.ControlCounter.value).where(models.ControlCounter.name == name)
    )
    if value is None:
        raise RuntimeError(f"control counter {name!r} is missing (migration 0002 not applied?)")
    return value - count + 1


def add_claims(session: Session, claims: list[NewClaim]) -> list[StoredClaim]:
    """New claims with their lines (numbered from 1; a claim's total is the sum of their
    charges), as ``add_claim`` writes them one by one, written in a few statements: the claims
    by one multi-row insert that returns their ids in order (on PostgreSQL: ids from the
    sequence, rows by the bulk writer), the lines by the bulk writer."""
    if not claims:
        return []
    from ecmbill.store.bulk import insert_rows  # the close's writer; bulk imports models only

    totals = [sum((line.charge for line in claim.lines), Decimal("0.00")) for claim in claims]
    rows = [
        {
            "period": claim.period,
            "member_id": claim.member_id,
            "billing_npi": claim.billing_npi,
            "frequency": claim.frequency,
            "status": claim.status,
            "patient_control_number": claim.patient_control_number,
            "payer_claim_control_number": None,
            "corrects_claim_id": claim.corrects_claim_id,
            "original_reference": claim.original_reference,
            "total_charge": total,
            "diagnosis_code": claim.diagnosis_code,
            "place_of_service": claim.place_of_service,
            "close_id": claim.close_id,
            "created_at": claim.created_at,
            "plan": claim.plan,
        }
        for claim, total in zip(claims, totals, strict=True)
    ]
    session.flush()
    table = cast(Table, models.Claim.__table__)
    if session.get_bind().dialect.name == "postgresql":
        # The ids taken from the sequence in one statement, the rows written by COPY: a
        # multi-row insert returning its ids in order took three quarters of a large close.
        ids = sorted(
            session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence('claims', 'id')) "
                    "FROM generate_series(1, :count)"
                ),
                {"count": len(rows)},
            )
        )
        insert_rows(
            session, table, ({"id": id_, **row} for id_, row in zip(ids, rows, strict=True))
        )
    else:
        ids = list(
            session.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
            ).scalars()
        )
    insert_rows(
        session,
        cast(Table, models.ClaimLineRecord.__table__),
        (
            {
                "claim_id": claim_id,
                "line_number": number,
                "kind": line.kind.value,
                "code": line.code,
                "modifiers": " ".join(line.modifiers),
                "units": line.units,
                "charge": line.charge,
                "first_date": line.first_date,
                "last_date": line.last_date,
                "minutes": line.minutes,
                "source_ids": json.dumps(list(line.source_ids)),
                "rendering_npi": line.rendering_npi,
            }
            for claim_id, claim in zip(ids, claims, strict=True)
            for number, line in enumerate(claim.lines, start=1)
        ),
    )
    return [
        StoredClaim(
            id=claim_id,
            period=claim.period,
            member_id=claim.member_id,
            billing_npi=claim.billing_npi,
            frequency=claim.frequency,
            status=claim.status,
            patient_control_number=claim.patient_control_number,
            payer_claim_control_number=None,
            corrects_claim_id=claim.corrects_claim_id,
            original_reference=claim.original_reference,
            total_charge=total,
            diagnosis_code=claim.diagnosis_code,
            place_of_service=claim.place_of_service,
            created_at=claim.created_at,
            plan=claim.plan,
        )
        for claim_id, claim, total in zip(ids, claims, totals, strict=True)
    ]
