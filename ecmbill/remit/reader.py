"""Reading an X12 835 (005010X221A1) as payers really send it, one segment at a time.

The file is read in blocks and split into segments with the delimiters its ISA declares (or,
for a bare ST..SE without an envelope, those its ST shows), so memory does not grow with the
file. Segments are numbered from the start of the file (the ISA is segment 1). Each fault is
named with its transaction (ST02 and TRN02) and segment number, and falls in one of two
levels, refuse or warn, by the table of ``ecmbill.remit.levels``.

``read_events`` hands the post service a header per transaction, its claims one by one and its
trailer; the post service decides what to write. ``read_835`` reads a whole file into values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ecmbill.imports.reading import MAX_X12_BYTES, FileProblem, check_size
from ecmbill.remit.levels import Fault, Level, level_of
from ecmbill.remit.model import (
    Adjustment,
    ClaimPayment,
    Payment,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
)

VERSION = "005010X221A1"
BLOCK = 1 << 20
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
# The only bytes a text X12 file may hold besides printable ASCII: tabs, line ends, and the
# control characters some senders use as delimiters.
_TEXT_BYTES = frozenset(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F}

CLAIM_STATUS = frozenset({"1", "2", "3", "4", "19", "20", "21", "22", "23", "25"})
ADJUSTMENT_GROUPS = frozenset({"CO", "CR", "OA", "PI", "PR"})
PRODUCT_QUALIFIERS = frozenset({"HC", "AD", "ER", "IV", "N4", "NU", "WK"})
DATE_QUALIFIERS = {
    "header": frozenset({"405"}),
    "claim": frozenset({"036", "050", "232", "233"}),
    "line": frozenset({"150", "151", "472"}),
}
PARTY_QUALIFIERS = {"N1": frozenset({"PR", "PE"}), "PER": frozenset({"CX", "BL", "IC"})}
NAME_QUALIFIERS = frozenset({"QC", "IL", "74", "82", "TT", "PR", "GB"})
HANDLING_CODES = frozenset({"C", "D", "H", "I", "P", "U", "X"})


# -- faults --------------------------------------------------------------------------------


@dataclass
class Transaction:
    """Which transaction a fault is in: its ST02, and its TRN02 once read."""

    control: str
    trace: str | None = None

    def __str__(self) -> str:
        return f"ST {self.control or '?'} (TRN {self.trace or 'not read yet'})"


@dataclass(frozen=True)
class Problem:
    fault: Fault
    reason: str
    segment: int | None = None
    segment_id: str | None = None
    transaction: Transaction | None = None

    @property
    def level(self) -> Level:
        return level_of(self.fault)

    def __str__(self) -> str:
        where = []
        if self.transaction is not None:
            where.append(str(self.transaction))
        if self.segment is not None:
            where.append(
                f"segment {self.segment}" + (f" ({self.segment_id})" * bool(self.segment_id))
            )
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


class RemitFileError(ValueError):
    """The file may not be posted; nothing from it was. ``problems`` says why, each with its
    transaction and segment; ``warnings`` lists what would only have been warned about."""

    def __init__(self, problems: list[str], warnings: list[str] | None = None) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.warnings = warnings or []


@dataclass
class Findings:
    """Every fault of one file, in the order found; a refusal stops nothing from being read,
    so the biller sees all of them at once."""

    problems: list[Problem] = field(default_factory=list)
    most: int = 50
    # A warning repeated on every line of a large file is kept three times, then counted.
    alike: int = 3
    repeats: dict[tuple[Fault, str, int], int] = field(default_factory=dict)
    first: dict[tuple[Fault, str, int], Problem] = field(default_factory=dict)

    def add(self, problem: Problem) -> None:
        if problem.level is Level.REFUSE:
            if len(self.refused) < self.most:
                self.problems.append(problem)
            return
        key = (problem.fault, problem.reason, id(problem.transaction))
        seen = self.repeats.get(key, 0)
        self.repeats[key] = seen + 1
        if seen < self.alike:
            self.problems.append(problem)
            self.first.setdefault(key, problem)

    @property
    def refused(self) -> list[Problem]:
        return [p for p in self.problems if p.level is Level.REFUSE]

    @property
    def warnings(self) -> list[Problem]:
        found = [p for p in self.problems if p.level is Level.WARN]
        for key, count in self.repeats.items():
            if count > self.alike:
                first = self.first[key]
                found.append(
                    Problem(first.fault, f"{first.reason} (and {count - self.alike} more "
                            "segment(s) like this)", None, None, first.transaction)
                )  # fmt: skip
        return found

    def refusal(self) -> RemitFileError:
        refused = self.refused
        first = [p for p in refused if p.fault is Fault.TRUNCATED and p.transaction is None]
        ordered = first + [p for p in refused if p not in first]
        return RemitFileError([str(p) for p in ordered], [str(p) for p in self.warnings])


# -- events --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Payee:
    """Whose payments we post: our billing NPI and TIN, and any payee id the biller accepted."""

    npi: str | None
    tin: str | None
    accepted: tuple[str, ...] = ()


@dataclass(frozen=True)
class Header:
    transaction: Transaction
    payment: Payment


@dataclass(frozen=True)
class Trailer:
    transaction: Transaction
    provider_adjustments: tuple[ProviderAdjustment, ...]


Event = Header | ClaimPayment | Trailer


# -- segments ------------------------------------------------------------------------------


@dataclass
class Delimiters:
    element: str
    terminator: str  # "\n" when the segments end at line ends
    component: str | None  # None until a composite shows it (a file without an ISA)
    repetition: str | None


def _sniff(head: bytes) -> tuple[Delimiters | None, Problem | None]:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").decode("latin-1")
    tag = text[:3].upper()
    if tag == "ISA" and len(text) > 3:
        element = text[3]
        positions = [i for i, char in enumerate(text[:200]) if char == element]
        if len(positions) < 16 or len(text) <= positions[15] + 2:
            return None, Problem(Fault.UNPARSEABLE, "the ISA segment is not whole", 1, "ISA")
        end = positions[15]
        repetition = text[positions[10] + 1 : positions[11]]
        return (
            Delimiters(
                element,
                _terminator(text[end + 2]),
                text[end + 1],
                repetition if len(repetition) == 1 and not repetition.isalnum() else None,
            ),
            None,
        )
    if tag[:2] == "ST" and len(text) > 2 and not text[2].isalnum():
        element = text[2]
        found = re.match(rf"ST(?:{re.escape(element)}[A-Za-z0-9 .\-]*)+(.)", text, re.I)
        if found is None:
            return None, Problem(Fault.UNPARSEABLE, "the ST segment has no terminator", 1, "ST")
        return Delimiters(element, _terminator(found[1]), None, None), None
    if any(byte not in _TEXT_BYTES for byte in head[:4096]):
        return None, Problem(
            Fault.NOT_TEXT,
            "not an X12 file: it is not plain text (a PDF, spreadsheet or zip file?)",
        )
    return None, Problem(Fault.NOT_X12, "not an X12 file: it does not start with ISA or ST")


def _terminator(char: str) -> str:
    return "\n" if char in "\r\n" else char


def _segments(path: Path, delimiters: Delimiters) -> Iterator[tuple[str, bool]]:
    """The file's segments in order, as text without terminator; the flag is True for a last
    segment that had no terminator."""
    terminator = delimiters.terminator
    rest = ""
    with path.open("rb") as source:
        while block := source.read(BLOCK):
            rest += block.decode("latin-1")
            pieces = rest.split(terminator)
            rest = pieces.pop()
            for piece in pieces:
                piece = piece.strip()
                if piece:
                    yield piece, False
    rest = rest.strip()
    if rest:
        yield rest, True


# -- values --------------------------------------------------------------------------------


def _amount(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value.quantize(CENT) if value.is_finite() else None


def _day(text: str) -> date | None:
    """A CCYYMMDD date (strptime is slow for a million of them)."""
    text = text.strip()
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


# -- the reader ----------------------------------------------------------------------------


def read_events(path: Path, findings: Findings, payee: Payee | None = None) -> Iterator[Event]:
    """Headers, claims and trailers of every transaction, in file order. Faults go to
    ``findings``; the caller posts nothing when any of them is a refusal. A file larger
    than any real 835 is refused before it is read."""
    try:
        check_size(path, MAX_X12_BYTES, "835 files")
    except FileProblem as err:
        findings.add(Problem(Fault.NOT_X12, str(err)))
        return
    try:
        with path.open("rb") as source:
            head = source.read(4096)
    except OSError as err:
        findings.add(Problem(Fault.NOT_X12, f"cannot open the file ({err.strerror})"))
        return
    delimiters, problem = _sniff(head)
    if problem is not None or delimiters is None:
        findings.add(problem or Problem(Fault.NOT_X12, "not an X12 file"))
        return
    parser = _Parser(findings, delimiters, payee)
    number = 0
    for number, (text, unterminated) in enumerate(_segments(path, delimiters), start=1):
        if unterminated:
            parser.unterminated = number
        yield from parser.segment(number, text)
    yield from parser.end(number)


def read_835(path: Path, payee: Payee | None = None) -> tuple[list[Remittance], list[str]]:
    """Every transaction of the file as values, and the warnings; ``RemitFileError`` when the
    file is refused. For callers that want the whole file at once (tests, small files)."""
    findings = Findings()
    done: list[Remittance] = []
    header: Header | None = None
    claims: list[ClaimPayment] = []
    for event in read_events(path, findings, payee):
        if isinstance(event, Header):
            header, claims = event, []
        elif isinstance(event, ClaimPayment):
            claims.append(event)
        elif header is not None:
            done.append(
                Remittance(header.payment, tuple(claims), event.provider_adjustments)
            )  # fmt: skip
    if findings.refused:
        raise findings.refusal()
    if not done:
        raise RemitFileError(["the file holds no 835 transaction"])
    return done, [str(p) for p in findings.warnings]


@dataclass
class _Open:
    """The transaction being read."""

    transaction: Transaction
    start: int
    header_done: bool = False
    values: dict[str, Any] = field(default_factory=dict)
    payee_ids: dict[str, str] = field(default_factory=dict)
    payee_named: bool = False
    contacts: set[str] = field(default_factory=set)
    claim: dict[str, Any] | None = None
    line: dict[str, Any] | None = None
    paid: Decimal = ZERO
    plb: list[ProviderAdjustment] = field(default_factory=list)


class _Parser:
    def __init__(self, findings: Findings, delimiters: Delimiters, payee: Payee | None) -> None:
        self.findings = findings
        self.delimiters = delimiters
        self.payee = payee
        self.interchange: list[Any] | None = None  # [number, control, groups]
        self.group: list[Any] | None = None  # [number, control, transactions, date]
        self.open: _Open | None = None
        self.traces: set[tuple[str, str]] = set()
        self.lower_case = False
        self.unterminated: int | None = None
        self.number = 0
        self.seg_id = ""

    # faults ---------------------------------------------------------------------------

    def fault(self, fault: Fault, reason: str, *, at: tuple[int, str] | None = None) -> None:
        """A fault at the segment being read, or ``at`` an earlier one (number, id)."""
        number, seg_id = at or (self.number, self.seg_id)
        self.findings.add(
            Problem(
                fault, reason, number, seg_id or None,
                self.open.transaction if self.open else None,
            )
        )  # fmt: skip

    def at(self, current: _Open, name: str) -> tuple[int, str]:
        """Where the transaction's ``name`` segment was (its ST when it has none)."""
        return current.values.get(f"at {name}") or (current.start, "ST")

    def amount(self, value: str, name: str, *, required: bool = True) -> Decimal:
        if not value.strip():
            if required:
                self.fault(Fault.BAD_AMOUNT, f"{name} is empty")
            return ZERO
        found = _amount(value)
        if found is None:
            self.fault(Fault.BAD_AMOUNT, f"{name} is not an amount")
            return ZERO
        return found

    def qualifier(self, value: str, known: frozenset[str], name: str) -> None:
        if value not in known:
            self.fault(Fault.UNKNOWN_QUALIFIER, f"{name} is not a qualifier the 835 uses here")

    def components(self, value: str) -> list[str]:
        if self.delimiters.component is None:
            found = re.search(r"[^A-Za-z0-9 ]", value)
            self.delimiters.component = found[0] if found else ":"
        return value.split(self.delimiters.component)

    # segments -------------------------------------------------------------------------

    def segment(self, number: int, text: str) -> Iterator[Event]:
        self.number = number
        elements = text.split(self.delimiters.element)
        seg_id = elements[0].strip()
        upper = seg_id.upper()
        self.seg_id = upper
        if not _SEGMENT_ID.match(upper):
            self.seg_id = ""
            self.fault(Fault.UNPARSEABLE, "the segment does not start with a segment id")
            return
        if upper != seg_id and not self.lower_case:
            self.lower_case = True
            self.fault(Fault.LOWER_CASE_IDS, "segment ids are in lower case: read as upper case")
        values = _Values(elements)
        if upper in ("ISA", "IEA", "GS", "GE"):
            self.envelope(upper, values)
            return
        if upper == "ST":
            yield from self.start(values)
            return
        current = self.open
        if current is None:
            self.fault(Fault.UNPARSEABLE, "the segment is outside a transaction (ST..SE)")
            return
        if upper == "SE":
            yield from self.close(current, values)
            return
        if not current.header_done and upper in ("LX", "CLP", "PLB"):
            yield from self.end_header(current)
        if current.header_done:
            yield from self.body(current, upper, values)
        else:
            self.header(current, upper, values)

    def envelope(self, seg_id: str, values: _Values) -> None:
        if self.open is not None:
            self.fault(Fault.TRUNCATED, f"{seg_id} comes before the transaction's SE")
            self.open = None
        if seg_id == "ISA":
            if self.interchange is not None:
                self.fault(Fault.TRUNCATED, "an ISA comes before the previous IEA")
            if len(values.elements) < 17:
                self.fault(Fault.UNPARSEABLE, "the ISA segment is not whole")
            self.interchange = [self.number, values.get(13), 0]
        elif seg_id == "IEA":
            if self.interchange is None:
                self.fault(Fault.UNPARSEABLE, "IEA without an ISA")
                return
            if self.group is not None:
                self.fault(Fault.TRUNCATED, "IEA comes before the group's GE")
                self.group = None
            if values.get(1) != str(self.interchange[2]):
                self.fault(Fault.SEGMENT_COUNT, f"IEA01 says {values.get(1)} groups, "
                           f"the interchange has {self.interchange[2]}")  # fmt: skip
            if values.get(2) != self.interchange[1]:
                self.fault(Fault.CONTROL_NUMBER, "IEA02 does not repeat ISA13")
            self.interchange = None
        elif seg_id == "GS":
            if self.group is not None:
                self.fault(Fault.TRUNCATED, "a GS comes before the previous GE")
            if self.interchange is not None:
                self.interchange[2] += 1
            self.group = [self.number, values.get(6), 0, _day(values.get(4))]
            if not values.get(8).startswith(VERSION[:10]):
                self.fault(Fault.NOT_835, f"the file is not an 835 {VERSION} (GS08 says otherwise)")
        else:
            if self.group is None:
                self.fault(Fault.UNPARSEABLE, "GE without a GS")
                return
            if values.get(1) != str(self.group[2]):
                self.fault(Fault.SEGMENT_COUNT, f"GE01 says {values.get(1)} transactions, "
                           f"the group has {self.group[2]}")  # fmt: skip
            if values.get(2) != self.group[1]:
                self.fault(Fault.CONTROL_NUMBER, "GE02 does not repeat GS06")
            self.group = None

    def start(self, values: _Values) -> Iterator[Event]:
        if self.open is not None:
            self.fault(Fault.TRUNCATED, "a new ST comes before this transaction's SE")
            self.open = None
        if self.group is not None:
            self.group[2] += 1
        elif self.interchange is not None:
            self.fault(Fault.UNPARSEABLE, "ST outside a functional group (GS)")
        self.open = _Open(Transaction(values.get(2)), self.number)
        if values.get(1) != "835":
            self.fault(Fault.NOT_835, f"the file is not an 835 {VERSION} (ST01 says otherwise)")
        if self.interchange is None:
            self.fault(
                Fault.NO_ENVELOPE,
                "the transaction has no ISA/GS envelope: read from its ST to its SE",
            )
        return iter(())

    def header(self, current: _Open, seg_id: str, values: _Values) -> None:
        v = current.values
        if seg_id in ("BPR", "TRN") or (seg_id == "N1" and values.get(1) in ("PR", "PE")):
            v.setdefault(
                f"at {seg_id}{values.get(1) if seg_id == 'N1' else ''}", (self.number, seg_id)
            )
        if seg_id == "BPR":
            if values.get(1) not in HANDLING_CODES:
                self.qualifier(values.get(1), HANDLING_CODES, "BPR01")
            v["amount"] = self.amount(values.get(2), "BPR02 (total payment)")
            v["method"] = values.get(4)
            if values.get(16):
                v["date"] = _day(values.get(16))
        elif seg_id == "TRN" and "trace" not in v:
            if values.get(1) != "1":
                self.fault(Fault.UNKNOWN_QUALIFIER, "TRN01 is not 1 (current transaction trace)")
            v["trace"], v["payer_id"] = values.get(2), values.get(3)
            current.transaction.trace = values.get(2) or None
        elif seg_id == "DTM":
            self.qualifier(values.get(1), DATE_QUALIFIERS["header"], "DTM01")
            if values.get(1) == "405":
                v["produced"] = _day(values.get(2))
        elif seg_id == "N1":
            self.qualifier(values.get(1), PARTY_QUALIFIERS["N1"], "N101")
            v["party"] = values.get(1)
            if values.get(1) == "PR":
                v["payer_name"] = values.get(2)
                if values.get(4):
                    v.setdefault("payer_ids", []).append(values.get(4))
            elif values.get(1) == "PE":
                current.payee_named = True
                if values.get(4):
                    current.payee_ids[values.get(3)] = values.get(4)
        elif seg_id == "PER" and v.get("party") == "PR":
            self.qualifier(values.get(1), PARTY_QUALIFIERS["PER"], "PER01")
            current.contacts.add(values.get(1))
        elif seg_id == "REF" and v.get("party") == "PR" and values.get(1) == "2U":
            if values.get(2):
                v.setdefault("payer_ids", []).append(values.get(2))
        elif seg_id == "REF" and v.get("party") == "PE" and values.get(1) == "TJ":
            current.payee_ids.setdefault("FI", values.get(2))

    def end_header(self, current: _Open) -> Iterator[Event]:
        current.header_done = True
        v = current.values
        if "amount" not in v:
            self.fault(Fault.BAD_AMOUNT, "the transaction has no BPR (total payment)")
        trace, payer = v.get("trace") or "", v.get("payer_id") or ""
        if not trace:
            self.fault(Fault.NO_TRACE, "the transaction has no TRN02 (trace number)",
                       at=self.at(current, "TRN"))  # fmt: skip
        elif (trace, payer) in self.traces:
            self.fault(Fault.REPEATED_TRACE, f"TRN02 {trace} was already given earlier in this "
                       "file: the same payment twice", at=self.at(current, "TRN"))  # fmt: skip
        self.traces.add((trace, payer))
        if "BL" not in current.contacts:
            self.fault(Fault.NO_PAYER_CONTACT, "the payer's technical contact (PER*BL) is missing",
                       at=self.at(current, "N1PR"))  # fmt: skip
        self.check_payee(current)
        paid_on = v.get("date")
        if paid_on is None:
            paid_on, said = self.stand_in_date(v)
            reason = f"BPR16 (payment date) is missing or not a date: {said}"
            self.fault(Fault.NO_PAYMENT_DATE, reason, at=self.at(current, "BPR"))
        yield Header(
            current.transaction,
            Payment(trace, payer, v.get("payer_name") or "", v.get("amount", ZERO),
                    v.get("method") or "", paid_on, tuple(v.get("payer_ids", ()))),
        )  # fmt: skip

    def stand_in_date(self, v: dict[str, Any]) -> tuple[date, str]:
        if v.get("produced"):
            return v["produced"], f"the production date (DTM*405) {v['produced']} stands in"
        if self.group is not None and self.group[3] is not None:
            return self.group[3], f"the group's date (GS04) {self.group[3]} stands in"
        today = date.today()
        return today, f"the day of the import {today} stands in"

    def check_payee(self, current: _Open) -> None:
        if self.payee is None:
            return
        ids = current.payee_ids
        if not current.payee_named or not ids:
            self.fault(Fault.NO_PAYEE, "the payee (N1*PE) names no NPI or TIN",
                       at=self.at(current, "N1PE"))  # fmt: skip
            return
        ours = {("XX", self.payee.npi), ("FI", self.payee.tin)}
        if any((kind, value.replace("-", "")) in ours for kind, value in ids.items()):
            return
        named = ", ".join(f"{_ID_NAMES.get(k, k)} {v}" for k, v in sorted(ids.items()))
        accepted = set(self.payee.accepted)
        if accepted & {v.replace("-", "") for v in ids.values()} | accepted & set(ids.values()):
            self.fault(Fault.PAYEE_ACCEPTED, f"the payee is {named}, accepted with --accept-payee",
                       at=self.at(current, "N1PE"))  # fmt: skip
            return
        mine = ", ".join(
            f"{name} {value}" for name, value in (("NPI", self.payee.npi), ("TIN", self.payee.tin))
            if value
        )  # fmt: skip
        first = next(iter(sorted(ids.values())))
        whose = (
            f"not us ({mine})"
            if mine
            else "and our billing NPI and EIN are not set (claims settings) to compare"
        )
        self.fault(
            Fault.OTHER_PAYEE,
            f"the payee is {named}, {whose}: if this payment is yours, import it with "
            f"--accept-payee {first}",
            at=self.at(current, "N1PE"),
        )

    def body(self, current: _Open, seg_id: str, values: _Values) -> Iterator[Event]:
        if seg_id == "CLP":
            yield from self.end_claim(current)
            status = values.get(2)
            if status not in CLAIM_STATUS:
                self.fault(Fault.BAD_CODE, "the value is not a valid code for Claim Status Code "
                           "(CLP02)")  # fmt: skip
            current.claim = {
                "pcn": values.get(1), "status": status,
                "charge": self.amount(values.get(3), "CLP03 (claim charge)"),
                "paid": self.amount(values.get(4), "CLP04 (claim payment)"),
                "patient": self.amount(values.get(5), "CLP05 (patient responsibility)",
                                       required=False),
                "payer_ccn": values.get(7) or None, "adjustments": [], "remarks": [],
                "lines": [], "segment": self.number,
            }  # fmt: skip
        elif seg_id == "PLB":
            yield from self.end_claim(current)
            current.plb.extend(self.provider_adjustments(values))
        elif seg_id == "LX":
            yield from self.end_claim(current)
        elif current.claim is None:
            return  # TS3, TS2 and the like: totals for information only
        elif seg_id == "CAS":
            target = current.line or current.claim
            target["adjustments"].extend(self.adjustments(values))
        elif seg_id == "SVC":
            self.end_line(current)
            current.line = self.service(values)
        elif seg_id == "DTM":
            self.service_date(current, values)
        elif seg_id == "NM1":
            self.qualifier(values.get(1), NAME_QUALIFIERS, "NM101")
        elif seg_id == "MOA":
            current.claim["remarks"].extend(c for c in (values.get(i) for i in range(3, 8)) if c)
        elif seg_id == "LQ" and current.line is not None and values.get(1) == "HE":
            current.line["remarks"].append(values.get(2))

    def service(self, values: _Values) -> dict[str, Any]:
        billed = values.get(6) or values.get(1)
        parts = self.components(billed)
        if parts[0] not in PRODUCT_QUALIFIERS:
            self.fault(Fault.BAD_CODE, "the procedure code's qualifier (SVC01-1) is not one the "
                       "835 allows")  # fmt: skip
        units = values.get(7) if values.get(6) and values.get(7) else values.get(5)
        count = _amount(units) if units else None
        return {
            "code": parts[1] if len(parts) > 1 else "",
            "modifiers": tuple(m for m in parts[2:6] if m),
            "charge": self.amount(values.get(2), "SVC02 (line charge)"),
            "paid": self.amount(values.get(3), "SVC03 (line payment)"),
            "units": int(count) if count is not None else None,
            "first": None, "last": None, "adjustments": [], "remarks": [],
            "segment": self.number,
        }  # fmt: skip

    def service_date(self, current: _Open, values: _Values) -> None:
        where = "line" if current.line is not None else "claim"
        qualifier = values.get(1)
        self.qualifier(qualifier, DATE_QUALIFIERS[where], "DTM01")
        if current.line is None or qualifier not in DATE_QUALIFIERS["line"]:
            return
        day = _day(values.get(2))
        if day is None:
            self.fault(Fault.BAD_DATE, "DTM02 (service date) is not a date: the line stays "
                       "unmatched")  # fmt: skip
        if qualifier in ("472", "150"):
            current.line["first"] = day
        if qualifier in ("472", "151"):
            current.line["last"] = day

    def adjustments(self, values: _Values) -> list[Adjustment]:
        group = values.get(1)
        if group not in ADJUSTMENT_GROUPS:
            self.qualifier(group, ADJUSTMENT_GROUPS, "CAS01 (adjustment group)")
        found = []
        for start in range(2, 20, 3):
            reason = values.get(start)
            if not reason:
                continue
            quantity = _amount(values.get(start + 2)) if values.get(start + 2) else None
            amount = self.amount(values.get(start + 1), f"CAS{start + 1:02d} (adjustment amount)")
            found.append(Adjustment(group, reason, amount, quantity))
        return found

    def provider_adjustments(self, values: _Values) -> list[ProviderAdjustment]:
        fiscal = _day(values.get(2)) or date.min
        found = []
        for start in range(3, 15, 2):
            if not values.get(start):
                continue
            parts = self.components(values.get(start))
            found.append(
                ProviderAdjustment(
                    values.get(1), fiscal, parts[0], parts[1] if len(parts) > 1 else None,
                    self.amount(values.get(start + 1), f"PLB{start + 1:02d} (adjustment amount)"),
                )
            )  # fmt: skip
        return found

    # ends -----------------------------------------------------------------------------

    def end_line(self, current: _Open) -> None:
        line, claim = current.line, current.claim
        current.line = None
        if line is None or claim is None:
            return
        adjusted = sum((a.amount for a in line["adjustments"]), ZERO)
        if line["charge"] - adjusted != line["paid"]:
            self.findings.add(
                Problem(
                    Fault.UNBALANCED_LINE,
                    f"the line does not balance: charge {line['charge']} - adjustments "
                    f"{adjusted} is not the payment {line['paid']}",
                    line["segment"], "SVC", current.transaction,
                )
            )  # fmt: skip
        claim["lines"].append(
            ServicePayment(
                line["code"], line["modifiers"], line["charge"], line["paid"], line["units"],
                line["first"], line["last"] or line["first"], tuple(line["adjustments"]),
                tuple(line["remarks"]), line["segment"],
            )
        )  # fmt: skip

    def end_claim(self, current: _Open) -> Iterator[ClaimPayment]:
        self.end_line(current)
        c = current.claim
        current.claim = None
        if c is None:
            return
        lines: list[ServicePayment] = c["lines"]
        adjusted = sum((a.amount for a in c["adjustments"]), ZERO) + sum(
            (a.amount for line in lines for a in line.adjustments), ZERO
        )
        if c["charge"] - c["paid"] != adjusted:
            self.findings.add(
                Problem(
                    Fault.UNBALANCED_CLAIM,
                    f"claim {c['pcn']} does not balance: charge {c['charge']} - payment "
                    f"{c['paid']} is not the adjustments {adjusted}",
                    c["segment"], "CLP", current.transaction,
                )
            )  # fmt: skip
        current.paid += c["paid"]
        yield ClaimPayment(
            c["pcn"], c["status"], c["charge"], c["paid"], c["patient"], c["payer_ccn"],
            tuple(c["adjustments"]), tuple(c["remarks"]), tuple(lines), c["segment"],
        )  # fmt: skip

    def close(self, current: _Open, values: _Values) -> Iterator[Event]:
        if not current.header_done:
            yield from self.end_header(current)
        yield from self.end_claim(current)
        counted = self.number - current.start + 1
        if values.get(1) != str(counted):
            self.fault(Fault.SEGMENT_COUNT, f"SE01 says {values.get(1) or 'nothing'} segments, "
                       f"the transaction has {counted}: a segment is missing or extra")  # fmt: skip
        if values.get(2) != current.transaction.control:
            self.fault(Fault.CONTROL_NUMBER, "SE02 does not repeat ST02")
        withheld = sum((p.amount for p in current.plb), ZERO)
        expected = current.paid - withheld
        total = current.values.get("amount", ZERO)
        if total != expected:
            self.fault(
                Fault.UNBALANCED_TRANSACTION,
                f"the payment does not balance: BPR02 {total} is not the claims' payments "
                f"{current.paid} less provider adjustments {withheld} ({expected})",
            )
        self.open = None
        yield Trailer(current.transaction, tuple(current.plb))

    def end(self, last: int) -> Iterator[Event]:
        self.number, self.seg_id = last, ""
        missing: list[tuple[str, Transaction | None]] = []
        if self.open is not None:
            missing.append(("the Transaction Set Trailer (SE) is missing", self.open.transaction))
        if self.group is not None:
            missing.append(("the Functional Group Trailer (GE) is missing", None))
        if self.interchange is not None:
            missing.append(("the Interchange Control Trailer (IEA) is missing", None))
        if missing:
            self.findings.add(
                Problem(Fault.TRUNCATED, f"the file is truncated: it ends after segment {last}")
            )
            for reason, transaction in missing:
                self.findings.add(Problem(Fault.TRUNCATED, reason, None, None, transaction))
            self.open = None
        elif self.unterminated is not None:
            self.findings.add(
                Problem(Fault.NO_FINAL_TERMINATOR, "the last segment has no terminator",
                        self.unterminated, None)
            )  # fmt: skip
        if last == 0:
            self.findings.add(Problem(Fault.NOT_X12, "the file holds no segment"))
        return iter(())


_ID_NAMES = {"XX": "NPI", "FI": "TIN", "XV": "plan id"}


class _Values:
    """A segment's elements by position (1 is the first after the segment id)."""

    __slots__ = ("elements",)

    def __init__(self, elements: list[str]) -> None:
        self.elements = elements

    def get(self, position: int) -> str:
        return self.elements[position].strip() if position < len(self.elements) else ""
