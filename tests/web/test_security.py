"""CSRF, passwords and sessions, and the login rate limit."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, select, text
from typer.testing import CliRunner

from ecmbill.cli import app as cli
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from ecmbill.web import accounts, create_app
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


# The password policy: one rule, asked by every door that sets a password.


@pytest.mark.parametrize("password", ["aaaaaaaaaa", "eleven-char", "Zq7!kP2#vL9"])
def test_a_password_shorter_than_twelve_characters_is_refused(password: str) -> None:
    assert len(password) < 12
    assert accounts.password_problem("dee", password) == ("password must be at least 12 characters")
    assert accounts.password_problem("dee", password + "x" * (12 - len(password))) is None


@pytest.mark.parametrize("password", ["supervisor-dee", "SUPERVISOR-DEE", "xx-Supervisor-Dee-42"])
def test_a_password_that_is_or_contains_the_username_in_any_case_is_refused(
    password: str,
) -> None:
    assert accounts.password_problem("supervisor-dee", password) == (
        "password must not be or contain the username"
    )


@pytest.mark.parametrize(
    "password", ["password1234", "Qwerty123456", "iloveyou2026", "111111111111"]
)
def test_a_common_password_shipped_with_the_app_is_refused(password: str) -> None:
    assert password.lower() in accounts.common_passwords()
    assert len(accounts.common_passwords()) > 2000
    assert accounts.password_problem("dee", password) == (
        "password is too common: pick a longer phrase of your own"
    )


def test_the_password_rules_apply_to_users_add_and_the_admin_page(
    clients: Clients, world: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = str(world.url)
    for password, reason in (
        ("short pw", "at least 12 characters"),
        ("newbie-newbie-1", "must not be or contain the username"),
        ("password1234", "too common"),
    ):
        monkeypatch.setenv("ECMBILL_NEW_PASSWORD", password)
        result = CliRunner().invoke(
            cli, ["users", "add", "newbie", "--role", "biller", "--database", url]
        )
        assert result.exit_code == 2 and reason in result.output, result.output
        assert password not in result.output
        ada = clients.as_user("ada")
        page = ada.post(
            "/admin/users",
            data={
                "csrf_token": csrf_of(ada.get("/admin").text),
                "username": "newbie",
                "password": password,
                "role": "biller",
            },
        )
        assert page.status_code == 422 and reason in page.text
    assert "newbie" not in {user.username for user in accounts.list_users(world)}


# The idle timeout, with the app's clock moved on (absolute limit: 12 hours from the login).


def test_a_session_unused_longer_than_the_idle_limit_ends_on_pages_and_the_api(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECMBILL_IDLE_MINUTES", "15")
    start = datetime.now(UTC)
    clock = [start]
    app.state.clock = lambda: clock[0]
    page, api = log_in(TestClient(app), "ana"), log_in(TestClient(app), "ana")
    clock[0] = start + timedelta(minutes=14)
    assert page.get("/time", follow_redirects=False).status_code == 200
    assert api.get("/api/me").status_code == 200
    # Each use moved the idle end on: 14 more minutes are still within it ...
    clock[0] = start + timedelta(minutes=28)
    assert page.get("/time", follow_redirects=False).status_code == 200
    assert api.get("/api/me").status_code == 200
    # ... but 16 unused minutes are not.
    clock[0] = start + timedelta(minutes=44, seconds=1)
    assert page.get("/time", follow_redirects=False).status_code == 303
    assert api.get("/api/me").status_code == 401


def test_the_idle_end_is_written_at_most_once_a_minute_and_never_past_the_absolute_limit(
    world: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECMBILL_IDLE_MINUTES", "30")
    start = accounts.moment()
    token = accounts.log_in(world, "ana", PASSWORD, "127.0.0.1").token
    assert token is not None

    def idle_end() -> datetime:
        with unit_of_work(world) as session:
            ends = session.scalars(select(models.WebSession.expires_at)).all()
        assert len(ends) == 1
        return ends[0].replace(tzinfo=UTC)

    first = idle_end()
    assert first - start < timedelta(minutes=30, seconds=5)
    assert accounts.session_for(world, token, now=start + timedelta(seconds=50)) is not None
    assert idle_end() == first  # less than a minute on: not written
    assert accounts.session_for(world, token, now=start + timedelta(minutes=2)) is not None
    assert idle_end() > first
    # Used every 20 minutes, it still ends 12 hours after the login.
    at = start
    while at < start + timedelta(hours=11, minutes=50):
        at += timedelta(minutes=20)
        assert accounts.session_for(world, token, now=at) is not None, at
    assert idle_end() <= start + accounts.SESSION_LIFETIME + timedelta(seconds=5)
    assert accounts.session_for(world, token, now=start + timedelta(hours=12, seconds=5)) is None


def test_the_idle_limit_setting_must_be_whole_minutes() -> None:
    assert accounts.idle_limit("") == timedelta(minutes=15)
    assert accounts.idle_limit("5") == timedelta(minutes=5)
    for bad in ("0", "ten", "1.5"):
        with pytest.raises(accounts.AccountError, match="ECMBILL_IDLE_MINUTES"):
            accounts.idle_limit(bad)
