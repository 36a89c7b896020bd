"""A small writer for the ASC X12 837 Professional claim, version 005010X222A1.

One interchange, one functional group, one transaction set holding every claim of the export:

    ISA GS ST BHT
      1000A submitter (NM1*41, PER)   1000B receiver (NM1*40)
      2000A billing provider HL (20)  2010AA NM1*85 N3 N4 REF*EI
        2000B subscriber HL (22) SBR  2010BA NM1*IL (member, CIN as MI) N3 N4 DMG  2010BB NM1*PR
          2300 CLM (frequency 1/7/8) REF*F8 (7/8) HI*ABK
            2400 LX SV1 DTP*472 [2420A NM1*82 rendering provider]
    SE GE IEA

The member is the subscriber and the patient (SBR02 = 18), so there is no 2000C patient loop,
and the TR3's situational rule makes the subscriber's address (N3/N4) and demographics (DMG,
with the sex the plan sent) required in 2010BA.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TextIO

from ecmbill.claims.settings import ProviderSettings
from ecmbill.domain.claims import MAX_LINES_PER_CLAIM, ChargeLine, Frequency

VERSION = "005010X222A1"
ELEMENT, COMPONENT, REPETITION, TERMINATOR = "*", ":", "^", "~"
MAX_CONTROL_NUMBER = 999_999_999


@dataclass(frozen=True)
class Address:
    street: str
    city: str
    state: str
    zip: str


@dataclass(frozen=True)
class Subscriber:
    member_id: str
    first_name: str
    last_name: str
    birth_date: date
    # 2010BA N3/N4: required when the subscriber is the patient (SBR02 = 18); left out only
    # when the contract says the payer waives it.
    address: Address | None = None
    sex: str = "U"  # DMG03: F, M or U


@dataclass(frozen=True)
class OutgoingClaim:
    patient_control_number: str
    frequency: Frequency
    # REF*F8: the payer's claim control number of the claim being corrected (else ours).
    original_reference: str | None
    subscriber: Subscriber
    diagnosis_code: str
    place_of_service: str
    lines: tuple[ChargeLine, ...]


@dataclass(frozen=True)
class ControlNumbers:
    interchange: int
    group: int
    transaction: int

    def __post_init__(self) -> None:
        for value in (self.interchange, self.group, self.transaction):
            if not 1 <= value <= MAX_CONTROL_NUMBER:
                raise ValueError("X12 control numbers run from 1 to 999999999")


def clean(text: str) -> str:
    """Plain upper-case ASCII without our delimiters: names may hold accents or a stray '*'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    for char in (ELEMENT, COMPONENT, REPETITION, TERMINATOR):
        ascii_text = ascii_text.replace(char, " ")
    return " ".join(ascii_text.upper().split())


def money(amount: Decimal) -> str:
    """X12 decimal: no trailing zeros needed, never an exponent."""
    text = f"{amount.quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def split_name(full_name: str) -> tuple[str, str]:
    """Staff are stored with one name; the last word is the family name."""
    parts = clean(full_name).split(" ")
    if len(parts) == 1:
        return parts[0], ""
    return parts[-1], " ".join(parts[:-1])


def _segment(*elements: str) -> str:
    """One segment without its terminator; trailing empty elements are left out, as the
    standard requires."""
    if elements[-1]:
        return ELEMENT.join(elements)
    end = len(elements)
    while end and not elements[end - 1]:
        end -= 1
    return ELEMENT.join(elements[:end])


class Writer837P:
    """Writes one 837P to ``out`` as its claims come, a few thousand at a time, so that a
    month of claims is never held whole as segments or text: the envelope and the billing
    provider first, then :meth:`add` for each group of claims, then :meth:`finish` for the
    trailers (SE counts the segments written)."""

    def __init__(
        self,
        out: TextIO,
        settings: ProviderSettings,
        control: ControlNumbers,
        created: datetime,
        rendering_names: Mapping[str, str] | None = None,
    ) -> None:
        self._out = out
        self._settings = settings
        self._control = control
        self._names = rendering_names or {}
        self._st = f"{control.transaction:04d}"
        self._next_hl = 2
        self._body = 0  # segments from ST on, for SE01
        # The same for every claim of the file: cleaned once.
        self._payer = _segment("NM1", "PR", "2", clean(settings.payer_name), "", "", "", "",
                               "PI", settings.payer_id)  # fmt: skip
        self._rendering: dict[str, str] = {}
        envelope = [
            _segment(
                "ISA", "00", " " * 10, "00", " " * 10, "ZZ", settings.submitter_id.ljust(15),
                "ZZ", settings.receiver_id.ljust(15), created.strftime("%y%m%d"),
                created.strftime("%H%M"), REPETITION, "00501", f"{control.interchange:09d}", "0",
                settings.usage, COMPONENT,
            ),
            _segment(
                "GS", "HC", settings.submitter_id.strip(), settings.receiver_id.strip(),
                created.strftime("%Y%m%d"), created.strftime("%H%M"), str(control.group), "X",
                VERSION,
            ),
        ]  # fmt: skip
        head = [
            _segment("ST", "837", self._st, VERSION),
            _segment(
                "BHT", "0019", "00", f"{control.interchange:09d}", created.strftime("%Y%m%d"),
                created.strftime("%H%M"), "CH",
            ),
            _segment("NM1", "41", "2", clean(settings.billing_name), "", "", "", "", "46",
                     settings.submitter_id),
            _segment("PER", "IC", clean(settings.billing_contact), "TE", settings.billing_phone),
            _segment("NM1", "40", "2", clean(settings.receiver_name), "", "", "", "", "46",
                     settings.receiver_id),
            _segment("HL", "1", "", "20", "1"),
            _segment("PRV", "BI", "PXC", settings.billing_taxonomy),
            _segment("NM1", "85", "2", clean(settings.billing_name), "", "", "", "", "XX",
                     settings.billing_npi),
            _segment("N3", clean(settings.billing_address)),
            _segment("N4", clean(settings.billing_city), settings.billing_state,
                     settings.billing_zip),
            _segment("REF", "EI", settings.billing_ein),
        ]  # fmt: skip
        self._body += len(head)
        self._write(envelope + head)

    def _write(self, segments: list[str]) -> None:
        self._out.write("".join(f"{segment}{TERMINATOR}\n" for segment in segments))

    def add(self, claims: Iterable[OutgoingClaim]) -> None:
        segments: list[str] = []
        for claim in claims:
            self._claim(segments, self._next_hl, claim)
            self._next_hl += 1
        self._body += len(segments)
        self._write(segments)

    def finish(self) -> None:
        if self._next_hl == 2:
            raise ValueError("an 837P needs at least one claim")
        group, interchange = self._control.group, self._control.interchange
        self._write(
            [
                _segment("SE", str(self._body + 1), self._st),
                _segment("GE", "1", str(group)),
                _segment("IEA", "1", f"{interchange:09d}"),
            ]
        )

    def _claim(self, body: list[str], hl_number: int, claim: OutgoingClaim) -> None:
        if not claim.lines:
            raise ValueError(f"claim {claim.patient_control_number} has no lines")
        if len(claim.lines) > MAX_LINES_PER_CLAIM:
            raise ValueError(
                f"claim {claim.patient_control_number} has {len(claim.lines)} lines; an 837P "
                f"claim holds at most {MAX_LINES_PER_CLAIM}"
            )
        member = claim.subscriber
        add = body.append
        add(_segment("HL", str(hl_number), "1", "22", "0"))
        add("SBR*P*18*******MC")
        add(_segment("NM1", "IL", "1", clean(member.last_name), clean(member.first_name), "", "",
                     "", "MI", member.member_id))  # fmt: skip
        if member.address is not None:
            add(_segment("N3", clean(member.address.street)[:55]))
            add(_segment("N4", clean(member.address.city)[:30], member.address.state,
                         member.address.zip.replace("-", "")))  # fmt: skip
        add(_segment("DMG", "D8", member.birth_date.strftime("%Y%m%d"), member.sex))
        add(self._payer)
        total = sum((line.charge for line in claim.lines), Decimal("0"))
        add(
            _segment(
                "CLM", claim.patient_control_number, money(total), "", "",
                COMPONENT.join((claim.place_of_service, "B", claim.frequency.value)), "Y", "A",
                "Y", "Y",
            )
        )  # fmt: skip
        if claim.frequency is not Frequency.ORIGINAL:
            if not claim.original_reference:
                raise ValueError(
                    f"claim {claim.patient_control_number}: a replacement or void needs the "
                    "original claim's reference (REF*F8)"
                )
            add(_segment("REF", "F8", claim.original_reference))
        add(_segment("HI", f"ABK{COMPONENT}{claim.diagnosis_code}"))
        on_line = self._settings.rendering_npi_on_line
        for number, line in enumerate(claim.lines, start=1):
            add(f"LX*{number}")
            add(
                _segment(
                    "SV1", COMPONENT.join(("HC", line.code, *line.modifiers)), money(line.charge),
                    "UN", str(line.units), "", "", "1",
                )
            )  # fmt: skip
            if line.first_date == line.last_date:
                add(_segment("DTP", "472", "D8", line.first_date.strftime("%Y%m%d")))
            else:
                add(f"DTP*472*RD8*{line.first_date:%Y%m%d}-{line.last_date:%Y%m%d}")
            if on_line and line.rendering_npi:
                add(self._rendering_provider(line.rendering_npi))

    def _rendering_provider(self, npi: str) -> str:
        found = self._rendering.get(npi)
        if found is None:
            last, first = split_name(self._names.get(npi, "") or "UNKNOWN")
            found = self._rendering[npi] = _segment("NM1", "82", "1", last, first, "", "", "",
                                                    "XX", npi)  # fmt: skip
        return found


def write_837p(
    settings: ProviderSettings,
    claims: Sequence[OutgoingClaim],
    control: ControlNumbers,
    created: datetime,
    rendering_names: Mapping[str, str] | None = None,
) -> str:
    """The whole 837P as text (:class:`Writer837P` writes one to a file as claims come)."""
    if not claims:
        raise ValueError("an 837P needs at least one claim")
    out = io.StringIO()
    writer = Writer837P(out, settings, control, created, rendering_names)
    writer.add(claims)
    writer.finish()
    return out.getvalue()
