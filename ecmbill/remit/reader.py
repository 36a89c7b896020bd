"""Reading an X12 835 (005010X221A1) with pyx12.

pyx12 first validates the whole file against the 835 implementation guide map; a file with any
error is refused with the segment number and pyx12's reason, before anything is read into
values. Then pyx12's tokenizer hands us the segments in order, and a small state machine turns
them into ``Remittance`` values.
"""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyx12.error_handler
import pyx12.errors
import pyx12.params
import pyx12.x12file
import pyx12.x12n_document

from ecmbill.imports.reading import MAX_X12_BYTES, FileProblem, check_size
from ecmbill.remit.model import (
    Adjustment,
    ClaimPayment,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
)

VERSION = "005010X221A1"

# pyx12 logs validation problems, some quoting element values (member ids, names): keep them
# out of our output; the errors reach the user through RemitFileError, with values masked.
_pyx12_log = logging.getLogger("pyx12")
_pyx12_log.addHandler(logging.NullHandler())
_pyx12_log.propagate = False


class RemitFileError(ValueError):
    """The file is not a valid 835; nothing from it may be posted."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _masked(reason: str) -> str:
    """pyx12 quotes offending values in some reasons; they may be PHI."""
    reason = re.sub(r'len\("[^"]*"\)', "len(value)", reason)
    reason = re.sub(r"^\(.*?\) is not a valid code", "the value is not a valid code", reason)
    reason = re.sub(r'Segment "[^"]*" is empty', "A segment is empty", reason)
    return reason


def validate(path: Path) -> list[str]:
    """pyx12's findings for the file, each with the segment number it names."""
    report = io.StringIO()
    try:
        ok = pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(),
            src_file=str(path),
            fd_997=None,
            fd_html=None,
            fd_json=report,
        )
    except (pyx12.errors.X12Error, pyx12.errors.EngineError) as err:
        return [f"not a readable X12 file: {_masked(str(err))}"]
    except UnicodeDecodeError:
        # pyx12 reads ASCII only: a PDF, a spreadsheet or a zip offered as an 835 ends here.
        return ["not an X12 file: it is not plain text (a PDF, spreadsheet or zip file?)"]
    problems: list[str] = []
    if report.getvalue().strip():
        _collect(json.loads(report.getvalue()), problems, None, None)
    if not ok and not problems:
        problems.append("not an X12 file (no valid ISA segment at the start)")
    if any("Trailer" in problem and "missing" in problem for problem in problems):
        problems.insert(0, f"the file is truncated: it ends after segment {_count(path)}")
    return problems


def _count(path: Path) -> int:
    reader = pyx12.x12file.X12Reader(str(path))
    try:
        return sum(1 for _ in reader)
    finally:
        reader.close()


def _collect(node: Any, problems: list[str], segment: int | None, seg_id: str | None) -> None:
    if isinstance(node, list):
        for item in node:
            _collect(item, problems, segment, seg_id)
        return
    if not isinstance(node, dict):
        return
    segment = node.get("seg_count", segment)
    seg_id = node.get("seg_id", seg_id)
    for error in node.get("errors") or []:
        where = f"segment {segment}" if segment else f"line {node.get('cur_line', '?')}"
        label = f"{where} ({seg_id})" if seg_id else where
        problems.append(f"{label}: {_masked(str(error.get('err_str')))}")
    for key, value in node.items():
        if key != "errors" and isinstance(value, list | dict):
            _collect(value, problems, segment, seg_id)


def read_835(path: Path) -> list[Remittance]:
    """Every transaction set (ST/SE) of the file, or ``RemitFileError`` naming what is wrong.
    A file larger than any real 835 is refused before it is read."""
    try:
        check_size(path, MAX_X12_BYTES, "835 files")
    except FileProblem as err:
        raise RemitFileError([str(err)]) from None
    problems = validate(path)
    if problems:
        raise RemitFileError(problems)
    parser = _Parser()
    reader = pyx12.x12file.X12Reader(str(path))
    try:
        for seg in reader:
            parser.segment(seg, reader.get_seg_count())
    finally:
        reader.close()
    if parser.problems:
        raise RemitFileError(parser.problems)
    if not parser.done:
        raise RemitFileError(["the file holds no 835 transaction"])
    return parser.done


def _amount(text: str | None) -> Decimal:
    try:
        return Decimal(text or "0").quantize(Decimal("0.01"))
    except InvalidOperation:
        return Decimal("0.00")


def _day(text: str | None) -> date | None:
    if not text:
        return None
    return datetime.strptime(text, "%Y%m%d").date()


class _Parser:
    def __init__(self) -> None:
        self.done: list[Remittance] = []
        self.problems: list[str] = []
        self._reset()

    def _reset(self) -> None:
        self.header: dict[str, Any] = {}
        self.claims: list[ClaimPayment] = []
        self.plb: list[ProviderAdjustment] = []
        self.claim: dict[str, Any] | None = None
        self.line: dict[str, Any] | None = None

    def segment(self, seg: Any, number: int) -> None:
        seg_id = seg.get_seg_id()
        get = seg.get_value
        if seg_id == "GS" and get("GS08") != VERSION:
            self.problems.append(f"the file is not an 835 {VERSION} (GS08 says otherwise)")
        elif seg_id == "ST":
            self._reset()
        elif seg_id == "BPR":
            self.header.update(
                amount=_amount(get("BPR02")), method=get("BPR04") or "", date=_day(get("BPR16"))
            )
        elif seg_id == "TRN" and "trace" not in self.header:
            self.header.update(trace=get("TRN02"), payer_id=get("TRN03") or "")
        elif seg_id == "N1" and get("N101") == "PR":
            self.header["payer_name"] = get("N102") or ""
        elif seg_id == "CLP":
            self._end_claim()
            self.claim = {
                "pcn": get("CLP01"),
                "status": get("CLP02"),
                "charge": _amount(get("CLP03")),
                "paid": _amount(get("CLP04")),
                "patient": _amount(get("CLP05")),
                "payer_ccn": get("CLP07") or None,
                "adjustments": [],
                "remarks": [],
                "lines": [],
                "segment": number,
            }
        elif seg_id == "CAS":
            target = self.line or self.claim
            if target is not None:
                target["adjustments"].extend(_adjustments(seg))
        elif seg_id == "MOA" and self.claim is not None:
            self.claim["remarks"].extend(
                code for code in (get(f"MOA{i:02d}") for i in range(3, 8)) if code
            )
        elif seg_id == "SVC":
            self._end_line()
            billed = "SVC06" if get("SVC06-2") else "SVC01"
            units = get("SVC07") if billed == "SVC06" and get("SVC07") else get("SVC05")
            self.line = {
                "code": get(f"{billed}-2"),
                "modifiers": tuple(m for m in (get(f"{billed}-{i}") for i in range(3, 7)) if m),
                "charge": _amount(get("SVC02")),
                "paid": _amount(get("SVC03")),
                "units": int(Decimal(units)) if units else None,
                "first": None,
                "last": None,
                "adjustments": [],
                "remarks": [],
                "segment": number,
            }
        elif seg_id == "DTM" and self.line is not None:
            qualifier, day = get("DTM01"), _day(get("DTM02"))
            if qualifier in ("472", "150"):
                self.line["first"] = day
            if qualifier in ("472", "151"):
                self.line["last"] = day
        elif seg_id == "LQ" and self.line is not None and get("LQ01") == "HE":
            self.line["remarks"].append(get("LQ02"))
        elif seg_id == "PLB":
            self._end_claim()
            self.plb.extend(_provider_adjustments(seg))
        elif seg_id == "SE":
            self._end_claim()
            self._finish()

    def _end_line(self) -> None:
        if self.line is not None and self.claim is not None:
            line = self.line
            self.claim["lines"].append(
                ServicePayment(
                    code=line["code"],
                    modifiers=line["modifiers"],
                    charge=line["charge"],
                    paid=line["paid"],
                    units=line["units"],
                    first_date=line["first"],
                    last_date=line["last"] or line["first"],
                    adjustments=tuple(line["adjustments"]),
                    remarks=tuple(line["remarks"]),
                    segment=line["segment"],
                )
            )
        self.line = None

    def _end_claim(self) -> None:
        self._end_line()
        if self.claim is not None:
            c = self.claim
            self.claims.append(
                ClaimPayment(
                    patient_control_number=c["pcn"],
                    status=c["status"],
                    charge=c["charge"],
                    paid=c["paid"],
                    patient_responsibility=c["patient"],
                    payer_claim_control_number=c["payer_ccn"],
                    adjustments=tuple(c["adjustments"]),
                    remarks=tuple(c["remarks"]),
                    lines=tuple(c["lines"]),
                    segment=c["segment"],
                )
            )
        self.claim = None

    def _finish(self) -> None:
        header = self.header
        if header.get("date") is None:
            self.problems.append("BPR16 (payment date) is missing")
            return
        self.done.append(
            Remittance(
                trace_number=header.get("trace") or "",
                payer_id=header.get("payer_id") or "",
                payer_name=header.get("payer_name") or "",
                payment_amount=header.get("amount", Decimal("0.00")),
                payment_method=header.get("method", ""),
                payment_date=header["date"],
                claims=tuple(self.claims),
                provider_adjustments=tuple(self.plb),
            )
        )
        self._reset()


def _adjustments(seg: Any) -> list[Adjustment]:
    group = seg.get_value("CAS01")
    found = []
    for start in range(2, 20, 3):
        reason = seg.get_value(f"CAS{start:02d}")
        if not reason:
            continue
        quantity = seg.get_value(f"CAS{start + 2:02d}")
        found.append(
            Adjustment(
                group=group,
                reason=reason,
                amount=_amount(seg.get_value(f"CAS{start + 1:02d}")),
                quantity=Decimal(quantity) if quantity else None,
            )
        )
    return found


def _provider_adjustments(seg: Any) -> list[ProviderAdjustment]:
    provider = seg.get_value("PLB01")
    fiscal = _day(seg.get_value("PLB02"))
    found = []
    for start in range(3, 15, 2):
        if not seg.get_value(f"PLB{start:02d}-1"):
            continue
        found.append(
            ProviderAdjustment(
                provider_id=provider,
                fiscal_date=fiscal or date.min,
                reason=seg.get_value(f"PLB{start:02d}-1"),
                reference=seg.get_value(f"PLB{start:02d}-2") or None,
                amount=_amount(seg.get_value(f"PLB{start + 1:02d}")),
            )
        )
    return found
