"""Checking a 270 or 271 against the 005010X279A1 guide with x12sdk, and collecting what it
reports.

pyx12 (4.0.0, the newest release) ships no map of 005010X279A1, so it can check only a 270's
or 271's envelope (``ecmbill.x12.validation.envelope_errors``). x12sdk parses each transaction
set into Pydantic models of the guide's loops and segments: the required loops and segments,
which segment belongs in which loop, repeat counts, code lists, element counts, the HL parents
and child codes, and the SE count. It does not read the envelope: keep pyx12's check beside it.

One gap of x12sdk 2.2.0 is corrected here: its 271 models give the subscriber's and the
dependent's request validation (AAA in 2100C and 2100D) the information receiver's code list
(2100B), so "75, subscriber not found", the commonest rejection of a 271, would fail. The 271
models below differ from x12sdk's only in those two code lists, which are the guide's."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from x12sdk.io import X12SegmentReader
from x12sdk.parsing import X12Parser, create_parser
from x12sdk.v5010.x12_271_005010X279A1 import loops, segments, transaction_set

ENVELOPE = frozenset({"ISA", "GS", "GE", "IEA"})
# 005010X279A1 AAA03 in loops 2100C (subscriber) and 2100D (dependent) of the 271.
SUBSCRIBER_REASONS = "15 35 42 43 45 47 48 49 51 52 56 57 58 60 61 62 63 71 72 73 74 75 76 78"
DEPENDENT_REASONS = "15 35 42 43 45 47 48 49 51 52 56 57 58 60 61 62 63 64 65 66 67 68 71 77"


def _aaa(name: str, codes: str) -> Any:
    """x12sdk's AAA segment of the 2100B loop with another list of AAA03 codes."""
    reasons = Enum(f"{name}Reason", {f"CODE_{code}": code for code in codes.split()}, type=str)
    annotations = {"reject_reason_code": reasons}
    return type(name, (segments.Loop2100BAaaSegment,), {"__annotations__": annotations})


_SubscriberAaa = _aaa("Loop2100CAaaSegment", SUBSCRIBER_REASONS)
_DependentAaa = _aaa("Loop2100DAaaSegment", DEPENDENT_REASONS)


class _Loop2100D(loops.Loop2100D):
    aaa_segment: list[_DependentAaa] | None = Field(None, min_length=0, max_length=9)


class _Loop2000D(loops.Loop2000D):
    loop_2100d: _Loop2100D


class _Loop2100C(loops.Loop2100C):
    aaa_segment: list[_SubscriberAaa] | None = Field(None, min_length=0, max_length=9)


class _Loop2000C(loops.Loop2000C):
    loop_2100c: _Loop2100C
    loop_2000d: list[_Loop2000D] | None = Field(None, min_length=0)


class _Loop2000B(loops.Loop2000B):
    loop_2000c: list[_Loop2000C] | None = None


class _Loop2000A(loops.Loop2000A):
    loop_2000b: list[_Loop2000B] = Field(default_factory=list, min_length=0)


class _EligibilityBenefit(transaction_set.EligibilityBenefit):
    loop_2000a: list[_Loop2000A]


def x279_errors(path: Path) -> list[str]:
    """Every error x12sdk reports for the 270s and 271s in the file, each naming its transaction
    set, the segment's place in the file and the loop and element at fault; empty when every
    transaction set is valid. After an error the rest of that transaction set is skipped."""
    errors: list[str] = []
    parser: X12Parser | None = None
    version, where, sets, skipping = "", "", 0, False
    try:
        with X12SegmentReader(str(path)) as reader:
            for number, (name, fields) in enumerate(reader.segments(), start=1):
                if name == "GS":
                    version = fields[8] if len(fields) > 8 else ""
                if name in ENVELOPE:
                    continue
                if name == "ST":
                    sets, skipping = sets + 1, False
                    where = f"ST {fields[1]} {fields[2] if len(fields) > 2 else ''}".strip()
                    parser = _parser(fields[1], version, reader)
                if parser is None:
                    if not skipping:  # once, not for each segment up to the next ST
                        errors.append(f"segment {number} {name} is outside a transaction set")
                    skipping = True
                    continue
                try:
                    if parser.parse(name, fields) is not None:
                        parser = None  # SE closed the transaction set
                except ValidationError as err:
                    errors.extend(f"{where}: {_described(error)}" for error in err.errors())
                    parser, skipping = None, True
                except Exception as err:  # x12sdk's loop parsers fail in many ways on a bad file
                    errors.append(
                        f"{where}: segment {number} {name} has no place in the guide's loops "
                        f"here ({type(err).__name__}: {err})"
                    )
                    parser, skipping = None, True
    except (ValueError, KeyError, ModuleNotFoundError) as err:
        errors.append(f"x12sdk could not read the file: {err}")
    if parser is not None:
        errors.append(f"{where}: the transaction set ends without its SE")
    if sets == 0 and not errors:
        errors.append("the file holds no transaction set")
    return errors


def _parser(code: str, version: str, reader: X12SegmentReader) -> X12Parser:
    parser = create_parser(code, version, reader.delimiters)
    if code == "271":
        parser._transaction_model = _EligibilityBenefit  # the guide's AAA codes (see above)
    return parser


def _described(error: Any) -> str:
    place = ".".join(str(part) for part in error["loc"]) or "transaction set"
    found = error.get("input")
    shown = f" (found {found!r})" if isinstance(found, str) else ""
    return f"{place}: {error['msg']}{shown}"
