"""Looking at claims: one claim's history, the claims of a period, each with its lines and
the formats it was written in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ecmbill.domain.claims import ChargeLine
from ecmbill.domain.period import Period
from ecmbill.store import claims as stored
from ecmbill.store.claims import StoredClaim
from ecmbill.store.db import Engine, Session, unit_of_work


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


def _view(session: Session, claim: StoredClaim) -> ClaimView:
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
        lines=tuple(stored.charge_lines(session, claim.id)),
        exported=stored.exported_formats(session, claim.id),
    )


def claim_history(engine: Engine, claim_ref: str) -> list[ClaimView] | None:
    """The claim and every other claim for its member and period, oldest first: the original,
    its replacements and any void. ``claim_ref`` is a patient control number (ECM000000001)
    or a claim's number (1)."""
    with unit_of_work(engine) as session:
        claim = stored.find_claim(session, claim_ref)
        if claim is None:
            return None
        chain = stored.claims_of(session, claim.period, member_id=claim.member_id)
        return [_view(session, item) for item in chain]


def list_claims(engine: Engine, period: Period | None = None) -> list[ClaimView]:
    with unit_of_work(engine) as session:
        claims = stored.claims_of(session, str(period) if period is not None else None)
        return [_view(session, claim) for claim in claims]
