"""Closing a period into claims, correcting them, and writing them out: what the shells call.

The rules live in ``ecmbill.domain.claims`` (claim building, the correction rule, timely
filing) and ``ecmbill.claims.x12`` / ``invoice`` (file formats); this module reads and writes
the store around them, one transaction per command.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from ecmbill.claims import invoice
from ecmbill.claims.settings import (
    FIELDS,
    PREFIX,
    ProviderSettings,
    SettingsError,
    check_one,
    parse_settings,
    settings_from_toml,
)
from ecmbill.claims.x12 import ControlNumbers, OutgoingClaim, Subscriber, write_837p
from ecmbill.contract import Contract
from ecmbill.domain.claims import (
    Action,
    ChargeLine,
    Claimed,
    FilingWarning,
    Frequency,
    billed_lines,
    build_claims,
    plan_corrections,
    timely_filing,
)
from ecmbill.domain.period import Period
from ecmbill.domain.vocabulary import Kind, Source
from ecmbill.rating.service import rate
from ecmbill.store import audit, models
from ecmbill.store.db import serialise, unit_of_work
from ecmbill.store.files import write_atomically

Format = Literal["837p", "csv", "xlsx"]
FORMATS: tuple[str, ...] = ("837p", "csv", "xlsx")


class NothingToExport(Exception):
    """No claim of the period is waiting to be written in this format."""


class PeriodNotOver(Exception):
    """The period has not ended yet: it cannot be closed."""


# Settings ---------------------------------------------------------------------------------


def stored_settings(session: Session) -> dict[str, str]:
    rows = session.scalars(select(models.Setting).where(models.Setting.key.startswith(PREFIX)))
    return {row.key.removeprefix(PREFIX): row.value for row in rows}


def provider_settings(engine: Engine) -> ProviderSettings:
    """The complete, valid settings; ``SettingsError`` names every missing or bad field."""
    with unit_of_work(engine) as session:
        values = stored_settings(session)
    return parse_settings(values)


def settings_problems(engine: Engine) -> list[str]:
    try:
        provider_settings(engine)
    except SettingsError as err:
        return err.problems
    return []


def show_settings(engine: Engine) -> dict[str, str | None]:
    with unit_of_work(engine) as session:
        values = stored_settings(session)
    return {name: values.get(name) for name in FIELDS}


def set_settings(engine: Engine, values: dict[str, str], actor: str) -> list[str]:
    """Check every value on its own, then store them all or none. Returns the changed keys."""
    problems: list[str] = []
    checked: dict[str, str] = {}
    for key, value in values.items():
        try:
            checked[key] = check_one(key, value)
        except SettingsError as err:
            problems.extend(err.problems)
    if problems:
        raise SettingsError(problems)
    changed = []
    with unit_of_work(engine) as session:
        trail = []
        now = audit.now()
        for key, value in checked.items():
            stored = session.get(models.Setting, PREFIX + key)
            if stored is not None and stored.value == value:
                continue
            trail.append(
                audit.audit_row(
                    actor=actor,
                    at=now,
                    action="update" if stored else "create",
                    entity="settings",
                    key=PREFIX + key,
                    before={"value": stored.value} if stored else None,
                    after={"value": value},
                )
            )
            if stored is None:
                session.add(models.Setting(key=PREFIX + key, value=value))
            else:
                stored.value = value
            changed.append(key)
        audit.record(session, trail)
    return changed


def load_settings_file(engine: Engine, path: Path, actor: str) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise SettingsError([f"{path}: cannot read the settings file ({err.strerror})"]) from None
    return set_settings(engine, settings_from_toml(text, str(path)), actor)


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


# Close ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedClaim:
    claim_id: int
    patient_control_number: str
    member_id: str
    action: Action
    total_charge: Decimal
    lines: int


@dataclass
class CloseResult:
    period: str
    created: list[CreatedClaim] = field(default_factory=list)
    unchanged: int = 0
    warnings: tuple[FilingWarning, ...] = ()
    first_closed_at: datetime | None = None
    changed_after_close: list[str] = field(default_factory=list)

    def count(self, action: Action) -> int:
        return sum(1 for claim in self.created if claim.action is action)


def close_period(
    engine: Engine, period: Period, contract: Contract, *, actor: str, today: date
) -> CloseResult:
    """Rate the period and claim it: originals for members never claimed, replacements for
    members whose lines changed, voids for members with nothing billable left. Settings are
    checked first; nothing is written when they are incomplete, nor for a period that has
    not ended yet."""
    if period.end >= today:
        raise PeriodNotOver(f"{period} has not ended yet: close it after its last day")
    settings = provider_settings(engine)
    rating = rate(engine, period, contract)
    result = CloseResult(period=str(period))
    with unit_of_work(engine) as session:
        # Two closes of one period at once would both see "never claimed" and both create
        # originals: the second waits here and then sees the first one's claims.
        serialise(session, f"ecmbill-close-{period}")
        npi_of = _staff_npis(session) if settings.rendering_npi_on_line else None
        drafts = build_claims(rating, contract.rate_for, npi_of)
        latest = _latest_claims(session, str(period))
        claimed = {
            member: Claimed(Frequency(claim.frequency), billed_lines(_charge_lines(session, claim)))
            for member, claim in latest.items()
        }
        decisions = plan_corrections(drafts, claimed)
        first_close = session.scalar(
            select(models.PeriodClose)
            .where(models.PeriodClose.period == str(period))
            .order_by(models.PeriodClose.id)
            .limit(1)
        )
        if first_close is not None:
            result.first_closed_at = first_close.closed_at
            result.changed_after_close = changed_after(session, period, first_close.closed_at)
        todo = [decision for decision in decisions if decision.action is not Action.NOTHING]
        result.unchanged = len(decisions) - len(todo)
        result.warnings = timely_filing(
            [d.draft for d in todo if d.draft is not None and d.action is not Action.VOID],
            today,
            contract.timely_filing_days,
        )
        if not todo and first_close is not None:
            return result
        now = audit.now()
        close = models.PeriodClose(
            period=str(period), closed_at=now, actor=actor, claims_created=len(todo)
        )
        session.add(close)
        session.flush()
        trail: list[dict[str, Any]] = []
        for decision in todo:
            previous = latest.get(decision.member_id)
            if decision.action is Action.VOID:
                assert previous is not None
                lines = _charge_lines(session, previous)
            else:
                assert decision.draft is not None
                lines = list(decision.draft.lines)
            claim = _new_claim(
                session, decision.member_id, str(period), decision.action, lines, previous,
                settings, close.id, now,
            )  # fmt: skip
            if previous is not None and decision.action is not Action.ORIGINAL:
                before = previous.status
                previous.status = "voided" if decision.action is Action.VOID else "replaced"
                trail.append(
                    audit.audit_row(
                        actor=actor, at=now, action="update", entity="claim",
                        key=previous.patient_control_number, before={"status": before},
                        after={"status": previous.status},
                    )
                )  # fmt: skip
            trail.append(
                audit.audit_row(
                    actor=actor, at=now, action="create", entity="claim",
                    key=claim.patient_control_number, before=None,
                    after={
                        "member_id": claim.member_id, "period": claim.period,
                        "frequency": claim.frequency, "total_charge": claim.total_charge,
                        "lines": len(lines), "corrects": previous.patient_control_number
                        if previous is not None and decision.action is not Action.ORIGINAL
                        else None,
                    },
                )
            )  # fmt: skip
            result.created.append(
                CreatedClaim(
                    claim.id, claim.patient_control_number, claim.member_id, decision.action,
                    claim.total_charge, len(lines),
                )
            )  # fmt: skip
        trail.append(
            audit.audit_row(
                actor=actor, at=now, action="create", entity="period_close", key=str(period),
                before=None, after={"claims_created": len(todo)},
            )
        )  # fmt: skip
        audit.record(session, trail)
    return result


def first_close(engine: Engine, period: Period) -> models.PeriodClose | None:
    """The period's first close, or None while it was never closed."""
    with unit_of_work(engine) as session:
        return session.scalar(
            select(models.PeriodClose)
            .where(models.PeriodClose.period == str(period))
            .order_by(models.PeriodClose.id)
            .limit(1)
        )


def unclaimed_changes(engine: Engine, period: Period) -> list[str]:
    """Time and outreach records of the period changed since its latest close: what closing
    again would look at. Empty for a period never closed (everything is still to claim)."""
    with unit_of_work(engine) as session:
        latest = session.scalar(
            select(models.PeriodClose.closed_at)
            .where(models.PeriodClose.period == str(period))
            .order_by(models.PeriodClose.id.desc())
            .limit(1)
        )
        return [] if latest is None else changed_after(session, period, latest)


def _new_claim(
    session: Session,
    member_id: str,
    period: str,
    action: Action,
    lines: list[ChargeLine],
    previous: models.Claim | None,
    settings: ProviderSettings,
    close_id: int,
    now: datetime,
) -> models.Claim:
    corrects = previous if action in (Action.REPLACEMENT, Action.VOID) else None
    claim = models.Claim(
        period=period,
        member_id=member_id,
        billing_npi=settings.billing_npi,
        frequency=action.frequency.value,
        status="void" if action is Action.VOID else "active",
        patient_control_number=f"ECM{next_number(session, 'claim'):09d}",
        corrects_claim_id=corrects.id if corrects else None,
        original_reference=_reference_for(session, corrects) if corrects else None,
        total_charge=sum((line.charge for line in lines), Decimal("0.00")),
        diagnosis_code=settings.diagnosis_code,
        place_of_service=settings.place_of_service,
        close_id=close_id,
        created_at=now,
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
    return claim


def _reference_for(session: Session, corrected: models.Claim) -> str:
    """REF*F8 of a replacement or void: the payer's claim control number from the nearest
    claim in the chain a remittance answered, else our control number of the corrected claim."""
    claim: models.Claim | None = corrected
    while claim is not None:
        if claim.payer_claim_control_number:
            return claim.payer_claim_control_number
        claim = (
            session.get(models.Claim, claim.corrects_claim_id) if claim.corrects_claim_id else None
        )
    return corrected.patient_control_number


def _refresh_reference(session: Session, claim: models.Claim, actor: str, moment: datetime) -> None:
    """A remittance may have brought the payer's claim control number after the close that
    made this replacement or void: the file carries the best reference known when it is
    written, and the claim records what was sent."""
    if claim.corrects_claim_id is None:
        return
    corrected = session.get(models.Claim, claim.corrects_claim_id)
    assert corrected is not None
    reference = _reference_for(session, corrected)
    if reference != claim.original_reference:
        audit.record_change(
            session,
            actor=actor, at=moment, action="update", entity="claim",
                    key=claim.patient_control_number,
                    before={"original_reference": claim.original_reference},
                    after={"original_reference": reference},
        )  # fmt: skip
        claim.original_reference = reference


def _latest_claims(session: Session, period: str) -> dict[str, models.Claim]:
    latest: dict[str, models.Claim] = {}
    for claim in session.scalars(
        select(models.Claim).where(models.Claim.period == period).order_by(models.Claim.id)
    ):
        latest[claim.member_id] = claim
    return latest


def _charge_lines(session: Session, claim: models.Claim) -> list[ChargeLine]:
    rows = session.scalars(
        select(models.ClaimLineRecord)
        .where(models.ClaimLineRecord.claim_id == claim.id)
        .order_by(models.ClaimLineRecord.line_number)
    )
    return [
        ChargeLine(
            kind=Kind(row.kind),
            code=row.code,
            modifiers=tuple(row.modifiers.split()),
            units=row.units,
            charge=Decimal(row.charge).quantize(Decimal("0.01")),
            first_date=row.first_date,
            last_date=row.last_date,
            minutes=row.minutes,
            source_ids=tuple(json.loads(row.source_ids)),
            rendering_npi=row.rendering_npi,
        )
        for row in rows
    ]


def _staff_npis(session: Session) -> dict[tuple[Source, str], str | None]:
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


def changed_after(session: Session, period: Period, closed_at: datetime) -> list[str]:
    """Time entries and outreach attempts of the period created, changed or deleted after the
    period was first closed, read from the audit trail (which records every such change with
    its time), so the flag can never disagree with the history."""
    keys: set[str] = set()
    rows = session.execute(
        select(
            models.AuditRecord.entity,
            models.AuditRecord.entity_key,
            models.AuditRecord.at,
            models.AuditRecord.before,
            models.AuditRecord.after,
        ).where(
            models.AuditRecord.entity.in_(("time", "outreach")),
            models.AuditRecord.at > closed_at,
        )
    )
    for entity, key, at, before, after in rows:
        if _aware(at) <= _aware(closed_at):
            continue
        for values in (before, after):
            day = json.loads(values).get("date") if values else None
            if day and date.fromisoformat(day[:10]) in period:
                keys.add(f"{entity}/{key}")
    return sorted(keys)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything ecmbill stores is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Looking at claims ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimView:
    claim_id: int
    patient_control_number: str
    period: str
    member_id: str
    frequency: str
    status: str
    total_charge: Decimal
    original_reference: str | None
    payer_claim_control_number: str | None
    created_at: datetime
    lines: tuple[ChargeLine, ...]
    exported: tuple[str, ...]


def _view(session: Session, claim: models.Claim) -> ClaimView:
    exports = session.scalars(
        select(models.ClaimExport.format).where(models.ClaimExport.claim_id == claim.id)
    )
    return ClaimView(
        claim_id=claim.id,
        patient_control_number=claim.patient_control_number,
        period=claim.period,
        member_id=claim.member_id,
        frequency=claim.frequency,
        status=claim.status,
        total_charge=Decimal(claim.total_charge).quantize(Decimal("0.01")),
        original_reference=claim.original_reference,
        payer_claim_control_number=claim.payer_claim_control_number,
        created_at=claim.created_at,
        lines=tuple(_charge_lines(session, claim)),
        exported=tuple(sorted(set(exports))),
    )


def find_claim(session: Session, claim_ref: str) -> models.Claim | None:
    """A claim by its patient control number (ECM000000001) or its number (1)."""
    claim = session.scalar(
        select(models.Claim).where(models.Claim.patient_control_number == claim_ref.upper())
    )
    if claim is None and claim_ref.isdigit():
        claim = session.get(models.Claim, int(claim_ref))
    return claim


def claim_history(engine: Engine, claim_ref: str) -> list[ClaimView] | None:
    """The claim and every other claim for its member and period, oldest first: the original,
    its replacements and any void."""
    with unit_of_work(engine) as session:
        claim = find_claim(session, claim_ref)
        if claim is None:
            return None
        chain = session.scalars(
            select(models.Claim)
            .where(models.Claim.period == claim.period, models.Claim.member_id == claim.member_id)
            .order_by(models.Claim.id)
        )
        return [_view(session, item) for item in chain]


def list_claims(engine: Engine, period: Period | None = None) -> list[ClaimView]:
    with unit_of_work(engine) as session:
        query = select(models.Claim).order_by(models.Claim.id)
        if period is not None:
            query = query.where(models.Claim.period == str(period))
        return [_view(session, claim) for claim in session.scalars(query)]


# Export -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    path: Path
    format: str
    claims: int
    lines: int
    total_charge: Decimal
    control: ControlNumbers | None


def export_claims(
    engine: Engine,
    period: Period,
    fmt: str,
    out: Path,
    *,
    actor: str,
    now: datetime | None = None,
) -> ExportResult:
    """Write the period's claims not yet written in this format (originals, replacements,
    voids, oldest first) and record them as exported, in one transaction. The file appears
    complete or not at all; with nothing to write, no file is written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    settings = provider_settings(engine)
    moment = now or audit.now()
    with unit_of_work(engine) as session:
        # Two exports at once would both pick the claims not yet sent and send them twice.
        serialise(session, f"ecmbill-export-{period}-{fmt}")
        done = select(models.ClaimExport.claim_id).where(models.ClaimExport.format == fmt)
        claims = list(
            session.scalars(
                select(models.Claim)
                .where(models.Claim.period == str(period), models.Claim.id.not_in(done))
                .order_by(models.Claim.id)
            )
        )
        if not claims:
            raise NothingToExport(
                f"no claim of {period} is waiting to be written as {fmt}: close the period "
                "first, or every claim was already exported"
            )
        members = {
            member.member_id: member
            for member in session.scalars(
                select(models.Member).where(
                    models.Member.member_id.in_({claim.member_id for claim in claims})
                )
            )
        }
        lines = {claim.id: _charge_lines(session, claim) for claim in claims}
        for claim in claims:
            _refresh_reference(session, claim, actor, moment)
        control = None
        if fmt == "837p":
            control = ControlNumbers(
                interchange=next_number(session, "interchange"),
                group=next_number(session, "group"),
                transaction=next_number(session, "transaction"),
            )
            names = {
                str(npi): name
                for npi, name in session.execute(
                    select(models.Staff.npi, models.Staff.name).where(models.Staff.npi.is_not(None))
                )
            }
            outgoing = [
                OutgoingClaim(
                    patient_control_number=claim.patient_control_number,
                    frequency=Frequency(claim.frequency),
                    original_reference=claim.original_reference,
                    subscriber=_subscriber(members[claim.member_id]),
                    diagnosis_code=claim.diagnosis_code,
                    place_of_service=claim.place_of_service,
                    lines=tuple(lines[claim.id]),
                )
                for claim in claims
            ]
            text = write_837p(settings, outgoing, control, moment, names)
            write_atomically(out, lambda path: path.write_text(text, encoding="ascii"))
        else:
            rows = list(_invoice_rows(claims, members, lines))
            (invoice.write_csv if fmt == "csv" else invoice.write_xlsx)(rows, out)
        session.add_all(
            models.ClaimExport(
                claim_id=claim.id,
                format=fmt,
                file_name=out.name,
                interchange_control_number=control.interchange if control else None,
                exported_at=moment,
                actor=actor,
            )
            for claim in claims
        )
        audit.record(
            session,
            [
                audit.audit_row(
                    actor=actor, at=moment, action="export", entity="claim",
                    key=claim.patient_control_number, before=None,
                    after={"format": fmt, "file": out.name,
                           "interchange": control.interchange if control else None},
                )
                for claim in claims
            ],
        )  # fmt: skip
        return ExportResult(
            path=out,
            format=fmt,
            claims=len(claims),
            lines=sum(len(items) for items in lines.values()),
            total_charge=sum(
                (Decimal(claim.total_charge) for claim in claims), Decimal("0.00")
            ).quantize(Decimal("0.01")),
            control=control,
        )


def _subscriber(member: models.Member) -> Subscriber:
    return Subscriber(member.member_id, member.first_name, member.last_name, member.birth_date)


def _invoice_rows(
    claims: Iterable[models.Claim],
    members: dict[str, models.Member],
    lines: dict[int, list[ChargeLine]],
) -> Iterable[invoice.InvoiceRow]:
    for claim in claims:
        member = members[claim.member_id]
        for line in lines[claim.id]:
            yield invoice.InvoiceRow(
                member_id=member.member_id,
                member_name=f"{member.last_name}, {member.first_name}",
                birth_date=member.birth_date,
                service_from=line.first_date,
                service_to=line.last_date,
                hcpcs_code=line.code,
                modifiers=" ".join(line.modifiers),
                units=line.units,
                charge=line.charge,
                billing_npi=claim.billing_npi,
                rendering_npi=line.rendering_npi or "",
                place_of_service=claim.place_of_service,
                claim_frequency=claim.frequency,
                original_claim_reference=claim.original_reference or "",
                patient_control_number=claim.patient_control_number,
            )
