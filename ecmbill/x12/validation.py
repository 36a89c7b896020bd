"""Reading an X12 interchange with pyx12: the text of a file, the errors pyx12 finds in it
(against the implementation guide's map, or, for a transaction pyx12 has no map of, in its
envelope), and its segments in order. Element values are cut from every reason: they may be a
member's name, identifier or birth date."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyx12.error_handler
import pyx12.errors
import pyx12.params
import pyx12.segment
import pyx12.x12file
import pyx12.x12n_document

from ecmbill.imports.reading import MAX_X12_BYTES, FileProblem, check_size

# pyx12 logs validation messages that can quote element values (names, birth dates): they
# must not reach the terminal or any log.
_pyx12_log = logging.getLogger("pyx12")
_pyx12_log.addHandler(logging.NullHandler())
_pyx12_log.propagate = False

Segment = Any  # pyx12.segment.Segment: get_seg_id(), get_value("NM109")


class NotX12(ValueError):
    """The file is not an X12 interchange at all."""


@dataclass(frozen=True)
class SegmentError:
    segment_number: int | None
    segment: str
    element: str | None
    code: str
    reason: str

    def __str__(self) -> str:
        # pyx12 counts segments from the start of the file (ISA is segment 1).
        where = f"segment {self.segment_number} " if self.segment_number else ""
        element = f" {self.element}" if self.element else ""
        return f"{where}{self.segment}{element}: {self.reason} (error {self.code})"


def read_interchange(path: Path, *, what: str = "X12 files") -> str:
    """The file's text, or ``NotX12`` saying why it cannot be an interchange. A file larger
    than any interchange we expect is refused before it is read (``what`` names it)."""
    try:
        check_size(path, MAX_X12_BYTES, what)
    except FileProblem as err:
        raise NotX12(str(err)) from None
    try:
        text = path.read_bytes().decode("ascii")
    except OSError as err:
        raise NotX12(f"cannot open the file ({err.strerror})") from None
    except UnicodeDecodeError:
        raise NotX12("the file is not X12 text (it contains non-ASCII bytes)") from None
    if not text.lstrip().startswith("ISA"):
        raise NotX12("the file is not an X12 interchange (it does not start with ISA)")
    return text


def validate(text: str) -> list[SegmentError]:
    """Every syntax and structure error pyx12 finds against the implementation guide named
    in GS08 (pyx12 must hold a map of it)."""
    report = io.StringIO()
    params = pyx12.params.params()
    try:
        pyx12.x12n_document.x12n_document(params, io.StringIO(text), None, None, fd_json=report)
    except (pyx12.errors.X12Error, pyx12.errors.EngineError) as err:
        # These messages name envelope problems (separators, map not found), not members.
        return [SegmentError(None, "ISA", None, "X12", f"unreadable interchange: {err}")]
    except Exception as err:  # pyx12 on garbage input: say so without echoing the data
        return [
            SegmentError(None, "ISA", None, "X12", f"unreadable interchange ({type(err).__name__})")
        ]
    try:
        tree = json.loads(report.getvalue() or "{}")
    except json.JSONDecodeError:
        return [SegmentError(None, "ISA", None, "X12", "pyx12 could not read the interchange")]
    errors: list[SegmentError] = []
    for isa in tree.get("interchanges", []):
        errors += _level_errors(isa, "ISA")
        for gs in isa.get("groups", []):
            errors += _level_errors(gs, "GS")
            for st in gs.get("transactions", []):
                errors += _level_errors(st, "ST")
                for seg in st.get("segments", []):
                    errors += _segment_errors(seg)
    return errors


def _segment_errors(seg: dict[str, Any]) -> list[SegmentError]:
    number, seg_id = seg.get("cur_line"), seg.get("seg_id", "?")
    found = [
        SegmentError(number, seg_id, None, e["err_cde"], _clean(e)) for e in seg.get("errors", [])
    ]
    for ele in seg.get("elements", []):
        ref = f"{seg.get('seg_id', '')}{int(ele.get('ele_pos') or 0):02d}"
        found += [
            SegmentError(number, seg_id, ref, e["err_cde"], _clean(e))
            for e in ele.get("errors", [])
        ]
    return found


def _level_errors(node: dict[str, Any], segment: str) -> list[SegmentError]:
    return [
        SegmentError(node.get("cur_line"), segment, None, err["err_cde"], _clean(err))
        for err in node.get("errors", [])
    ]


def _clean(err: dict[str, Any]) -> str:
    reason = str(err.get("err_str", ""))
    value = err.get("err_val")
    if value:
        reason = reason.replace(str(value), "…")
    return reason


def envelope_errors(text: str) -> list[SegmentError]:
    """The errors pyx12's reader finds without a map of the transaction: delimiters, ISA/IEA,
    GS/GE and ST/SE pairs, control numbers and counts, HL numbering, missing trailers (a
    truncated file). For a transaction whose guide pyx12 holds no map of."""
    errors: list[SegmentError] = []
    try:
        reader = pyx12.x12file.X12Reader(io.StringIO(text))
    except pyx12.errors.X12Error as err:
        return [SegmentError(None, "ISA", None, "X12", f"unreadable interchange: {err}")]
    number = 0
    try:
        for seg in reader:
            number += 1
            errors += _reader_errors(reader, number, seg.get_seg_id())
        reader.cleanup()  # trailers missing at the end: the file stops after segment ``number``
        errors += _reader_errors(reader, number, "IEA")
    except pyx12.errors.X12Error as err:
        errors.append(SegmentError(number + 1, "?", None, "X12", _masked_value(str(err))))
    return errors


def _reader_errors(reader: Any, number: int | None, seg_id: str) -> list[SegmentError]:
    return [
        SegmentError(number, level.upper() if level != "seg" else seg_id, None, str(code),
                     _masked_value(str(reason)))
        for level, code, reason, *_ in reader.pop_errors()
    ]  # fmt: skip


def _masked_value(reason: str) -> str:
    # The reader quotes a whole segment when it is empty or malformed: never its values.
    reason = re.sub(r'Segment "[^"]*" is empty', "A segment is empty", reason)
    return re.sub(r"\(ISA\*.*\)", "(ISA segment)", reason)


def segments(text: str) -> Iterator[tuple[int, Segment]]:
    """The segments of the interchange with their number (ISA is 1)."""
    reader = pyx12.x12file.X12Reader(io.StringIO(text))
    try:
        yield from enumerate(reader, start=1)
    finally:
        reader.close()
