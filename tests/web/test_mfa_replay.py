"""Each TOTP code is accepted once per account (issue 14): the time-step of the last code
accepted for a user (at enrolment or a login) is kept, and a code of that step or an earlier
one is refused like a wrong code: it counts toward the login limits and is in the access log
as a failed login (``step: code``). Two logins sending the same code at once: one wins.

The small world (tests/web/conftest.py): bill (biller) is enrolled with ``MFA_SECRET``."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from ecmbill.store import accounts as stored_accounts
from ecmbill.store.lookups import audit_page
from ecmbill.web import accounts
from tests.web.conftest import MFA_SECRET, PASSWORD, Clients, csrf_of, next_mfa_code


def access_log(world: Engine) -> list[tuple[str, str, object]]:
    """(action, username, step) of the access log, oldest first."""
    lines = audit_page(world, entity="access", size=1000).lines
    return [
        (r.action, r.entity_key, json.loads(r.after or "{}").get("step")) for r in reversed(lines)
    ]


def password_step(client: TestClient, username: str) -> str:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.headers["location"].startswith("/login/code")
    return token


def code_step(client: TestClient, token: str, code: str) -> object:
    return client.post(
        "/login/code", data={"code": code, "csrf_token": token}, follow_redirects=False
    )


def test_a_later_step_is_accepted_and_the_same_or_an_earlier_one_refused(world: Engine) -> None:
    # Worked numbers: bill's last step is that of his enrolment (about 59.9 million: Unix
    # time ÷ 30 in late 2026); step 90,000,000 begins 2055-07-24 00:00 UTC.
    bill = stored_accounts.find_user(world, "bill")
    assert stored_accounts.accept_totp_step(world, bill.id, 90_000_000)
    assert not stored_accounts.accept_totp_step(world, bill.id, 90_000_000)  # the same
    assert not stored_accounts.accept_totp_step(world, bill.id, 89_999_999)  # an earlier one
    assert stored_accounts.accept_totp_step(world, bill.id, 90_000_001)  # the next one
    assert not stored_accounts.accept_totp_step(world, bill.id, 90_000_000)


def test_the_step_of_a_code_is_found_within_one_step_of_drift() -> None:
    # At 12 s into step 90,000,000, the codes of steps 89,999,999 to 90,000,001 are right.
    totp = pyotp.TOTP(MFA_SECRET)
    moment = datetime.fromtimestamp(90_000_000 * 30 + 12, UTC)
    for step in (89_999_999, 90_000_000, 90_000_001):
        assert accounts._totp_step(MFA_SECRET, totp.generate_otp(step), moment) == step
    for step in (89_999_998, 90_000_002):
        assert accounts._totp_step(MFA_SECRET, totp.generate_otp(step), moment) is None


def test_a_used_code_is_refused_as_a_failed_login_and_the_next_code_logs_in(
    clients: Clients, world: Engine
) -> None:
    code = next_mfa_code(world, "bill")
    first = clients.anonymous()
    assert code_step(first, password_step(first, "bill"), code).status_code == 303  # type: ignore[attr-defined]
    # The same code again, from another browser within its 30 seconds: refused.
    second = clients.anonymous()
    token = password_step(second, "bill")
    replay = code_step(second, token, code)
    assert replay.status_code == 401  # type: ignore[attr-defined]
    assert "used already" in replay.text  # type: ignore[attr-defined]
    assert access_log(world)[-2:] == [("login", "bill", None), ("failed", "bill", "code")]
    counts = stored_accounts.failed_login_counts(
        world, "bill", "testclient", since=accounts.moment() - accounts.LOGIN_WINDOW,
        overall_since=accounts.moment() - accounts.OVERALL_WINDOW,
    )  # fmt: skip
    assert counts.pair == 1 and counts.account == 1
    # The next code (the app's next 30 seconds) logs in on the same waiting session.
    following = next_mfa_code(world, "bill")
    assert following != code
    assert code_step(second, token, following).status_code == 303  # type: ignore[attr-defined]
    assert second.get("/billing?period=2026-10").status_code == 200


def test_replays_reach_the_login_limit_like_wrong_codes(clients: Clients, world: Engine) -> None:
    code = next_mfa_code(world, "bill")
    first = clients.anonymous()
    assert code_step(first, password_step(first, "bill"), code).status_code == 303  # type: ignore[attr-defined]
    second = clients.anonymous()
    token = password_step(second, "bill")
    for attempt in range(1, accounts.MAX_FAILED_LOGINS):
        assert code_step(second, token, code).status_code == 401, attempt  # type: ignore[attr-defined]
    assert code_step(second, token, code).status_code == 429  # type: ignore[attr-defined]
    # The waiting session ended: even the next code is refused now.
    assert code_step(second, token, next_mfa_code(world, "bill")).status_code == 401  # type: ignore[attr-defined]
    assert access_log(world)[-5:] == [("failed", "bill", "code")] * 4 + [("locked", "bill", "code")]


def test_one_code_sent_twice_at_once_logs_in_once(world: Engine) -> None:
    waiting = [accounts.log_in(world, "bill", PASSWORD, "10.0.0.7") for _ in range(2)]
    assert all(w.stage == accounts.CODE_STAGE and w.token for w in waiting)
    code = next_mfa_code(world, "bill")
    start = threading.Barrier(2)
    results: list[accounts.LoginResult] = []

    def send(token: str | None) -> None:
        start.wait()
        results.append(accounts.check_code(world, token, code, "10.0.0.7"))

    threads = [threading.Thread(target=send, args=(w.token,)) for w in waiting]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.account is not None for r in results) == [False, True]
    assert [r.reused for r in results if r.account is None] == [True]
    log = access_log(world)
    assert log.count(("login", "bill", None)) == 1
    assert log[-2:] in (
        [("login", "bill", None), ("failed", "bill", "code")],
        [("failed", "bill", "code"), ("login", "bill", None)],
    )
