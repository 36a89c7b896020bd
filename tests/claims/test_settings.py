"""Provider and payer settings: every missing or malformed field is named."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from ecmbill.claims.settings import (
    FIELDS,
    SettingsError,
    parse_settings,
    set_settings,
    settings_from_toml,
    settings_problems,
    show_settings,
)
from tests.claims.world import SETTINGS


def problems(**changes: str) -> list[str]:
    values = {**SETTINGS, **changes}
    values = {key: value for key, value in values.items() if value != "<drop>"}
    with pytest.raises(SettingsError) as caught:
        parse_settings(values)
    return caught.value.problems


def test_complete_settings_are_normalised_for_the_claim() -> None:
    settings = parse_settings(SETTINGS)
    assert settings.diagnosis_code == "Z598"  # written without the dot
    assert settings.billing_ein == "123456789"
    assert settings.billing_zip == "946121234"
    assert settings.rendering_npi_on_line is True


def test_each_missing_setting_is_named() -> None:
    found = problems(billing_npi="<drop>", payer_id="<drop>", receiver_id="<drop>")
    assert found == ["billing_npi: missing", "payer_id: missing", "receiver_id: missing"]


def test_each_malformed_setting_is_named_with_its_reason() -> None:
    found = problems(
        billing_npi="1234567890",
        billing_ein="12345",
        billing_taxonomy="251S",
        billing_zip="94612",
        diagnosis_code="59.8",
        place_of_service="office",
        rendering_npi_on_line="maybe",
        billing_name="A*B",
    )
    fields = sorted(problem.split(":")[0] for problem in found)
    assert fields == sorted(
        ["billing_npi", "billing_ein", "billing_taxonomy", "billing_zip", "diagnosis_code",
         "place_of_service", "rendering_npi_on_line", "billing_name"]
    )  # fmt: skip
    assert "billing_npi: is not a valid NPI (10 digits with a correct check digit)" in found


def test_an_unknown_setting_is_refused() -> None:
    assert problems(colour="blue") == ["colour: unknown setting (known: " + ", ".join(FIELDS) + ")"]


def test_a_settings_file_may_use_a_claims_table_and_toml_booleans() -> None:
    values = settings_from_toml(
        '[claims]\nbilling_npi = "1234567893"\nrendering_npi_on_line = false\n', "f"
    )
    assert values == {"billing_npi": "1234567893", "rendering_npi_on_line": "no"}


def test_setting_values_are_stored_all_or_none_and_audited(store_engine: Engine) -> None:
    with pytest.raises(SettingsError) as caught:
        set_settings(store_engine, {"payer_id": "PLAN1", "billing_npi": "123"}, actor="test")
    assert [p.split(":")[0] for p in caught.value.problems] == ["billing_npi"]
    assert show_settings(store_engine)["payer_id"] is None
    assert set_settings(store_engine, SETTINGS, actor="test") == list(SETTINGS)
    assert set_settings(store_engine, SETTINGS, actor="test") == []
    assert settings_problems(store_engine) == []


def test_the_documented_example_settings_file_is_complete_and_valid() -> None:
    path = Path(__file__).resolve().parents[2] / "docs" / "provider-settings.example.toml"
    values = settings_from_toml(path.read_text(encoding="utf-8"), str(path))
    assert set(values) == set(FIELDS)
    parse_settings(values)
