"""MFA (TOTP with one-time recovery codes) and passwords (issue 14, issue 15 "Users"): MFA is
required of billers and admins before any page, optional for staff and supervisors; a wrong
code counts toward the login limits; every user changes their own password; an admin resets
a password (changed at the next login) or MFA, changes a user's role and team, and confirms a
deactivation. Every change is in the audit trail.

The small world (tests/web/conftest.py): bill (biller) and ada (admin) are enrolled with
``MFA_SECRET``; ana, ben (staff) and cleo (supervisor) are not."""

from __future__ import annotations

import json
import re

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from ecmbill.store.lookups import audit_page
from ecmbill.web import accounts
from ecmbill.web.accounts import UserRole
from ecmbill.web.security import SESSION_COOKIE
from tests.web.conftest import PASSWORD, Clients, csrf_of, log_in, mfa_code, next_mfa_code

NEW_PASSWORD = "a quiet river at dawn 42"


def trail(world: Engine, entity: str) -> list[tuple[str, str, str, dict[str, object]]]:
    """(action, key, actor, after) of the audit trail's records of ``entity``, oldest first."""
    lines = audit_page(world, entity=entity, size=1000).lines
    return [(r.action, r.entity_key, r.actor, json.loads(r.after or "{}")) for r in reversed(lines)]


def password_step(client: TestClient, username: str, password: str = PASSWORD) -> tuple[str, str]:
    """The first step of a login: (where it leads, the login form's token)."""
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return response.headers["location"], token


def code_step(client: TestClient, token: str, code: str) -> object:
    return client.post(
        "/login/code", data={"code": code, "csrf_token": token}, follow_redirects=False
    )


def enrol(client: TestClient) -> tuple[str, list[str]]:
    """Enrol from the account page: (the secret, the recovery codes shown once)."""
    page = client.get("/account/mfa").text
    secret = re.search(r'id="mfa-secret">([A-Z2-7]+)<', page)
    assert secret, page
    done = client.post(
        "/account/mfa",
        data={
            "secret": secret[1],
            "code": pyotp.TOTP(secret[1]).now(),
            "csrf_token": csrf_of(page),
        },
    )
    assert done.status_code == 200, done.text
    codes = re.findall(r"<li><code>([A-Z0-9-]+)</code></li>", done.text)
    return secret[1], codes


def new_user(world: Engine, username: str, role: UserRole) -> None:
    accounts.add_user(world, username=username, password=PASSWORD, role=role, actor="test")


def test_a_biller_without_mfa_must_enrol_before_reaching_any_page(
    clients: Clients, world: Engine
) -> None:
    new_user(world, "bea", UserRole.BILLER)
    bea = clients.anonymous()
    target, _ = password_step(bea, "bea")
    assert target == "/account/mfa"  # no code asked (none enrolled), enrolment first
    for path in ("/billing?period=2026-10", "/remittances", "/audit", "/members", "/"):
        response = bea.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/account/mfa", path
    assert bea.get("/api/periods/2026-10/preview").status_code == 403
    token = bea.get("/api/me").json()["csrf_token"]
    refused = bea.post("/billing/close", data={"csrf_token": token, "period": "2026-10"},
                       follow_redirects=False)  # fmt: skip
    assert refused.headers["location"] == "/account/mfa"
    page = bea.get("/account/mfa")
    assert page.status_code == 200 and 'id="mfa-needed"' in page.text
    wrong = bea.post(
        "/account/mfa",
        data={"secret": re.search(r'id="mfa-secret">([A-Z2-7]+)<', page.text)[1],  # type: ignore[index]
              "code": "000000", "csrf_token": token},
    )  # fmt: skip
    assert wrong.status_code == 422 and "does not match" in wrong.text
    secret, codes = enrol(bea)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", c) for c in codes)
    assert bea.get("/billing?period=2026-10").status_code == 200
    assert ("mfa_enrol", "bea", "web:bea", {"recovery_codes": 10}) in trail(world, "users")
    # Neither the secret nor a code is in the trail.
    everything = str(audit_page(world, size=1000).lines)
    assert secret not in everything and not any(c in everything for c in codes)
    # The next login asks for the code.
    again = clients.anonymous()
    target, token = password_step(again, "bea")
    assert target.startswith("/login/code")
    # The code that confirmed the enrolment is used: the next one logs in.
    response = code_step(again, token, next_mfa_code(world, "bea", secret))
    assert response.status_code == 303 and response.headers["location"] == "/billing"  # type: ignore[attr-defined]


def test_the_password_alone_opens_no_page_for_an_enrolled_user(
    clients: Clients, world: Engine
) -> None:
    bill = clients.anonymous()
    target, token = password_step(bill, "bill")
    assert target == "/login/code?next=/"
    waiting = bill.cookies.get(SESSION_COOKIE)
    for path in ("/billing?period=2026-10", "/account", "/"):
        response = bill.get(path, follow_redirects=False)
        assert response.headers["location"].startswith("/login"), path
    assert bill.get("/api/me").status_code == 401
    assert "Code from your authenticator app" in bill.get("/login/code").text
    response = code_step(bill, token, next_mfa_code(world, "bill"))
    assert response.status_code == 303  # type: ignore[attr-defined]
    # A new session token replaces the one that waited for the code.
    assert bill.cookies.get(SESSION_COOKIE) not in (None, waiting)
    assert bill.get("/billing?period=2026-10").status_code == 200


def test_a_wrong_code_is_refused_and_counts_toward_the_login_limits(
    clients: Clients, world: Engine
) -> None:
    bill = clients.anonymous()
    _, token = password_step(bill, "bill")
    right = mfa_code()
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    for attempt in range(1, accounts.MAX_FAILED_LOGINS):
        response = code_step(bill, token, wrong)
        assert response.status_code == 401, attempt  # type: ignore[attr-defined]
        assert "Wrong code" in response.text  # type: ignore[attr-defined]
    # The fifth failure reaches the account's limit: the waiting session ends.
    response = code_step(bill, token, wrong)
    assert response.status_code == 429  # type: ignore[attr-defined]
    assert code_step(bill, token, mfa_code()).status_code == 401  # type: ignore[attr-defined]
    # Even the right password (and code) is refused until the window has passed.
    again = clients.anonymous()
    login_token = csrf_of(again.get("/login").text)
    refused = again.post(
        "/login", data={"username": "bill", "password": PASSWORD, "csrf_token": login_token}
    )
    assert refused.status_code == 429
    log = [(a, k, after.get("step")) for a, k, _, after in trail(world, "access")]
    # Refused before any check, the last attempt adds nothing to the log.
    assert log[-5:] == [("failed", "bill", "code")] * 4 + [("locked", "bill", "code")]


def test_a_recovery_code_logs_in_once_and_is_in_the_access_log(
    clients: Clients, world: Engine
) -> None:
    new_user(world, "bea", UserRole.BILLER)
    bea = clients.anonymous()
    password_step(bea, "bea")
    _, codes = enrol(bea)
    first = clients.anonymous()
    _, token = password_step(first, "bea")
    used = codes[3].lower().replace("-", " ")  # typed loosely: case and separators ignored
    response = code_step(first, token, used)
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert first.get("/billing?period=2026-10").status_code == 200
    assert ("recovery", "bea") in [(a, k) for a, k, _, _ in trail(world, "access")]
    assert [after["left"] for a, _, _, after in trail(world, "access") if a == "recovery"] == [9]
    assert "Recovery codes left: <strong>9</strong>" in first.get("/account").text
    # The same code again: refused, a failed login.
    second = clients.anonymous()
    _, token = password_step(second, "bea")
    assert code_step(second, token, codes[3]).status_code == 401  # type: ignore[attr-defined]
    assert code_step(second, token, codes[4]).status_code == 303  # type: ignore[attr-defined]


def test_staff_log_in_without_mfa_and_may_enrol_from_their_account_page(
    clients: Clients, world: Engine
) -> None:
    ana = clients.anonymous()
    target, _ = password_step(ana, "ana")
    assert target == "/time"
    assert "Off." in ana.get("/account").text
    secret, codes = enrol(ana)
    assert len(codes) == 10
    assert "On:" in ana.get("/account").text
    again = clients.anonymous()
    target, token = password_step(again, "ana")
    assert target.startswith("/login/code")
    assert (
        code_step(again, token, next_mfa_code(world, "ana", secret)).headers["location"] == "/time"
    )  # type: ignore[attr-defined]


def test_an_admin_resets_a_users_mfa_after_confirming(clients: Clients, world: Engine) -> None:
    bill = clients.as_user("bill")
    ada = clients.as_user("ada")
    token = csrf_of(ada.get("/admin").text)
    asked = ada.post("/admin/users/bill/mfa", data={"csrf_token": token})
    assert asked.status_code == 200 and "Reset the two-step login" in asked.text
    assert accounts.find_user(world, "bill").mfa_enrolled  # nothing changed yet
    done = ada.post("/admin/users/bill/mfa", data={"csrf_token": token, "confirm": "yes"})
    assert done.status_code == 200 and "MFA of bill reset" in done.text
    assert not accounts.find_user(world, "bill").mfa_enrolled
    # Bill's session ended; his next login goes to enrolment, not a code.
    assert bill.get("/billing", follow_redirects=False).headers["location"].startswith("/login")
    target, _ = password_step(clients.anonymous(), "bill")
    assert target == "/account/mfa"
    assert ("mfa_reset", "bill", "web:ada", {"mfa": False}) in trail(world, "users")


def test_a_user_changes_their_own_password_with_the_current_one(
    clients: Clients, world: Engine
) -> None:
    ana = clients.as_user("ana")
    other = clients.as_user("ana")  # another browser of hers
    token = csrf_of(ana.get("/account").text)

    def change(current: str, new: str, again: str | None = None) -> object:
        return ana.post(
            "/account/password",
            data={"current": current, "new": new, "again": again or new, "csrf_token": token},
            follow_redirects=False,
        )

    wrong = change("not my password at all", NEW_PASSWORD)
    assert wrong.status_code == 422 and "current password is not right" in wrong.text  # type: ignore[attr-defined]
    for weak, reason in (("short pw 1", "at least 12"), ("ana-ana-ana-ana", "username"),
                         ("password1234", "too common")):  # fmt: skip
        refused = change(PASSWORD, weak)
        assert refused.status_code == 422 and reason in refused.text, weak  # type: ignore[attr-defined]
        assert weak not in refused.text  # type: ignore[attr-defined]
    assert "differ" in change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x").text  # type: ignore[attr-defined]
    done = change(PASSWORD, NEW_PASSWORD)
    assert done.headers["location"] == "/account?done=password"  # type: ignore[attr-defined]
    assert ana.get("/time").status_code == 200  # this session goes on
    assert other.get("/time", follow_redirects=False).status_code == 303  # the other ended
    assert accounts.log_in(world, "ana", PASSWORD, "10.0.0.1").account is None
    assert accounts.log_in(world, "ana", NEW_PASSWORD, "10.0.0.1").account is not None
    assert ("password", "ana", "web:ana", {"must_change_password": False}) in trail(world, "users")
    assert ("password", "ana") in [(a, k) for a, k, _, _ in trail(world, "access")]
    assert NEW_PASSWORD not in str(audit_page(world, size=1000).lines)


def test_an_admin_reset_password_must_be_changed_at_the_next_login(
    clients: Clients, world: Engine
) -> None:
    ana = clients.as_user("ana")
    ada = clients.as_user("ada")
    token = csrf_of(ada.get("/admin").text)
    asked = ada.post("/admin/users/ana/password", data={"csrf_token": token})
    assert asked.status_code == 200 and 'name="confirm" value="yes"' in asked.text
    assert accounts.log_in(world, "ana", PASSWORD, "10.0.0.2").account is not None
    shown = ada.post("/admin/users/ana/password", data={"csrf_token": token, "confirm": "yes"})
    temporary = re.search(r'id="temporary-password">.*?<code>([^<]+)</code>', shown.text, re.S)
    assert temporary and accounts.password_problem("ana", temporary[1]) is None
    assert temporary[1] not in ada.get("/admin").text  # shown once
    # Ana's sessions ended; the old password no longer works.
    assert ana.get("/time", follow_redirects=False).status_code == 303
    assert accounts.log_in(world, "ana", PASSWORD, "10.0.0.3").account is None
    target, _ = password_step(ana, "ana", temporary[1])
    assert target == "/account/password"
    for path in ("/time", "/members", "/"):
        response = ana.get(path, follow_redirects=False)
        assert response.headers["location"] == "/account/password", path
    page = ana.get("/account/password").text
    assert 'id="must-change"' in page
    done = ana.post(
        "/account/password",
        data={"current": temporary[1], "new": NEW_PASSWORD, "again": NEW_PASSWORD,
              "csrf_token": csrf_of(page)},
        follow_redirects=False,
    )  # fmt: skip
    assert done.headers["location"] == "/"
    assert ana.get("/", follow_redirects=False).headers["location"] == "/time"
    assert ana.get("/time").status_code == 200
    assert not accounts.find_user(world, "ana").must_change_password
    users = trail(world, "users")
    assert ("pw_reset", "ana", "web:ada", {"must_change_password": True}) in users
    assert temporary[1] not in str(audit_page(world, size=1000).lines)


def test_an_admin_changes_a_users_role_and_team(clients: Clients, world: Engine) -> None:
    ada = clients.as_user("ada")
    token = csrf_of(ada.get("/admin").text)
    changed = ada.post(
        "/admin/users/ben",
        data={"csrf_token": token, "role": "supervisor", "staff_id": "S2", "team": "north"},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert "User ben changed." in ada.get(changed.headers["location"]).text
    ben = accounts.find_user(world, "ben")
    assert (ben.role, ben.staff_id, ben.team) == (UserRole.SUPERVISOR, "S2", "north")
    assert (
        "update", "ben", "web:ada", {"role": "supervisor", "staff_id": "S2", "team": "north"}
    ) in trail(world, "users")  # fmt: skip
    before = next(r.before for r in audit_page(world, entity="users", size=1000).lines)
    assert json.loads(before or "{}") == {"role": "staff", "staff_id": "S2", "team": "south"}
    # The role and team count from the next request: Ben now approves team north's time.
    assert clients.as_user("ben").get("/time/E1").status_code == 200
    for data, status, reason in (
        ({"role": "supervisor", "team": ""}, 422, "needs a team"),
        ({"role": "staff", "staff_id": ""}, 422, "staff_id"),
        ({"role": "staff", "staff_id": "S9"}, 422, "not a known staff member"),
        ({"role": "boss"}, 422, "pick a role"),
    ):
        refused = ada.post("/admin/users/ben", data={"csrf_token": token, **data})
        assert refused.status_code == status and reason in refused.text, data
    missing = ada.post("/admin/users/nobody", data={"csrf_token": token, "role": "biller"})
    assert missing.status_code == 404
    own = ada.post("/admin/users/ada", data={"csrf_token": token, "role": "biller"})
    assert own.status_code == 422 and accounts.find_user(world, "ada").role is UserRole.ADMIN


def test_deactivating_a_user_asks_for_confirmation_first(clients: Clients, world: Engine) -> None:
    ben = clients.as_user("ben")
    ada = clients.as_user("ada")
    token = csrf_of(ada.get("/admin").text)
    asked = ada.post("/admin/users/ben/active", data={"csrf_token": token, "active": "false"})
    assert asked.status_code == 200 and "Deactivate ben?" in asked.text
    assert accounts.find_user(world, "ben") and ben.get("/time").status_code == 200
    done = ada.post(
        "/admin/users/ben/active",
        data={"csrf_token": token, "active": "false", "confirm": "yes"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert ben.get("/time", follow_redirects=False).status_code == 303
    assert not next(u for u in accounts.list_users(world) if u.username == "ben").active
    # Activating again needs no confirmation.
    ada.post("/admin/users/ben/active", data={"csrf_token": token, "active": "true"})
    assert next(u for u in accounts.list_users(world) if u.username == "ben").active
    log_in(clients.anonymous(), "ben")
