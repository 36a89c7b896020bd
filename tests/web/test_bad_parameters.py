"""Every bad value in an address is a 4xx page with the security headers, never a server
error without them (issue 14, item 6)."""

from __future__ import annotations

import pytest

from tests.web.conftest import Clients

BAD = [
    ("bill", "/billing?period=9999-12"),
    ("bill", "/billing?period=1900-01"),
    ("bill", "/billing/chart.svg?period=9999-12"),
    ("bill", "/billing/files/otf?period=9999-12"),
    ("bill", "/billing/files/rtf?period=9999-12"),
    ("ana", "/members/91234567A?period=9999-12"),
    ("ana", "/api/members/91234567A?period=9999-12"),
    ("bill", "/audit?page=99999999999999999999"),
    ("bill", "/audit?page=0"),
    ("bill", "/audit?page=-3"),
    ("bill", "/remittances?period=2026-13"),
    ("bill", "/remittances?status=lost"),
    ("bill", "/remittances?sort=secret"),
    ("bill", "/remittances?page=0"),
    ("bill", "/remittances?page=99999999999999999999"),
    ("bill", "/remittances/export.pdf"),
    ("bill", "/remittances/export.csv?status=lost"),
    ("bill", "/remittances/denials?age=1000"),
    ("bill", "/remittances/denials?status=lost"),
    ("bill", "/remittances/denials?reason=%3D1%2B1"),
    ("bill", "/remittances/denials?sort=secret"),
    ("bill", "/remittances/denials/export.xlsx?age=x"),
    ("bill", "/remittances/denials/X99"),
    ("bill", "/remittances/denials/L99999999999999999999999"),
    ("bill", "/billing?period=2026-10&c_page=0"),
    ("bill", "/billing?period=2026-10&l_page=99999999999999999999"),
    ("bill", "/billing?period=2026-10&c_sort=-colour"),
    ("bill", "/billing?period=2026-10&c_status=lost"),
    ("bill", "/billing?period=2026-10&l_code=G0000"),
    ("bill", "/billing?period=2026-10&n_reason=made-up"),
    ("bill", "/billing/history?page=abc"),
    ("bill", "/billing/history?period=9999-12"),
    ("bill", "/billing/history/99999999999999999999"),
    ("bill", "/billing/not-billed.pdf?period=2026-10"),
    ("bill", "/billing/not-billed.csv?period=9999-12"),
    ("ada", "/billing/reopen?period=9999-12"),
    ("ada", "/billing/reopen?period=2026-13"),
]


@pytest.mark.parametrize(("username", "path"), BAD)
def test_a_bad_parameter_is_a_4xx_with_the_security_headers(
    clients: Clients, username: str, path: str
) -> None:
    response = clients.as_user(username).get(path, follow_redirects=False)
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


def test_an_unexpected_error_still_answers_with_the_security_headers(clients: Clients) -> None:
    app = clients.app

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("member 91234567A")  # a bug whose message holds PHI

    response = clients.anonymous().get("/boom")
    assert response.status_code == 500
    assert "91234567A" not in response.text
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
