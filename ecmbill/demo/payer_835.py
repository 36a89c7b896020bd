"""A simulated payer's 835 for the demo: what a health plan might answer to our claims.

Deterministic, so the demo tells the same story every time: the first claim is not answered,
the second is partly paid (contractual reduction), every twelfth is denied with a realistic
reason, every seventeenth has one line denied for too many units, the rest are paid in full.
An office billing several plans gets one 835 per payer, each from that payer (its name, and
its payer id in REF*2U) answering its own plans' claims; the story runs over the month's
claims in order, whichever payer answers them. Only for ``ecmbill demo``; tests read
hand-written 835s instead.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from ecmbill.claims.settings import ProviderSettings
from ecmbill.claims.views import ClaimView, list_claims
from ecmbill.claims.x12 import clean, money
from ecmbill.domain.period import Period
from ecmbill.store.db import Engine
from ecmbill.store.files import write_atomically

DENIALS = (("177", "N30"), ("16", "M51"), ("27", None), ("18", None))


def payer_835(
    claims: Sequence[ClaimView],
    settings: ProviderSettings,
    created: datetime,
    trace: str,
    *,
    numbers: Sequence[int] | None = None,
    payer_ref: bool = False,
) -> str:
    """The payer's answer to ``claims``; ``numbers`` are their places in the month's story
    (default: 0, 1, 2, ... in the order given). ``payer_ref``: the payer also names itself by
    its payer id (REF*2U), not only by its name."""
    body: list[str] = []
    total = Decimal("0.00")
    places = range(len(claims)) if numbers is None else numbers
    for index, claim in zip(places, claims, strict=True):
        if index == 0:
            continue  # never answered: shows in the ageing
        lines: list[str] = []
        claim_paid = Decimal("0.00")
        denied = index % 12 == 2
        reason, remark = DENIALS[(index // 12) % len(DENIALS)]
        for number, line in enumerate(claim.lines):
            composite = ":".join(("HC", line.code, *line.modifiers))
            if denied or (index % 17 == 3 and number == 0 and len(claim.lines) > 1):
                paid = Decimal("0.00")
                adjustment = ("CO", reason if denied else "151", line.charge)
            elif index == 1 and number == 0:
                paid = (line.charge * Decimal("0.8")).quantize(Decimal("0.01"))
                adjustment = ("CO", "45", line.charge - paid)
            else:
                paid, adjustment = line.charge, None
            claim_paid += paid
            lines.append(f"SVC*{composite}*{money(line.charge)}*{money(paid)}**{line.units}")
            if line.first_date == line.last_date:
                lines.append(f"DTM*472*{line.first_date:%Y%m%d}")
            else:
                lines.append(f"DTM*150*{line.first_date:%Y%m%d}")
                lines.append(f"DTM*151*{line.last_date:%Y%m%d}")
            if adjustment:
                lines.append(f"CAS*{adjustment[0]}*{adjustment[1]}*{money(adjustment[2])}")
                if denied and remark:
                    lines.append(f"LQ*HE*{remark}")
        charge = sum((line.charge for line in claim.lines), Decimal("0.00"))
        status = "4" if denied else "1"
        body.append(
            f"CLP*{claim.patient_control_number}*{status}*{money(charge)}*{money(claim_paid)}"
            f"**MC*DEMO{claim.patient_control_number[-9:]}"
        )
        body.append(f"NM1*QC*1*DEMO*MEMBER****MI*{claim.member_id}")
        body.extend(lines)
        total += claim_paid
    body = ["LX*1", *body] if body else []
    payer_id = "1" + settings.billing_ein[:9]
    header = [
        f"BPR*I*{money(total)}*C*CHK************{created:%Y%m%d}",
        f"TRN*1*{trace}*{payer_id}",
        f"N1*PR*{clean(settings.payer_name)}",
        "N3*1 EXAMPLE PLAZA",
        f"N4*OAKLAND*CA*{settings.billing_zip[:5]}",
        *([f"REF*2U*{settings.payer_id}"] if payer_ref else []),
        "PER*BL*PROVIDER SERVICES*TE*5555550199",
        f"N1*PE*{clean(settings.billing_name)}*XX*{settings.billing_npi}",
    ]
    transaction = ["ST*835*0001", *header, *body]
    transaction.append(f"SE*{len(transaction) + 1}*0001")
    stamp = f"{created:%y%m%d}*{created:%H%M}"
    segments = [
        f"ISA*00*          *00*          *ZZ*{settings.receiver_id.ljust(15)}*ZZ*"
        f"{settings.submitter_id.ljust(15)}*{stamp}*^*00501*000000001*0*T*:",
        f"GS*HP*{settings.receiver_id}*{settings.submitter_id}*{created:%Y%m%d}*{created:%H%M}"
        "*1*X*005010X221A1",
        *transaction,
        "GE*1*1",
        "IEA*1*000000001",
    ]
    return "".join(f"{segment}~\n" for segment in segments)


def write_simulated_835(
    engine: Engine,
    period: Period,
    settings: ProviderSettings,
    out: Path,
    created: datetime,
    *,
    plans: Collection[str] | None = None,
) -> None:
    """The payer's 835 for the period's active claims: of ``plans`` only (the plans whose
    payer ``settings`` names; its trace then names the payer), or of every plan."""
    claims = [claim for claim in list_claims(engine, period) if claim.status == "active"]
    numbers = [n for n, claim in enumerate(claims) if plans is None or claim.plan in plans]
    trace = f"DEMO-{period}" if plans is None else f"DEMO-{period}-{settings.payer_id}"
    text = payer_835(
        [claims[n] for n in numbers], settings, created, trace, numbers=numbers,
        payer_ref=plans is not None,
    )  # fmt: skip
    write_atomically(out, lambda path: path.write_text(text, encoding="ascii"))
