"""The plan's invoice file (for plans that take an invoice instead of an 837): one row per
claim line, as CSV or XLSX."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

from ecmbill.domain.values import FORMULA_START
from ecmbill.store.files import write_atomically

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

    def values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in COLUMNS)


def neutralise(value: object) -> object:
    """A text cell starting like a formula (= + - @) is prefixed with a quote, so a
    spreadsheet shows it as text instead of running it."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _csv_value(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(neutralise(value))


def write_csv(rows: Sequence[InvoiceRow], target: Path) -> None:
    def write(path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(COLUMNS)
            for row in rows:
                writer.writerow([_csv_value(value) for value in row.values()])

    write_atomically(target, write)


def write_xlsx(rows: Sequence[InvoiceRow], target: Path) -> None:
    def write(path: Path) -> None:
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "invoice"
        sheet.append(COLUMNS)
        for row in rows:
            sheet.append([neutralise(value) for value in row.values()])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, date):
                    cell.number_format = "yyyy-mm-dd"
                elif isinstance(cell.value, Decimal):
                    cell.number_format = "0.00"
        book.save(path)

    write_atomically(target, write)
