"""The demo's fictional provider and plan, as the claims settings name them."""

from __future__ import annotations

# For `ecmbill demo` only: a fictional provider and plan. Every identifier is made up; the NPI
# is the standard check-digit example, not a real provider, and ISA15 marks the file as a test.
DEMO_SETTINGS: dict[str, str] = {
    "billing_name": "Demo ECM Provider (fictional)",
    "billing_npi": "1234567893",
    "billing_ein": "000000000",
    "billing_taxonomy": "251S00000X",
    "billing_address": "1 Example Way",
    "billing_city": "Oakland",
    "billing_state": "CA",
    "billing_zip": "946120000",
    "billing_phone": "5555550100",
    "billing_contact": "Demo Biller",
    "payer_name": "Demo Health Plan (fictional)",
    "payer_id": "DEMOPLAN",
    "submitter_id": "DEMOECM",
    "receiver_id": "DEMOPLAN",
    "receiver_name": "Demo Health Plan (fictional)",
    "place_of_service": "11",
    "diagnosis_code": "Z59.8",
    "rendering_npi_on_line": "yes",
    "usage": "T",
}
