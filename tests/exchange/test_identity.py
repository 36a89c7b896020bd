"""The provider types its identity once: the exchange files read the claims settings unless
an exchange-specific value is set."""

from sqlalchemy import Engine

from ecmbill.claims.settings import set_settings
from ecmbill.exchange.identity import provider_identity, set_provider_identity
from tests.claims.world import SETTINGS


def test_the_tracker_files_name_the_provider_from_the_claims_settings(
    store_engine: Engine,
) -> None:
    set_settings(store_engine, SETTINGS, actor="test")
    identity = provider_identity(store_engine)
    assert identity.provider_name == SETTINGS["billing_name"]
    assert identity.provider_npi == SETTINGS["billing_npi"]
    assert identity.provider_tin == SETTINGS["billing_ein"]
    assert identity.mcp_id == SETTINGS["payer_id"]
    assert identity.mcp_name == SETTINGS["payer_name"]


def test_an_exchange_specific_value_wins_over_the_claims_settings(store_engine: Engine) -> None:
    set_settings(store_engine, SETTINGS, actor="test")
    set_provider_identity(store_engine, {"mcp_id": "MCP-7"}, actor="test")
    identity = provider_identity(store_engine)
    assert identity.mcp_id == "MCP-7"
    assert identity.provider_name == SETTINGS["billing_name"]
