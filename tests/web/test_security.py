"""CSRF, passwords and sessions, and the login rate limit."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, select, text
from typer.testing import CliRunner

from ecmbill.cli import app as cli
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from ecmbill.web import create_app
from tests.conftest import TODAY
from tests.web.conftest import PASSWORD, Clients, csrf_of, log_in

GOOD_TIME = {
    "member_id": "91234567A",
    "date": "2026-10-20",
    "minutes": "25",
    "activity": "care_coordination",
    "modality": "in_person",
}


def count_entries(engine: Engine) -> int:
    with unit_of_work(engine) as session:
        return len(session.scalars(select(models.TimeEntry)).all())


def test_a_form_post_without_the_csrf_token_is_refused(clients: Clients, world: Engine) -> None:
    ana = clients.as_user("ana")
    before = count_entries(world)
    assert ana.post("/time", data=GOOD_TIME).status_code == 403
    assert ana.post("/time", data={**GOOD_TIME, "csrf_token": "forged"}).status_code == 403
    assert count_entries(world) == before
    token = csrf_of(ana.get("/time").text)
    accepted = ana.post("/time", data={**GOOD_TIME, "csrf_token": token}, follow_redirects=False)
    assert accepted.status_code == 303
    assert count_entries(world) == before + 1


def test_an_api_post_without_the_csrf_header_is_refused(clients: Clients) -> None:
    ana = clients.as_user("ana")
    assert ana.post("/api/time-entries", json=GOOD_TIME).status_code == 403
    token = ana.get("/api/me").json()["csrf_token"]
    created = ana.post("/api/time-entries", json=GOOD_TIME, headers={"X-CSRF-Token": token})
    assert created.status_code == 201
    assert created.json()["minutes"] == 25


def test_the_csrf_token_of_one_session_does_not_work_in_another(clients: Clients) -> None:
    ana, other = clients.as_user("ana"), clients.as_user("ana")
    token = csrf_of(other.get("/time").text)
    assert ana.post("/time", data={**GOOD_TIME, "csrf_token": token}).status_code == 403


def test_a_login_post_without_the_csrf_token_is_refused(clients: Clients) -> None:
    client = clients.anonymous()
    client.get("/login")
    response = client.post("/login", data={"username": "ana", "password": PASSWORD})
    assert response.status_code == 403
    assert "ecmbill_session" not in client.cookies


def test_logging_out_needs_the_token_and_ends_the_session(clients: Clients) -> None:
    ana = clients.as_user("ana")
    token = csrf_of(ana.get("/time").text)
    assert ana.post("/logout", data={}).status_code == 403
    assert (
        ana.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    )
    assert ana.get("/time", follow_redirects=False).status_code == 303


def all_text_in(engine: Engine) -> str:
    """Every value of every table, as text."""
    chunks = []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                chunks.extend(str(value) for value in row)
    return "\n".join(chunks)


def test_passwords_are_never_stored_or_logged_in_clear(
    world: Engine, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "Zebra-Lantern-31415"
    caplog.set_level(logging.DEBUG)
    url = str(world.url)
    monkeypatch.setenv("ECMBILL_NEW_PASSWORD", secret)
    result = CliRunner().invoke(
        cli, ["users", "add", "newbie", "--role", "biller", "--database", url]
    )
    assert result.exit_code == 0, result.output
    assert secret not in result.output
    client = TestClient(create_app(world, today=lambda: TODAY))
    log_in(client, "newbie", secret)
    token = csrf_of(TestClient(client.app).get("/login").text)
    wrong = TestClient(client.app)
    wrong.get("/login")
    wrong.post("/login", data={"username": "newbie", "password": secret + "x", "csrf_token": token})
    stored = all_text_in(world)
    assert secret not in stored
    assert client.cookies["ecmbill_session"] not in stored  # only the token's hash is kept
    with unit_of_work(world) as session:
        user = session.scalars(select(models.User).where(models.User.username == "newbie")).one()
        assert user.password_hash.startswith("$argon2id$")
    assert caplog.records  # the app and its libraries did log: the password was not in it
    assert secret not in caplog.text


def test_the_session_cookie_is_httponly_and_samesite_lax_and_secure_on_https(
    app: object,
) -> None:
    for base, secure in (("http://testserver", False), ("https://testserver", True)):
        client = TestClient(app, base_url=base)  # type: ignore[arg-type]
        token = csrf_of(client.get("/login").text)
        response = client.post(
            "/login",
            data={"username": "ana", "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        cookie = next(
            c for c in response.headers.get_list("set-cookie") if c.startswith("ecmbill_session=")
        )
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert ("Secure" in cookie) is secure


def failed_login(client: TestClient, username: str, password: str = "wrong password!") -> int:
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    ).status_code


def test_logins_are_refused_after_five_failures_even_with_the_right_password_and_a_restart(
    world: Engine,
) -> None:
    client = TestClient(create_app(world, today=lambda: TODAY))
    assert [failed_login(client, "ana") for _ in range(5)] == [401] * 5
    assert failed_login(client, "ana", PASSWORD) == 429
    # Kept in the database: a restarted app still refuses.
    restarted = TestClient(create_app(world, today=lambda: TODAY))
    assert failed_login(restarted, "ana", PASSWORD) == 429
    # Another user from the same address is not locked out.
    log_in(restarted, "ben")
    # When the failures are older than the window, the right password works again.
    with unit_of_work(world) as session:
        for attempt in session.scalars(select(models.LoginAttempt)):
            attempt.at = attempt.at - timedelta(minutes=16)
    log_in(TestClient(create_app(world, today=lambda: TODAY)), "ana")


def test_the_login_redirects_only_to_a_page_of_this_site(clients: Clients) -> None:
    client = clients.anonymous()
    token = csrf_of(client.get("/login?next=//evil.example/").text)
    response = client.post(
        "/login",
        data={
            "username": "ana",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/time"


def test_pages_are_not_cached_framed_or_allowed_scripts_from_elsewhere(clients: Clients) -> None:
    page = clients.as_user("bill").get("/billing?period=2026-10")
    assert page.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "same-origin"
    assert "//" not in page.text.split("<body", 1)[0].replace("http://www.w3.org", "")
