"""Descriptions of the codes in a payer's answers, from ``codes.toml`` (updatable, like the
CARC table): 277CA categories and statuses, entity codes, 999 errors, 271 rejections."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from ecmbill.remit.codes import UNKNOWN

TABLES = (
    "category", "status", "entity", "segment_error", "element_error", "set_error",
    "group_error", "ack", "aaa", "aaa_action",
)  # fmt: skip


@dataclass(frozen=True)
class PayerCodes:
    tables: dict[str, dict[str, str]]

    def describe(self, table: str, code: str) -> str:
        return self.tables.get(table, {}).get(code, f"{UNKNOWN} {code}")

    def status(self, category: str, status: str, entity: str | None) -> str:
        """One STC composite in words: "A7:562:85" → rejected for invalid information: Entity's
        National Provider Identifier (NPI) (billing provider)."""
        words = f"{self.describe('category', category)}: {self.describe('status', status)}"
        return f"{words} ({self.describe('entity', entity)})" if entity else words


def parse_codes(text: str) -> PayerCodes:
    data = tomllib.loads(text)
    return PayerCodes(
        {name: {str(k): str(v) for k, v in data.get(name, {}).items()} for name in TABLES}
    )


@cache
def default_codes() -> PayerCodes:
    return parse_codes(
        resources.files("ecmbill.payer").joinpath("codes.toml").read_text(encoding="utf-8")
    )


def load_codes(path: Path | None) -> PayerCodes:
    """An updated code file if given, else the one shipped with ecmbill."""
    return parse_codes(path.read_text(encoding="utf-8")) if path else default_codes()
