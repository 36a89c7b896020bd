"""The member lifecycle tests use the exchange tests' provider (two staff, an identity)."""

from tests.exchange.conftest import provider

__all__ = ["provider"]
