"""The exchange files' layouts, read from ``layouts.toml`` (or a plan's own copy)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any


class LayoutError(ValueError):
    """The layouts file is unreadable or misses a section."""


@dataclass(frozen=True)
class Layouts:
    date_format: str
    xlsx_date_format: str
    mif_columns: dict[str, str]
    mif_optional: frozenset[str]
    otf_columns: dict[str, str]
    otf_values: dict[str, dict[str, str]]
    rtf_columns: dict[str, str]
    rtf_values: dict[str, dict[str, str]]
    rtf_period_format: str
    rtf_activities: dict[str, tuple[str, ...]]


OTF_FIELDS = [
    "mcp_id",
    "mcp_name",
    "provider_name",
    "provider_npi",
    "provider_tin",
    "client_name",
    "member_id",
    "provider_type",
    "date",
    "method",
    "successful",
    "minutes",
]
RTF_FIELDS = [
    "mcp_id",
    "mcp_name",
    "member_id",
    "last_name",
    "first_name",
    "new_address",
    "homeless",
    "address",
    "city",
    "state",
    "zip",
    "new_phone",
    "phone",
    "pof_indicator",
    "population_of_focus",
    "status",
    "acuity",
    "enrollment_start",
    "enrollment_end",
    "care_plan",
    "care_conference",
    "assessment_started",
    "assessment_completed",
    "last_encounter",
    "lcm_name",
    "lcm_phone",
    "lcm_email",
    "discontinuation_date",
    "discontinuation_code",
    "discontinuation_reason",
    "in_person",
    "telephonic",
    "produced_on",
    "reporting_period",
    "provider_name",
    "provider_npi",
    "provider_tin",
    "provider_phone",
]
MIF_FIELDS = [
    "plan_id",
    "member_id",
    "last_name",
    "first_name",
    "birth_date",
    "address",
    "city",
    "state",
    "zip",
    "phone",
    "homeless",
    "population_of_focus",
    "assignment_date",
    "sex",
]


def parse_layouts(text: str, source: str = "layouts") -> Layouts:
    try:
        data: dict[str, Any] = tomllib.loads(text)
        mif, otf, rtf = data["mif"], data["otf"], data["rtf"]
        layouts = Layouts(
            date_format=data["date_format"],
            xlsx_date_format=data["xlsx_date_format"],
            mif_columns=dict(mif["columns"]),
            mif_optional=frozenset(mif.get("optional", ())),
            otf_columns=dict(otf["columns"]),
            otf_values={k: dict(v) for k, v in otf.items() if k != "columns"},
            rtf_columns=dict(rtf["columns"]),
            rtf_values={k: dict(v) for k, v in rtf.items() if k not in {"columns", "activities"}},
            rtf_period_format=rtf["period"]["format"],
            rtf_activities={k: tuple(v) for k, v in rtf["activities"].items()},
        )
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as err:
        raise LayoutError(f"{source}: {type(err).__name__}: {err}") from None
    for name, columns, fields in (
        ("mif", layouts.mif_columns, MIF_FIELDS),
        ("otf", layouts.otf_columns, OTF_FIELDS),
        ("rtf", layouts.rtf_columns, RTF_FIELDS),
    ):
        unknown = sorted(set(columns) - set(fields))
        if unknown:
            raise LayoutError(f"{source}: [{name}.columns] unknown field(s): {', '.join(unknown)}")
    return layouts


def load_layouts(path: Path) -> Layouts:
    return parse_layouts(path.read_text(encoding="utf-8"), str(path))


@cache
def default_layouts() -> Layouts:
    text = resources.files("ecmbill.exchange").joinpath("layouts.toml").read_text("utf-8")
    return parse_layouts(text, "default layouts")
