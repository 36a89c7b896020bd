"""The payer's simulated answers for the demo: a 271 to our 270 (a few members lost their
eligibility for the month), a 999 accepting our 837P, and a 277CA accepting most claims and
rejecting a few with realistic status codes. Deterministic, so the demo tells the same story
every time. Only for ``ecmbill demo``; tests read hand-written files instead."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from ecmbill.claims.settings import ProviderSettings, all_plan_settings
from ecmbill.claims.views import ClaimView, list_claims
from ecmbill.claims.x12 import clean, money
from ecmbill.domain.period import Period
from ecmbill.payer.acks import AckOutcome, import_ack
from ecmbill.payer.eligibility import EligibilityOutcome, Request, import_271, request_270
from ecmbill.store.db import Engine
from ecmbill.store.files import write_atomically
from ecmbill.x12.validation import segments

# Every LOST_EVERY-th member asked about has no coverage for the month (EB01 6).
LOST_EVERY = 40
# Every REJECT_EVERY-th claim is rejected: (category, status, entity) as a 277CA says it.
REJECT_EVERY = 20
REJECTIONS = (("A7", "164", "IL"), ("A3", "33", "IL"), ("A7", "187", None))


def _interchange(
    settings: ProviderSettings, functional: str, guide: str, body: list[str], created: datetime,
    control: int,
) -> str:  # fmt: skip
    st = body[0].split("*")[1]
    transaction = [f"ST*{st}*0001*{guide}", *body[1:]]
    transaction.append(f"SE*{len(transaction) + 1}*0001")
    sender, receiver = settings.receiver_id, settings.submitter_id
    lines = [
        f"ISA*00*          *00*          *ZZ*{sender.ljust(15)}*ZZ*{receiver.ljust(15)}*"
        f"{created:%y%m%d}*{created:%H%M}*^*00501*{control:09d}*0*T*:",
        f"GS*{functional}*{sender}*{receiver}*{created:%Y%m%d}*{created:%H%M}*{control}*X*{guide}",
        *transaction,
        f"GE*1*{control}",
        f"IEA*1*{control:09d}",
    ]
    return "".join(f"{line}~\n" for line in lines)


def simulated_271(
    text_270: str, settings: ProviderSettings, created: datetime, *, control: int = 271
) -> str:
    """An answer for every member the 270 asked about: active coverage with the plan, except
    every ``LOST_EVERY``-th, whose coverage is inactive for the month."""
    body = ["ST*271", f"BHT*0022*11*DEMO271*{created:%Y%m%d}*{created:%H%M}", "HL*1**20*1",
            f"NM1*PR*2*{clean(settings.payer_name)}*****PI*{settings.payer_id}", "HL*2*1*21*1",
            f"NM1*1P*2*{clean(settings.billing_name)}*****XX*{settings.billing_npi}"]  # fmt: skip
    hl, asked = 2, 0
    subscriber: dict[str, str] = {}
    for _, seg in segments(text_270):
        seg_id = seg.get_seg_id()
        if seg_id in ("TRN", "NM1", "DMG", "DTP"):
            subscriber[seg_id] = seg.format().rstrip("~")
        if seg_id != "EQ" or not subscriber.get("NM1", "").startswith("NM1*IL"):
            continue
        hl, asked = hl + 1, asked + 1
        body += [f"HL*{hl}*2*22*0", subscriber["TRN"].replace("TRN*1*", "TRN*2*", 1),
                 subscriber["NM1"], subscriber["DMG"], subscriber["DTP"]]  # fmt: skip
        if asked % LOST_EVERY == 0:
            body.append("EB*6*IND*30")
        else:
            body += ["EB*1*IND*30*MC*MEDI-CAL MANAGED CARE", "LS*2120",
                     f"NM1*PRP*2*{clean(settings.payer_name)}*****PI*{settings.payer_id}",
                     "LE*2120"]  # fmt: skip
        subscriber = {}
    return _interchange(settings, "HB", "005010X279A1", body, created, control)


def simulated_999(
    text_837: str, settings: ProviderSettings, created: datetime, *, control: int = 999
) -> str:
    """The 837P's functional group and transaction set, accepted."""
    group = transaction = ""
    for _, seg in segments(text_837):
        if seg.get_seg_id() == "GS":
            group = seg.get_value("GS06")
        elif seg.get_seg_id() == "ST":
            transaction = seg.get_value("ST02")
    body = ["ST*999", f"AK1*HC*{group}*005010X222A1", f"AK2*837*{transaction}*005010X222A1",
            "IK5*A", "AK9*A*1*1*1"]  # fmt: skip
    return _interchange(settings, "FA", "005010X231A1", body, created, control)


def simulated_277ca(
    claims: Sequence[ClaimView],
    settings: ProviderSettings,
    created: datetime,
    *,
    numbers: Sequence[int] | None = None,
    control: int = 277,
) -> str:
    """Each claim accepted into adjudication (A2:20), except every ``REJECT_EVERY``-th of the
    month's story; ``numbers`` are the claims' places in it (default: 0, 1, 2, ...)."""
    day = f"{created:%Y%m%d}"
    total = sum((claim.total_charge for claim in claims), Decimal("0.00"))
    places = list(range(len(claims)) if numbers is None else numbers)
    rejected = [i for i, n in enumerate(places) if n % REJECT_EVERY == REJECT_EVERY // 4]
    body = ["ST*277", f"BHT*0085*08*DEMO277*{day}*{created:%H%M}*TH", "HL*1**20*1",
            f"NM1*PR*2*{clean(settings.payer_name)}*****PI*{settings.payer_id}",
            f"TRN*1*DEMO{day}", f"DTP*050*D8*{day}", f"DTP*009*D8*{day}", "HL*2*1*21*1",
            f"NM1*41*2*{clean(settings.billing_name)}*****46*{settings.submitter_id}",
            "TRN*2*DEMO837", f"STC*A1:19:PR*{day}*WQ*{money(total)}",
            f"QTY*90*{len(claims) - len(rejected)}", f"QTY*AA*{len(rejected)}", "HL*3*2*19*1",
            f"NM1*85*2*{clean(settings.billing_name)}*****XX*{settings.billing_npi}", "TRN*1*0",
            f"STC*A1:19:PR**WQ*{money(total)}"]  # fmt: skip
    for index, claim in enumerate(claims):
        first = min(line.first_date for line in claim.lines)
        last = max(line.last_date for line in claim.lines)
        if index in rejected:
            place = places[index]
            category, status, entity = REJECTIONS[(place // REJECT_EVERY) % len(REJECTIONS)]
            composite = ":".join(part for part in (category, status, entity) if part)
            answer = f"STC*{composite}*{day}*U*{money(claim.total_charge)}"
        else:
            answer = f"STC*A2:20*{day}*WQ*{money(claim.total_charge)}"
        body += [f"HL*{index + 4}*3*PT", f"NM1*QC*1*DEMO*MEMBER****MI*{claim.member_id}",
                 f"TRN*2*{claim.patient_control_number}", answer]  # fmt: skip
        if index not in rejected:
            body.append(f"REF*1K*DEMO{claim.patient_control_number[-9:]}")
        body.append(f"DTP*472*RD8*{first:%Y%m%d}-{last:%Y%m%d}")
    return _interchange(settings, "HN", "005010X214", body, created, control)


@dataclass(frozen=True)
class DemoEligibility:
    plan: str
    request: Request
    outcome: EligibilityOutcome


def demo_eligibility(engine: Engine, period: Period, db: Path) -> list[DemoEligibility]:
    """Each plan's 270 for the month beside the database, its payer's simulated 271, imported:
    the first plan's as demo-270.txt and demo-271.txt, the others' named after their plan
    (demo-270-chp2.txt). Each plan's payer answers for its own members only."""
    found = []
    for number, (plan, settings) in enumerate(all_plan_settings(engine).items()):
        suffix = "" if number == 0 else f"-{plan}"
        request = request_270(
            engine, period, db.with_name(f"demo-270{suffix}.txt"), actor="demo", plan=plan
        )
        answer = db.with_name(f"demo-271{suffix}.txt")
        text = simulated_271(
            request.path.read_text(encoding="ascii"), settings, datetime.now(UTC),
            control=271 + 1000 * number,
        )  # fmt: skip
        write_atomically(answer, _writer(text))
        found.append(DemoEligibility(plan, request, import_271(engine, answer, actor="demo")))
    return found


@dataclass(frozen=True)
class SentFile:
    """An 837P the demo sent, to one payer: ``settings`` are its plans' settings."""

    path: Path
    settings: ProviderSettings
    plans: tuple[str, ...]

    @property
    def tag(self) -> str:
        """What names the payer's answers beside it: its plans and payer id."""
        return f"{'+'.join(self.plans)}-{self.settings.payer_id}"


def demo_acknowledgments(
    engine: Engine, period: Period, sent: Sequence[SentFile]
) -> list[AckOutcome]:
    """Simulate each payer's 999 and 277CA answering the 837P sent to it, and import them.
    One file sent: demo-999.txt and demo-277ca.txt beside it; several: each named after its
    plans and payer (demo-999-chp2-DEMOCHP2.txt). Rejections follow the month's claims in
    order, whichever payer answers them."""
    now = datetime.now(UTC)
    claims = [c for c in list_claims(engine, period) if c.status == "active"]
    outcomes = []
    for number, file in enumerate(sent):
        places = [n for n, claim in enumerate(claims) if claim.plan in file.plans]
        suffix = "" if len(sent) == 1 else f"-{file.tag}"
        sent_text = file.path.read_text(encoding="ascii")
        files = (
            (file.path.with_name(f"demo-999{suffix}.txt"),
             simulated_999(sent_text, file.settings, now, control=999 + 1000 * number)),
            (file.path.with_name(f"demo-277ca{suffix}.txt"),
             simulated_277ca([claims[n] for n in places], file.settings, now, numbers=places,
                             control=277 + 1000 * number)),
        )  # fmt: skip
        for path, text in files:
            write_atomically(path, _writer(text))
            outcomes.append(import_ack(engine, path, actor="demo"))
    return outcomes


def _writer(text: str) -> Callable[[Path], object]:
    return lambda target: target.write_text(text, encoding="ascii")
