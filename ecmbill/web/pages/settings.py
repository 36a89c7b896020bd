"""Settings (admin): the billing provider, payer and interchange settings the 837P needs,
checked exactly as ``ecmbill settings load`` checks them (``ecmbill.claims.settings``), each
bad or missing field named beside it; and the contract in force, in words."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ecmbill.claims.settings import (
    FIELDS,
    ProviderSettings,
    SettingsError,
    set_settings,
    settings_problems,
    show_settings,
)
from ecmbill.web.render import render
from ecmbill.web.security import actor, form_user, page_user
from ecmbill.web.site import site

router = APIRouter()

# Plain names for the fields whose description is not one (the rest use the model's own).
LABELS: dict[str, str] = {
    "billing_name": "Billing provider name",
    "billing_city": "City",
    "billing_contact": "Contact person",
    "payer_name": "Payer name",
    "payer_id": "Payer id",
    "submitter_id": "Submitter id (ISA06/GS02)",
    "receiver_id": "Receiver id (ISA08/GS03)",
    "receiver_name": "Receiver name",
    "remit_payer_ids": "Payer ids in its 835s (optional)",
    "place_of_service": "Place of service",
    "diagnosis_code": "Default diagnosis (ICD-10)",
    "rendering_npi_on_line": "Staff NPI on each line",
    "usage": "Production or test file (ISA15)",
}
# Where each field goes on the page.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Billing provider", tuple(name for name in FIELDS if name.startswith("billing_"))),
    (
        "Payer and receiver",
        ("payer_name", "payer_id", "receiver_name", "receiver_id", "remit_payer_ids"),
    ),
    (
        "Claims file",
        ("submitter_id", "place_of_service", "diagnosis_code", "rendering_npi_on_line", "usage"),
    ),
    ("Eligibility checks (optional)", tuple(n for n in FIELDS if n.startswith("eligibility_"))),
)
assert sorted(n for _, names in GROUPS for n in names) == sorted(FIELDS), "every field shown"
CHOICES: dict[str, tuple[tuple[str, str], ...]] = {
    "rendering_npi_on_line": (("yes", "Yes"), ("no", "No")),
    "usage": (("P", "Production"), ("T", "Test")),
}


def label_of(name: str) -> str:
    if name in LABELS:
        return LABELS[name]
    description = ProviderSettings.model_fields[name].description
    return description or name.replace("_", " ").capitalize()


def required(name: str) -> bool:
    return ProviderSettings.model_fields[name].is_required()


def problems_by_field(problems: list[str]) -> dict[str, str]:
    """``settings`` names each problem ``field: reason``; the page shows it beside the field."""
    found: dict[str, str] = {}
    for problem in problems:
        name, _, reason = problem.partition(": ")
        if name in FIELDS and name not in found:
            found[name] = "missing" if reason == "missing" else reason
        else:
            found.setdefault("form", problem)
    return found


def settings_page(
    request: Request,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    saved: int | None = None,
) -> HTMLResponse:
    here = site(request)
    stored = {name: value or "" for name, value in show_settings(here.engine).items()}
    if errors is None:
        errors = problems_by_field(settings_problems(here.engine))
    return render(
        request,
        "settings.html",
        status_code,
        groups=GROUPS,
        values=values if values is not None else stored,
        errors=errors,
        label_of=label_of,
        required=required,
        choices=CHOICES,
        saved=saved,
        refused=status_code == 422,
        contract=here.contract(),
    )


@router.get("/settings", response_class=HTMLResponse)
def settings(request: Request, saved: int | None = None) -> Response:
    page_user(request, "settings")
    return settings_page(request, saved=saved)


@router.post("/settings", response_class=HTMLResponse)
async def save_settings(request: Request) -> Response:
    """Store the filled-in fields, all or none, through the same checks as ``settings load``
    (each change audited with the admin's name). A field left empty is not stored: a
    required one is then named as missing."""
    active, form = await form_user(request, "settings")
    values = {name: str(form.get(name) or "").strip() for name in FIELDS}
    filled = {name: value for name, value in values.items() if value}
    try:
        changed = set_settings(site(request).engine, filled, actor(active))
    except SettingsError as err:
        return settings_page(
            request, status_code=422, values=values, errors=problems_by_field(err.problems)
        )
    return RedirectResponse(f"/settings?saved={len(changed)}", status_code=303)
