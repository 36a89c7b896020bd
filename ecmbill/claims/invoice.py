"""The plan's invoice file (for plans that take an invoice instead of an 837): one row per
claim line, as CSV or XLSX."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from ecmbill.store.files import Cell, neutralise, write_table

COLUMNS = (
    "member_id",
    "member_name",
    "birth_date",
    "service_from",
    "service_to",
    "hcpcs_code",
    "modifiers",
    "units",
    "charge",
    "billing_npi",
    "rendering_npi",
    "place_of_service",
    "claim_frequency",
    "original_claim_reference",
    "patient_control_number",
)


@dataclass(frozen=True)
class InvoiceRow:
    member_id: str
    member_name: str
    birth_date: date
    service_from: date
    service_to: date
    hcpcs_code: str
    modifiers: str
    units: int
    charge: Decimal
    billing_npi: str
    rendering_npi: str
    place_of_service: str
    claim_frequency: str
    original_claim_reference: str
    patient_control_number: str

    def values(self) -> tuple[Cell, ...]:
        return tuple(getattr(self, name) for name in COLUMNS)


def _cells(rows: Sequence[InvoiceRow]) -> Iterable[Sequence[Cell]]:
    return (row.values() for row in rows)


def write_csv(rows: Sequence[InvoiceRow], target: Path) -> None:
    """The invoice as CSV, formula-safe (``ecmbill.store.files``)."""
    write_table(target, COLUMNS, _cells(rows), kind="csv")


def write_xlsx(rows: Sequence[InvoiceRow], target: Path) -> None:
    """The invoice as XLSX, formula-safe (``ecmbill.store.files``); text starting like a
    formula also carries the apostrophe in its value, as in the CSV (the plan reads both)."""
    quoted = ([neutralise(value) for value in cells] for cells in _cells(rows))
    write_table(target, COLUMNS, quoted, kind="xlsx", sheet="invoice")
