"""Writing a period's claims out, as an 837P or an invoice, and recording what was sent.

The file formats live in ``ecmbill.claims.x12`` and ``ecmbill.claims.invoice``.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

from ecmbill.claims import history, invoice
from ecmbill.claims.settings import ProviderSettings, provider_settings
from ecmbill.claims.x12 import Address, ControlNumbers, OutgoingClaim, Subscriber, write_837p
from ecmbill.domain.claims import ChargeLine, Frequency
from ecmbill.domain.period import Period
from ecmbill.store import audit
from ecmbill.store import claims as stored
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


def export_claims(
    engine: Engine,
    period: Period,
    fmt: str,
    out: Path,
    *,
    actor: str,
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

    ``progress(step, done, total)`` is told what the export is doing (a total of 0: unknown)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    recover_exports(engine, out.parent)
    settings = provider_settings(engine)
    moment = now or audit.now()
    batch = secrets.token_hex(8)
    pending = out.with_name(f"{PENDING_PREFIX}{batch}.{out.name}")
    try:
        result = _export(
            engine, period, fmt, out, pending, batch, actor, settings, moment,
            progress or (lambda _step, _done, _total: None),
        )  # fmt: skip
    except BaseException:
        pending.unlink(missing_ok=True)
        raise
    os.replace(pending, out)
    return result


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
) -> ExportResult:
    name = "837P" if fmt == "837p" else f"invoice ({fmt})"
    with unit_of_work(engine) as session:
        tell(f"reading the claims for the {name}", 0, 0)
        # Two exports at once would both pick the claims not yet sent and send them twice.
        serialise(session, f"ecmbill-export-{period}-{fmt}")
        claims = stored.not_exported(session, str(period), fmt)
        if not claims:
            raise NothingToExport(
                f"no claim of {period} is waiting to be written as {fmt}: close the period "
                "first, or every claim was already exported"
            )
        members = stored.billed_members(session, (claim.member_id for claim in claims))
        found = stored.charge_lines_of(session, (claim.id for claim in claims))
        lines = {claim.id: found.get(claim.id, []) for claim in claims}
        claims = [_refresh_reference(session, claim, actor, moment) for claim in claims]
        control = None
        if fmt == "837p":
            control = ControlNumbers(
                interchange=stored.next_number(session, "interchange"),
                group=stored.next_number(session, "group"),
                transaction=stored.next_number(session, "transaction"),
            )
            names = stored.staff_names(session)
            tell(f"writing the {name}", 0, len(claims))
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
            tell(f"writing the {name}", len(claims), len(claims))
            write_atomically(pending, lambda path: path.write_text(text, encoding="ascii"))
        else:
            tell(f"writing the {name}", 0, len(claims))
            rows = list(_invoice_rows(claims, members, lines))
            (invoice.write_csv if fmt == "csv" else invoice.write_xlsx)(rows, pending)
        tell(f"recording the {name} as sent", 0, 0)
        # Kept with the claims it sends, in one transaction: the history holds every file
        # that was recorded as sent, and no file that was not.
        history.keep(
            session, kind=fmt, period=period, path=pending, actor=actor, records=len(claims),
            at=moment, name=out.name,
        )  # fmt: skip
        stored.record_exports(
            session,
            (claim.id for claim in claims),
            fmt=fmt,
            file_name=out.name,
            interchange=control.interchange if control else None,
            at=moment,
            actor=actor,
            group=control.group if control else None,
            transaction=control.transaction if control else None,
        )
        audit.record(
            session,
            [
                audit.audit_row(
                    actor=actor, at=moment, action="export", entity="claim",
                    key=claim.patient_control_number, before=None,
                    after={"format": fmt, "file": out.name, "batch": batch,
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
