"""The web world of tests/web, for the payer's pages."""

from tests.web.conftest import app, clients, seeded_database, world  # noqa: F401
