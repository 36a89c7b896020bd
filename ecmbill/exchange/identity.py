"""Who the provider is, as the exchange files name it: read from the ``settings`` table.

A field set here wins; a field not set here comes from the claims settings (billing provider
name, NPI, EIN, phone; payer id and name), so a provider types its identity once."""

from __future__ import annotations

from dataclasses import dataclass, fields

from ecmbill.claims.settings import stored_settings
from ecmbill.store.db import Engine, unit_of_work
from ecmbill.store.settings import read_settings, write_settings


@dataclass(frozen=True)
class ProviderIdentity:
    provider_name: str = ""
    provider_npi: str = ""
    provider_tin: str = ""
    provider_phone: str = ""
    mcp_id: str = ""
    mcp_name: str = ""

    def missing(self) -> list[str]:
        return [f.name for f in fields(self) if not getattr(self, f.name)]


KEYS = tuple(f.name for f in fields(ProviderIdentity))
# Where each field stands in the claims settings (ecmbill.claims.settings), when not set here.
FROM_CLAIMS = {
    "provider_name": "billing_name",
    "provider_npi": "billing_npi",
    "provider_tin": "billing_ein",
    "provider_phone": "billing_phone",
    "mcp_id": "payer_id",
    "mcp_name": "payer_name",
}


def provider_identity(engine: Engine) -> ProviderIdentity:
    with unit_of_work(engine) as session:
        stored = read_settings(session, KEYS)
        claims = stored_settings(session)
    return ProviderIdentity(
        **{key: stored.get(key) or claims.get(FROM_CLAIMS[key], "") for key in KEYS}
    )


def set_provider_identity(engine: Engine, values: dict[str, str], actor: str) -> ProviderIdentity:
    """Store the given identity fields (others unchanged), each change audited."""
    unknown = sorted(set(values) - set(KEYS))
    if unknown:
        raise ValueError(f"unknown provider setting(s): {', '.join(unknown)}")
    with unit_of_work(engine) as session:
        write_settings(session, values, actor=actor)
    return provider_identity(engine)
