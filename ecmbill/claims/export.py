"""Writing a period's claims out, as an 837P or an invoice, and recording what was sent.

The file formats live in ``ecmbill.claims.x12`` and ``ecmbill.claims.invoice``.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

from ecmbill.claims import history, invoice
from ecmbill.claims.settings import ProviderSettings, plan_settings, provider_settings
from ecmbill.claims.x12 import Address, ControlNumbers, OutgoingClaim, Subscriber, Writer837P
from ecmbill.domain.claims import ChargeLine, Frequency
from ecmbill.domain.period import Period
from ecmbill.store import audit
from ecmbill.store import claims as stored
from ecmbill.store import plans as stored_plans
from ecmbill.store.claims import BilledMember, StoredClaim
from ecmbill.store.db import Engine, Session, serialise, unit_of_work
from ecmbill.store.files import write_atomically

Format = Literal["837p", "csv", "xlsx"]
FORMATS: tuple[str, ...] = ("837p", "csv", "xlsx")


class NothingToExport(Exception):
    """No claim of the period is waiting to be written in this format."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    format: str
    claims: int
    lines: int
    total_charge: Decimal
    control: ControlNumbers | None
    # The plans whose claims the file holds, and their payer (one file, one payer).
    plans: tuple[str, ...] = ()
    payer_id: str | None = None


@dataclass(frozen=True)
class PayerGroup:
    """Plans billed to one payer through one exchange: their claims may share a file."""

    settings: ProviderSettings
    plans: tuple[str, ...]


def payer_groups(engine: Engine, plans: Iterable[str] | None = None) -> list[PayerGroup]:
    """The plans (these, or all) grouped by their payer settings, in plan order. Claims of
    different payers never share a file; plans with one payer, receiver and sender do.
    ``SettingsError`` names every missing or bad setting of a plan asked for."""
    every = all_plan_settings_of(engine, plans)
    groups: dict[str, list[str]] = {}
    settings: dict[str, ProviderSettings] = {}
    for key, found in every.items():
        payer = found.model_dump_json()
        groups.setdefault(payer, []).append(key)
        settings[payer] = found
    return [PayerGroup(settings[payer], tuple(keys)) for payer, keys in groups.items()]


def all_plan_settings_of(
    engine: Engine, plans: Iterable[str] | None
) -> dict[str, ProviderSettings]:
    with unit_of_work(engine) as session:
        keys = [plan.key for plan in stored_plans.plans(session)]
    wanted = keys if plans is None else [key for key in keys if key in set(plans)]
    unknown = sorted(set(plans or ()) - set(keys))
    if unknown:
        raise ValueError(f"no plan {', '.join(unknown)}: the plans are {', '.join(keys)}")
    return {key: plan_settings(engine, key) for key in wanted}


def several_plans(engine: Engine) -> bool:
    with unit_of_work(engine) as session:
        return len(stored_plans.plans(session)) > 1


def export_per_payer(
    engine: Engine,
    period: Period,
    fmt: str,
    out: Path,
    *,
    actor: str,
    plan: str | None = None,
    now: datetime | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[ExportResult]:
    """One file per payer of the period's claims not yet written in this format (of one
    plan, or of every plan), each as :func:`export_claims` writes it. An office with one plan
    gets ``out`` as always; with several, each file is named after ``out`` with its plans and
    payer id (``october-default-PAYERA.837``). Payers with nothing waiting get no file;
    ``NothingToExport`` when no payer has anything."""
    if not several_plans(engine):
        if plan is not None:
            all_plan_settings_of(engine, [plan])  # an unknown plan is named
        return [export_claims(engine, period, fmt, out, actor=actor, now=now, progress=progress)]
    made: list[ExportResult] = []
    for group in payer_groups(engine, None if plan is None else [plan]):
        name = f"{out.stem}-{'+'.join(group.plans)}-{group.settings.payer_id}{out.suffix}"
        try:
            made.append(
                export_claims(
                    engine, period, fmt, out.with_name(name), actor=actor, plans=group.plans,
                    now=now, progress=progress,
                )
            )  # fmt: skip
        except NothingToExport:
            continue
    if not made:
        raise NothingToExport(
            f"no claim of {period}{f' for plan {plan}' if plan else ''} is waiting to be "
            f"written as {fmt}: close the period first, or every claim was already exported"
        )
    return made


def export_claims(
    engine: Engine,
    period: Period,
    fmt: str,
    out: Path,
    *,
    actor: str,
    plans: Iterable[str] | None = None,
    now: datetime | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> ExportResult:
    """Write the period's claims not yet written in this format (originals, replacements,
    voids, oldest first) and record them as exported. The file appears complete or not at
    all; with nothing to write, no file is written.

    The order makes a crash at any point neither lose nor repeat a claim: the file is first
    written complete under a hidden pending name beside ``out``, then the export is recorded
    (committed), and only then is the pending file renamed to ``out``. An export interrupted
    before its commit leaves a pending file and no record: the next export into the folder
    deletes it and writes those claims again. One interrupted after its commit leaves a
    pending file with a record: the next export into the folder finishes the rename.

    ``progress(step, done, total)`` is told what the export is doing (a total of 0: unknown).

    An office billing several plans gets one payer's claims per file: those of ``plans``
    (which must share one payer), or else of the first payer in plan order with claims
    waiting; :func:`export_per_payer` writes every payer's file."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    recover_exports(engine, out.parent)
    groups: list[PayerGroup] | None = None
    if several_plans(engine):
        groups = payer_groups(engine, plans)
        if plans is not None and len(groups) > 1:
            raise ValueError(
                "these plans have different payers, and one file holds one payer's claims: "
                + "; ".join(f"{', '.join(g.plans)}: {g.settings.payer_id}" for g in groups)
            )
        settings = groups[0].settings
    else:
        settings = provider_settings(engine)
    moment = now or audit.now()
    batch = secrets.token_hex(8)
    pending = out.with_name(f"{PENDING_PREFIX}{batch}.{out.name}")
    try:
        result = _export(
            engine, period, fmt, out, pending, batch, actor, settings, moment,
            progress or (lambda _step, _done, _total: None), groups,
        )  # fmt: skip
    except BaseException:
        pending.unlink(missing_ok=True)
        raise
    os.replace(pending, out)
    return result


# Claims read (with their members and lines) and written per step: a month of claims is
# never held whole, as objects or as text.
CLAIMS_PER_READ = 2000


@dataclass
class _Sent:
    """What the file holds, gathered as the claims are written."""

    claims: list[tuple[int, str]] = dataclasses.field(default_factory=list)  # id, control number
    lines: int = 0
    total: Decimal = Decimal("0.00")
    plans: set[str] = dataclasses.field(default_factory=set)


def _export(
    engine: Engine,
    period: Period,
    fmt: str,
    out: Path,
    pending: Path,
    batch: str,
    actor: str,
    settings: ProviderSettings,
    moment: datetime,
    tell: Callable[[str, int, int], None],
    groups: list[PayerGroup] | None,
) -> ExportResult:
    name = "837P" if fmt == "837p" else f"invoice ({fmt})"
    with unit_of_work(engine) as session:
        tell(f"reading the claims for the {name}", 0, 0)
        # Two exports at once would both pick the claims not yet sent and send them twice.
        serialise(session, f"ecmbill-export-{period}-{fmt}")
        sent_plans: tuple[str, ...] = ()
        if groups is None:
            ids = stored.not_exported_ids(session, str(period), fmt)
        else:
            ids = []
            for group in groups:  # the first payer with claims waiting
                ids = stored.not_exported_ids(session, str(period), fmt, group.plans)
                if ids:
                    settings, sent_plans = group.settings, group.plans
                    break
        if not ids:
            raise NothingToExport(
                f"no claim of {period} is waiting to be written as {fmt}: close the period "
                "first, or every claim was already exported"
            )
        sent = _Sent()

        def chunks() -> Iterator[tuple[list[StoredClaim], dict[str, BilledMember],
                                       dict[int, list[ChargeLine]]]]:  # fmt: skip
            for at in range(0, len(ids), CLAIMS_PER_READ):
                claims = stored.claims_by_ids(session, ids[at : at + CLAIMS_PER_READ])
                members = stored.billed_members(session, (claim.member_id for claim in claims))
                found = stored.charge_lines_of(session, (claim.id for claim in claims))
                lines = {claim.id: found.get(claim.id, []) for claim in claims}
                claims = [_refresh_reference(session, claim, actor, moment) for claim in claims]
                for claim in claims:
                    sent.claims.append((claim.id, claim.patient_control_number))
                    sent.lines += len(lines[claim.id])
                    sent.total += Decimal(claim.total_charge)
                    sent.plans.add(claim.plan)
                yield claims, members, lines
                tell(f"writing the {name}", len(sent.claims), len(ids))

        control = None
        tell(f"writing the {name}", 0, len(ids))
        if fmt == "837p":
            control = ControlNumbers(
                interchange=stored.next_number(session, "interchange"),
                group=stored.next_number(session, "group"),
                transaction=stored.next_number(session, "transaction"),
            )
            names = stored.staff_names(session)
            numbers = control

            def write_837(path: Path) -> None:
                with path.open("w", encoding="ascii") as handle:
                    writer = Writer837P(handle, settings, numbers, moment, names)
                    for claims, members, lines in chunks():
                        writer.add(_outgoing(claims, members, lines))
                    writer.finish()

            write_atomically(pending, write_837)
        else:
            rows = [
                row
                for claims, members, lines in chunks()
                for row in _invoice_rows(claims, members, lines)
            ]
            (invoice.write_csv if fmt == "csv" else invoice.write_xlsx)(rows, pending)
        tell(f"recording the {name} as sent", 0, 0)
        # Kept with the claims it sends, in one transaction: the history holds every file
        # that was recorded as sent, and no file that was not.
        history.keep(
            session, kind=fmt, period=period, path=pending, actor=actor, records=len(sent.claims),
            at=moment, name=out.name,
        )  # fmt: skip
        stored.record_exports(
            session,
            (claim_id for claim_id, _ in sent.claims),
            fmt=fmt,
            file_name=out.name,
            interchange=control.interchange if control else None,
            at=moment,
            actor=actor,
            group=control.group if control else None,
            transaction=control.transaction if control else None,
        )
        after = {"format": fmt, "file": out.name, "batch": batch,
                 "interchange": control.interchange if control else None}  # fmt: skip
        stored.record_trail(
            session,
            (
                audit.audit_row(
                    actor=actor, at=moment, action="export", entity="claim", key=number,
                    before=None, after=after,
                )
                for _, number in sent.claims
            ),
        )  # fmt: skip
        return ExportResult(
            path=out,
            format=fmt,
            claims=len(sent.claims),
            lines=sent.lines,
            total_charge=sent.total.quantize(Decimal("0.01")),
            control=control,
            plans=sent_plans or tuple(sorted(sent.plans)),
            payer_id=settings.payer_id,
        )


def _outgoing(
    claims: list[StoredClaim],
    members: dict[str, BilledMember],
    lines: dict[int, list[ChargeLine]],
) -> Iterator[OutgoingClaim]:
    for claim in claims:
        yield OutgoingClaim(
            patient_control_number=claim.patient_control_number,
            frequency=Frequency(claim.frequency),
            original_reference=claim.original_reference,
            subscriber=_subscriber(members[claim.member_id]),
            diagnosis_code=claim.diagnosis_code,
            place_of_service=claim.place_of_service,
            lines=tuple(lines[claim.id]),
        )


PENDING_PREFIX = ".ecmbill-pending-"


def recover_exports(engine: Engine, folder: Path) -> list[Path]:
    """Finish what an interrupted export left in ``folder``: a pending file whose export was
    recorded is renamed to its name (it was not delivered yet), one whose export was not
    recorded is deleted (its claims are still waiting). Returns the files delivered."""
    delivered = []
    for half_written in folder.glob(f".{PENDING_PREFIX}*.tmp"):
        half_written.unlink(missing_ok=True)  # killed while writing the pending file
    for pending in sorted(folder.glob(f"{PENDING_PREFIX}*")):
        batch, _, name = pending.name.removeprefix(PENDING_PREFIX).partition(".")
        if not name:
            continue
        with unit_of_work(engine) as session:
            recorded = stored.export_batch_recorded(session, batch)
        if recorded:
            os.replace(pending, pending.with_name(name))
            delivered.append(pending.with_name(name))
        else:
            pending.unlink(missing_ok=True)
    return delivered


def _refresh_reference(
    session: Session, claim: StoredClaim, actor: str, moment: datetime
) -> StoredClaim:
    """A remittance may have brought the payer's claim control number after the close that
    made this replacement or void: the file carries the best reference known when it is
    written, and the claim records what was sent."""
    if claim.corrects_claim_id is None:
        return claim
    reference = stored.reference_for(session, claim.corrects_claim_id)
    if reference == claim.original_reference:
        return claim
    audit.record_change(
        session,
        actor=actor, at=moment, action="update", entity="claim",
        key=claim.patient_control_number,
        before={"original_reference": claim.original_reference},
        after={"original_reference": reference},
    )  # fmt: skip
    stored.set_original_reference(session, claim.id, reference)
    return dataclasses.replace(claim, original_reference=reference)


def _subscriber(member: BilledMember) -> Subscriber:
    """The member as 2010BA names them: the address when one is on file (a claim without one
    was held back at close unless the contract waives it), the sex as the plan sent it."""
    return Subscriber(
        member.member_id, member.first_name, member.last_name, member.birth_date,
        Address(*member.address) if member.address else None, member.sex or "U",
    )  # fmt: skip


def _invoice_rows(
    claims: Iterable[StoredClaim],
    members: dict[str, BilledMember],
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
