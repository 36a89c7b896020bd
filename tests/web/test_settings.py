"""The Settings page: an admin enters the provider and payer settings with the checks of
``ecmbill settings load``, each bad field named beside it, every change audited; the contract
in force is shown in words."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import Engine, select

from ecmbill.claims.settings import provider_settings, show_settings
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.claims.world import SETTINGS
from tests.web.conftest import Clients, csrf_of


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def error_beside(html: str, name: str) -> str | None:
    found = re.search(rf'<p class="error" id="e-{name}" role="alert">([^<]*)</p>', html)
    return unescape(found[1]) if found else None


def test_a_fresh_install_names_every_missing_setting_beside_its_field(clients: Clients) -> None:
    page = clients.as_user("ada").get("/settings").text
    assert error_beside(page, "billing_npi") == "missing"
    assert error_beside(page, "payer_id") == "missing"
    assert error_beside(page, "eligibility_batch_size") is None  # optional, has a default
    assert 'href="#f-billing_npi"' in page


def test_an_admin_saves_the_settings_and_each_change_is_audited_as_her(
    clients: Clients, world: Engine
) -> None:
    ada = clients.as_user("ada")
    token = csrf_of(ada.get("/settings").text)
    saved = ada.post("/settings", data={"csrf_token": token, **SETTINGS}, follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/settings?saved={len(SETTINGS)}"
    page = ada.get(saved.headers["location"]).text
    assert f"Settings saved: {len(SETTINGS)} changed." in text_of(page)
    assert 'class="error"' not in page
    assert provider_settings(world).billing_npi == SETTINGS["billing_npi"]
    with unit_of_work(world) as session:
        actors = set(
            session.scalars(
                select(models.AuditRecord.actor).where(models.AuditRecord.entity == "settings")
            )
        )
    assert actors == {"web:ada"}


def test_bad_fields_are_named_beside_them_and_nothing_is_stored(
    clients: Clients, world: Engine
) -> None:
    ada = clients.as_user("ada")
    token = csrf_of(ada.get("/settings").text)
    bad = {**SETTINGS, "billing_npi": "1234567890", "billing_zip": "94612", "usage": "X"}
    response = ada.post("/settings", data={"csrf_token": token, **bad})
    assert response.status_code == 422
    assert "valid NPI" in (error_beside(response.text, "billing_npi") or "")
    assert "ZIP+4" in (error_beside(response.text, "billing_zip") or "")
    assert error_beside(response.text, "usage") is not None
    assert error_beside(response.text, "billing_name") is None
    assert "Nothing was saved: 3 settings to fix" in text_of(response.text)
    assert 'value="1234567890"' in response.text  # what was typed stays, to be corrected
    assert set(show_settings(world).values()) == {None}  # all or none


def test_the_contract_in_force_is_shown_in_words(clients: Clients) -> None:
    words = text_of(clients.as_user("ada").get("/settings").text)
    assert "Contract in force" in words
    assert "G9008" in words and "Clinical staff" in words and "In person" in words
    assert "unable to reach after 3 attempts" in words


def test_the_billing_page_links_to_the_settings_page(clients: Clients) -> None:
    page = clients.as_user("bill").get("/billing?period=2026-10").text
    assert '<a href="/settings">Settings page</a>' in page
