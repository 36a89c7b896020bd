"""The payer's acknowledgments of our 837P: a 999 (005010X231A1) says per functional group and
transaction set whether the file was accepted, with the IK3/IK4 segment and element errors; a
277CA (005010X214) says per claim whether it entered adjudication, with status categories and
codes. Both are read with pyx12 (the whole file is validated against its guide first: a bad or
truncated file is refused with the segment and the reason, and nothing is posted), matched to
our files and claims, and posted in one transaction. The same interchange again changes
nothing. A rejected claim leaves the claims that stand (status ``rejected``): the biller
corrects what the reason names and closes the period again, which sends the member's claim
anew (``ecmbill.claims.close``)."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ecmbill.domain.payer import Outcome, claim_outcome, set_outcome
from ecmbill.payer.codes import PayerCodes, default_codes
from ecmbill.store import acks as stored
from ecmbill.store import audit
from ecmbill.store import claims as stored_claims
from ecmbill.store.db import Engine, Session, unit_of_work
from ecmbill.x12.validation import NotX12, Segment, read_interchange, segments, validate

GUIDES = {"005010X231A1": "999", "005010X214": "277CA"}
# Claims in these states can still be refused at the door; a claim already replaced or voided
# keeps its state (the claim that corrected it is the one that stands).
OPEN_STATES = ("active", "void")


class AckFileError(ValueError):
    """The file is not a valid 999 or 277CA; nothing from it was posted."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class SetAck:
    """A 999's answer about one transaction set (``transaction`` None: a whole group)."""

    group: int
    transaction: int | None
    status: str
    codes: tuple[str, ...]
    errors: tuple[dict[str, Any], ...]
    segment: int


@dataclass(frozen=True)
class ClaimStatus:
    """A 277CA's answer about one claim (2200D), its line answers (2220D) included."""

    patient_control_number: str
    payer_claim_control_number: str | None
    statuses: tuple[tuple[str, str, str | None], ...]
    effective_on: date
    segment: int

    @property
    def outcome(self) -> Outcome:
        return claim_outcome(category for category, _, _ in self.statuses)


@dataclass
class AckFile:
    kind: str
    sender_id: str
    control_number: str
    created_on: date
    sets: list[SetAck] = field(default_factory=list)
    claims: list[ClaimStatus] = field(default_factory=list)


# Reading ----------------------------------------------------------------------------------


def read_ack(path: Path) -> AckFile:
    """The 999 or 277CA in the file, or ``AckFileError`` naming what is wrong."""
    try:
        text = read_interchange(path)
    except NotX12 as err:
        raise AckFileError([str(err)]) from None
    problems = [str(error) for error in validate(text)]
    if problems:
        if any("missing" in p and "Trailer" in p for p in problems):
            problems.insert(0, "the file is truncated: its trailer segments are missing")
        raise AckFileError(problems)
    parser = _Parser()
    for number, seg in segments(text):
        parser.segment(seg, number)
    if parser.problems:
        raise AckFileError(parser.problems)
    assert parser.file is not None
    return parser.file


def _d8(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def _number(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


class _Parser:
    def __init__(self) -> None:
        self.file: AckFile | None = None
        self.problems: list[str] = []
        self.group: int | None = None
        self.in_group = 0
        self.set: dict[str, Any] | None = None
        self.level = ""
        self.claim: dict[str, Any] | None = None
        self.default_date = date.min

    def segment(self, seg: Segment, number: int) -> None:
        seg_id = seg.get_seg_id()
        get = seg.get_value
        if seg_id == "ISA":
            self.isa = (get("ISA06").strip(), get("ISA13"))
        elif seg_id == "GS":
            kind = GUIDES.get(get("GS08") or "")
            if kind is None:
                self.problems.append(
                    f"segment {number} GS: the file is not a 999 or a 277CA (GS08 names "
                    f"{get('GS08')}; a 271 goes to `ecmbill eligibility import`)"
                )
                return
            created = _d8(get("GS04")) or date.min
            if self.file is None:
                self.file = AckFile(kind, self.isa[0], self.isa[1], created)
            self.default_date = created
        elif self.file is None:
            return
        elif self.file.kind == "999":
            self._999(seg_id, get, number)
        else:
            self._277(seg_id, get, number)

    # 999 ---------------------------------------------------------------------------------

    def _999(self, seg_id: str, get: Any, number: int) -> None:
        assert self.file is not None
        if seg_id == "AK1":
            self.group, self.in_group = _number(get("AK102")), 0
        elif seg_id == "AK2":
            self.set = {"transaction": _number(get("AK202")), "errors": [], "segment": number}
        elif seg_id == "IK3" and self.set is not None:
            self.set["errors"].append(
                {"segment": get("IK301"), "position": get("IK302"), "loop": get("IK303") or "",
                 "code": get("IK304") or "", "elements": []}
            )  # fmt: skip
        elif seg_id == "CTX" and self.set is not None and self.set["errors"]:
            if get("CTX01-1") == "CLM01":
                self.set["errors"][-1]["claim"] = get("CTX01-2")
        elif seg_id == "IK4" and self.set is not None and self.set["errors"]:
            self.set["errors"][-1]["elements"].append(
                {"position": get("IK401-1"), "reference": get("IK402") or "",
                 "code": get("IK403")}
            )  # fmt: skip
        elif seg_id == "IK5" and self.set is not None and self.group is not None:
            codes = tuple(c for c in (get(f"IK50{i}") for i in range(2, 7)) if c)
            self.file.sets.append(
                SetAck(self.group, self.set["transaction"], get("IK501"), codes,
                       tuple(self.set["errors"]), self.set["segment"])
            )  # fmt: skip
            self.set, self.in_group = None, self.in_group + 1
        elif seg_id == "AK9" and self.group is not None and not self.in_group:
            # No AK2 in the group: the answer is about the whole functional group.
            codes = tuple(c for c in (get(f"AK9{i:02d}") for i in range(5, 10)) if c)
            self.file.sets.append(SetAck(self.group, None, get("AK901"), codes, (), number))

    # 277CA -------------------------------------------------------------------------------

    def _277(self, seg_id: str, get: Any, number: int) -> None:
        if seg_id == "BHT":
            self.default_date = _d8(get("BHT04")) or self.default_date
        elif seg_id == "HL":
            self._end_claim()
            self.level = get("HL03") or ""
        elif seg_id == "TRN" and self.level == "PT":
            self._end_claim()
            self.claim = {"pcn": get("TRN02"), "payer": None, "statuses": [], "segment": number,
                          "on": None}  # fmt: skip
        elif seg_id == "STC" and self.claim is not None:
            for composite in ("STC01", "STC10", "STC11"):
                if get(f"{composite}-1"):
                    self.claim["statuses"].append(
                        (get(f"{composite}-1"), get(f"{composite}-2") or "",
                         get(f"{composite}-3") or None)
                    )  # fmt: skip
            self.claim["on"] = self.claim["on"] or _d8(get("STC02"))
        elif seg_id == "REF" and self.claim is not None and get("REF01") == "1K":
            self.claim["payer"] = get("REF02")
        elif seg_id in ("SE", "GE", "IEA"):
            self._end_claim()

    def _end_claim(self) -> None:
        if self.claim is not None and self.file is not None:
            c = self.claim
            self.file.claims.append(
                ClaimStatus(c["pcn"], c["payer"], tuple(c["statuses"]),
                            c["on"] or self.default_date, c["segment"])
            )  # fmt: skip
        self.claim = None


# Posting ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetResult:
    group: int
    transaction: int | None
    outcome: Outcome
    reasons: tuple[str, ...]
    claims: tuple[str, ...]  # our claims in the file it answers; empty: not a file of ours


@dataclass(frozen=True)
class ClaimResult:
    patient_control_number: str
    outcome: Outcome
    reasons: tuple[str, ...]
    matched: bool


@dataclass
class AckOutcome:
    file: Path
    kind: str
    already_imported: bool = False
    sets: list[SetResult] = field(default_factory=list)
    claims: list[ClaimResult] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # claims now on the work list

    def count(self, outcome: Outcome) -> int:
        return sum(1 for claim in self.claims if claim.outcome is outcome)


def import_ack(
    engine: Engine, path: Path, *, actor: str, codes: PayerCodes | None = None
) -> AckOutcome:
    """Post a 999 or a 277CA (told apart by GS08) in one transaction."""
    ack = read_ack(path)
    tables = codes or default_codes()
    outcome = AckOutcome(file=path, kind=ack.kind)
    interchange = stored.Interchange(
        ack.kind, ack.sender_id, ack.control_number, path.name,
        hashlib.sha256(path.read_bytes()).hexdigest(), ack.created_on,
    )  # fmt: skip
    with unit_of_work(engine) as session:
        if stored.already_imported(session, interchange):
            outcome.already_imported = True
            return outcome
        now = audit.now()
        interchange_id = stored.add_interchange(session, interchange, imported_at=now, actor=actor)
        trail = [
            audit.audit_row(
                actor=actor, at=now, action="create", entity="acknowledgment",
                key=f"{ack.kind}/{ack.sender_id}/{ack.control_number}", before=None,
                after={"file": path.name, "sets": len(ack.sets), "claims": len(ack.claims)},
            )
        ]  # fmt: skip
        for answer in ack.sets:
            outcome.sets.append(_post_set(session, interchange_id, answer, tables))
            if outcome.sets[-1].outcome is Outcome.REJECTED:
                for pcn in outcome.sets[-1].claims:
                    _reject(session, pcn, f"999 {ack.control_number}", actor, now, trail, outcome)
        # Read at once: one query per claim answered was most of posting a large 277CA.
        known = stored_claims.claims_by_control_numbers(
            session, (status.patient_control_number for status in ack.claims)
        )
        for status in ack.claims:
            outcome.claims.append(
                _post_claim(session, interchange_id, status, tables, trail, known)
            )
            if status.outcome is Outcome.REJECTED:
                _reject(session, status.patient_control_number, f"277CA {ack.control_number}",
                        actor, now, trail, outcome)  # fmt: skip
        audit.record(session, trail)
    return outcome


def _post_set(
    session: Session, interchange_id: int, answer: SetAck, codes: PayerCodes
) -> SetResult:
    stored.add_set_answer(
        session, interchange_id, group=answer.group, transaction=answer.transaction,
        status=answer.status, codes=answer.codes, errors=answer.errors, segment=answer.segment,
    )  # fmt: skip
    claim_ids = stored.claims_sent_in(session, answer.group, answer.transaction)
    pcns = tuple(
        stored_claims.claim(session, claim_id).patient_control_number for claim_id in claim_ids
    )
    reasons = set_reasons(
        answer.status, answer.codes, answer.errors, codes, group=answer.transaction is None
    )
    return SetResult(answer.group, answer.transaction, set_outcome(answer.status), reasons, pcns)


def _post_claim(
    session: Session,
    interchange_id: int,
    status: ClaimStatus,
    codes: PayerCodes,
    trail: list[dict[str, Any]],
    known: dict[str, stored_claims.StoredClaim],
) -> ClaimResult:
    """Post one claim's answer; ``known`` holds the claims answered by their patient control
    numbers, kept up to date with the payer's claim numbers set here."""
    claim = known.get(status.patient_control_number)
    if claim is None and status.payer_claim_control_number:
        found = stored.claim_by_payer_number(session, status.payer_claim_control_number)
        claim = stored_claims.claim(session, found) if found is not None else None
    stored.add_claim_answer(
        session, interchange_id, claim_id=claim.id if claim else None,
        patient_control_number=status.patient_control_number,
        payer_claim_control_number=status.payer_claim_control_number,
        accepted=status.outcome is not Outcome.REJECTED, statuses=status.statuses,
        effective_on=status.effective_on, segment=status.segment,
    )  # fmt: skip
    number = status.payer_claim_control_number
    if claim is not None and number and claim.payer_claim_control_number != number:
        trail.append(
            audit.audit_row(
                actor=trail[0]["actor"], at=trail[0]["at"], action="update", entity="claim",
                key=claim.patient_control_number,
                before={"payer_claim_control_number": claim.payer_claim_control_number},
                after={"payer_claim_control_number": number},
            )
        )  # fmt: skip
        stored_claims.set_payer_claim_control_number(session, claim.id, number)
        if claim.patient_control_number in known:
            known[claim.patient_control_number] = dataclasses.replace(
                claim, payer_claim_control_number=number
            )
    return ClaimResult(
        claim.patient_control_number if claim else status.patient_control_number,
        status.outcome,
        tuple(codes.status(*item) for item in status.statuses),
        claim is not None,
    )


def _reject(
    session: Session,
    pcn: str,
    source: str,
    actor: str,
    now: datetime,
    trail: list[dict[str, Any]],
    outcome: AckOutcome,
) -> None:
    claim = stored_claims.claim_by_control_number(session, pcn)
    if claim is None or claim.status not in OPEN_STATES:
        return
    stored_claims.set_status(session, claim.id, stored_claims.REJECTED)
    trail.append(
        audit.audit_row(
            actor=actor, at=now, action="update", entity="claim", key=pcn,
            before={"status": claim.status}, after={"status": stored_claims.REJECTED, "by": source},
        )
    )  # fmt: skip
    outcome.rejected.append(pcn)


def set_reasons(
    status: str,
    set_codes: tuple[str, ...],
    errors: tuple[dict[str, Any], ...],
    codes: PayerCodes,
    *,
    group: bool = False,
    claim: str | None = None,
) -> tuple[str, ...]:
    """A 999 answer in words: its status, the set (or group) error codes, each IK3 segment
    error with its IK4 element errors. ``claim`` keeps the errors a CTX ties to that claim
    (and those tied to none)."""
    table = "group_error" if group else "set_error"
    words = [codes.describe("ack", status)]
    words += [codes.describe(table, code) for code in set_codes]
    for error in errors:
        if claim is not None and error.get("claim") not in (None, claim):
            continue
        where = f"segment {error['segment']} (position {error['position']}"
        where += f", loop {error['loop']})" if error.get("loop") else ")"
        text = (
            f"{where}: {codes.describe('segment_error', error['code'])}" if error["code"] else where
        )
        for element in error.get("elements", []):
            ref = f" (data element {element['reference']})" if element.get("reference") else ""
            text += (
                f"; element {element['position']}{ref}: "
                f"{codes.describe('element_error', element['code'])}"
            )
        words.append(text)
    return tuple(words)
