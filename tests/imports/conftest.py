"""The MIF and 834 readers are tested on the provider of the exchange tests."""

from tests.exchange.conftest import provider

__all__ = ["provider"]
