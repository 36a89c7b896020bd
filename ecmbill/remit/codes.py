"""Descriptions of adjustment reason (CARC) and remark (RARC) codes, from ``codes.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

UNKNOWN = "unknown code"


@dataclass(frozen=True)
class CodeTables:
    carc: dict[str, str]
    rarc: dict[str, str]

    def describe_carc(self, code: str) -> str:
        return self.carc.get(code, UNKNOWN)

    def describe_rarc(self, code: str) -> str:
        return self.rarc.get(code, UNKNOWN)


def parse_codes(text: str) -> CodeTables:
    data = tomllib.loads(text)
    return CodeTables(
        carc={str(k): str(v) for k, v in data.get("carc", {}).items()},
        rarc={str(k): str(v) for k, v in data.get("rarc", {}).items()},
    )


@cache
def default_codes() -> CodeTables:
    return parse_codes(
        resources.files("ecmbill.remit").joinpath("codes.toml").read_text(encoding="utf-8")
    )


def load_codes(path: Path | None) -> CodeTables:
    """An updated code file if given, else the one shipped with ecmbill."""
    return parse_codes(path.read_text(encoding="utf-8")) if path else default_codes()
