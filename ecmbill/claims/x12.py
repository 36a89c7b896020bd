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

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

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


class _Segments:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, *elements: str) -> None:
        values = list(elements)
        while values and values[-1] == "":
            values.pop()  # trailing empty elements are left out, as the standard requires
        self.items.append(ELEMENT.join(values))


def write_837p(
    settings: ProviderSettings,
    claims: Sequence[OutgoingClaim],
    control: ControlNumbers,
    created: datetime,
    rendering_names: Mapping[str, str] | None = None,
) -> str:
    if not claims:
        raise ValueError("an 837P needs at least one claim")
    names = rendering_names or {}
    st = f"{control.transaction:04d}"
    body = _Segments()
    body.add("ST", "837", st, VERSION)
    body.add(
        "BHT", "0019", "00", f"{control.interchange:09d}", created.strftime("%Y%m%d"),
        created.strftime("%H%M"), "CH",
    )  # fmt: skip
    body.add("NM1", "41", "2", clean(settings.billing_name), "", "", "", "", "46",
             settings.submitter_id)  # fmt: skip
    body.add("PER", "IC", clean(settings.billing_contact), "TE", settings.billing_phone)
    body.add("NM1", "40", "2", clean(settings.receiver_name), "", "", "", "", "46",
             settings.receiver_id)  # fmt: skip
    body.add("HL", "1", "", "20", "1")
    body.add("PRV", "BI", "PXC", settings.billing_taxonomy)
    body.add("NM1", "85", "2", clean(settings.billing_name), "", "", "", "", "XX",
             settings.billing_npi)  # fmt: skip
    body.add("N3", clean(settings.billing_address))
    body.add("N4", clean(settings.billing_city), settings.billing_state, settings.billing_zip)
    body.add("REF", "EI", settings.billing_ein)
    for number, claim in enumerate(claims, start=2):
        _claim(body, number, claim, settings, names)
    body.add("SE", str(len(body.items) + 1), st)

    envelope = _Segments()
    envelope.add(
        "ISA", "00", " " * 10, "00", " " * 10, "ZZ", settings.submitter_id.ljust(15), "ZZ",
        settings.receiver_id.ljust(15), created.strftime("%y%m%d"), created.strftime("%H%M"),
        REPETITION, "00501", f"{control.interchange:09d}", "0", settings.usage, COMPONENT,
    )  # fmt: skip
    envelope.add(
        "GS", "HC", settings.submitter_id.strip(), settings.receiver_id.strip(),
        created.strftime("%Y%m%d"), created.strftime("%H%M"), str(control.group), "X", VERSION,
    )  # fmt: skip
    trailer = _Segments()
    trailer.add("GE", "1", str(control.group))
    trailer.add("IEA", "1", f"{control.interchange:09d}")
    segments = envelope.items + body.items + trailer.items
    return "".join(f"{segment}{TERMINATOR}\n" for segment in segments)


def _claim(
    body: _Segments,
    hl_number: int,
    claim: OutgoingClaim,
    settings: ProviderSettings,
    names: Mapping[str, str],
) -> None:
    if not claim.lines:
        raise ValueError(f"claim {claim.patient_control_number} has no lines")
    if len(claim.lines) > MAX_LINES_PER_CLAIM:
        raise ValueError(
            f"claim {claim.patient_control_number} has {len(claim.lines)} lines; an 837P claim "
            f"holds at most {MAX_LINES_PER_CLAIM}"
        )
    member = claim.subscriber
    body.add("HL", str(hl_number), "1", "22", "0")
    body.add("SBR", "P", "18", "", "", "", "", "", "", "MC")
    body.add("NM1", "IL", "1", clean(member.last_name), clean(member.first_name), "", "", "",
             "MI", member.member_id)  # fmt: skip
    if member.address is not None:
        body.add("N3", clean(member.address.street)[:55])
        body.add("N4", clean(member.address.city)[:30], member.address.state,
                 member.address.zip.replace("-", ""))  # fmt: skip
    body.add("DMG", "D8", member.birth_date.strftime("%Y%m%d"), member.sex)
    body.add("NM1", "PR", "2", clean(settings.payer_name), "", "", "", "", "PI",
             settings.payer_id)  # fmt: skip
    total = sum((line.charge for line in claim.lines), Decimal("0"))
    body.add(
        "CLM", claim.patient_control_number, money(total), "", "",
        COMPONENT.join((claim.place_of_service, "B", claim.frequency.value)), "Y", "A", "Y", "Y",
    )  # fmt: skip
    if claim.frequency is not Frequency.ORIGINAL:
        if not claim.original_reference:
            raise ValueError(
                f"claim {claim.patient_control_number}: a replacement or void needs the "
                "original claim's reference (REF*F8)"
            )
        body.add("REF", "F8", claim.original_reference)
    body.add("HI", f"ABK{COMPONENT}{claim.diagnosis_code}")
    for number, line in enumerate(claim.lines, start=1):
        body.add("LX", str(number))
        body.add(
            "SV1", COMPONENT.join(("HC", line.code, *line.modifiers)), money(line.charge), "UN",
            str(line.units), "", "", "1",
        )  # fmt: skip
        if line.first_date == line.last_date:
            body.add("DTP", "472", "D8", line.first_date.strftime("%Y%m%d"))
        else:
            body.add(
                "DTP", "472", "RD8",
                f"{line.first_date:%Y%m%d}-{line.last_date:%Y%m%d}",
            )  # fmt: skip
        if settings.rendering_npi_on_line and line.rendering_npi:
            last, first = split_name(names.get(line.rendering_npi, "") or "UNKNOWN")
            body.add("NM1", "82", "1", last, first, "", "", "", "XX", line.rendering_npi)
