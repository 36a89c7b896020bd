"""Files the tests write, in the plan's own formats: CSVs, a Member Information File and
an X12 834 built segment by segment."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ecmbill.exchange.layouts import default_layouts

PLAN = "CHPIV"


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as source:
        return list(csv.reader(source))


def mif_header() -> list[str]:
    return list(default_layouts().mif_columns.values())


def mif_row(
    cin: str,
    last: str,
    first: str,
    birth: str,
    *,
    address: str = "12 Main St",
    city: str = "El Centro",
    state: str = "CA",
    zip_code: str = "92243",
    phone: str = "(760) 555-1234",
    homeless: str = "N",
    pof: str = "Adults Experiencing Homelessness",
    assigned: str = "2026-09-15",
    plan: str = PLAN,
    sex: str = "",
) -> list[str]:
    """A row in the layout's column order."""
    by_field = {
        "plan_id": plan,
        "member_id": cin,
        "last_name": last,
        "first_name": first,
        "birth_date": birth,
        "address": address,
        "city": city,
        "state": state,
        "zip": zip_code,
        "phone": phone,
        "homeless": homeless,
        "population_of_focus": pof,
        "assignment_date": assigned,
        "sex": sex,
    }
    return [by_field[name] for name in default_layouts().mif_columns]


@dataclass(frozen=True)
class Member834:
    cin: str
    last: str
    first: str
    birth: str  # CCYYMMDD
    start: str  # CCYYMMDD, DTP*348
    end: str | None = None  # CCYYMMDD, DTP*349
    maintenance: str = "030"  # 021 add, 024 termination, 030 audit


def build_834(members: Sequence[Member834], *, control: int = 1) -> str:
    """A complete 834 005010X220A1 interchange, one segment per line."""
    body = [
        "ST*834*0001*005010X220A1",
        f"BGN*00*ELIG{control:05d}*20261101*1200****4",
        "N1*P5*IMPERIAL CARE PARTNERS*FI*123456789",
        f"N1*IN*{PLAN}*FI*987654321",
    ]
    for m in members:
        body += [
            f"INS*Y*18*{m.maintenance}*XN*A***FT",
            f"REF*0F*{m.cin}",
            f"NM1*IL*1*{m.last}*{m.first}",
            f"DMG*D8*{m.birth}*F",
            f"HD*{m.maintenance}**HLT",
            f"DTP*348*D8*{m.start}",
        ]
        if m.end:
            body.append(f"DTP*349*D8*{m.end}")
    body.append(f"SE*{len(body) + 1}*0001")
    segments = [
        f"ISA*00*{' ' * 10}*00*{' ' * 10}*ZZ*{PLAN:<15}*ZZ*{'ECMPROVIDER':<15}*261101*1200*^*00501"
        f"*{control:09d}*0*T*:",
        f"GS*BE*{PLAN}*ECMPROVIDER*20261101*1200*{control}*X*005010X220A1",
        *body,
        f"GE*1*{control}",
        f"IEA*1*{control:09d}",
    ]
    return "".join(f"{segment}~\n" for segment in segments)
