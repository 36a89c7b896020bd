"""Logins that cannot freeze the app or be walked around, and the access log (issue 14,
items 1 and 5). On the session's database (SQLite, or PostgreSQL in the PostgreSQL run)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from ecmbill.web import accounts, create_app
from ecmbill.web.pages import login as login_page
from tests.conftest import TODAY
from tests.web.conftest import PASSWORD, Clients, csrf_of, log_in
from tests.web.test_security import failed_login


def client_from(world: Engine, peer: str, *, proxies: str = "") -> TestClient:
    return TestClient(create_app(world, today=lambda: TODAY, proxies=proxies), client=(peer, 5000))


def access_log(world: Engine) -> list[tuple[str, str, dict[str, str]]]:
    record = models.AuditRecord
    with unit_of_work(world) as session:
        rows = session.execute(
            select(record.action, record.entity_key, record.after)
            .where(record.entity == "access")
            .order_by(record.id)
        ).all()
    return [(action, key, json.loads(after) if after else {}) for action, key, after in rows]


def test_new_usernames_from_one_address_are_refused_after_the_address_limit(
    world: Engine,
) -> None:
    client = client_from(world, "203.0.113.7")
    answers = [failed_login(client, f"nobody{n}") for n in range(accounts.MAX_FAILED_PER_ADDRESS)]
    assert answers == [401] * accounts.MAX_FAILED_PER_ADDRESS
    assert failed_login(client, "someone-new") == 429
    assert failed_login(client, "ana", PASSWORD) == 429  # the address, whoever it claims
    log_in(client_from(world, "203.0.113.8"), "ana")  # another address is not held back


def test_a_new_forwarded_address_per_try_does_not_escape_the_account_limit(
    world: Engine,
) -> None:
    proxy = client_from(world, "10.0.0.2", proxies="10.0.0.0/8")
    for n in range(accounts.MAX_FAILED_PER_ACCOUNT):
        proxy.headers["X-Forwarded-For"] = f"198.51.100.{n}"
        assert failed_login(proxy, "ana") == 401
    proxy.headers["X-Forwarded-For"] = "198.51.100.200"
    assert failed_login(proxy, "ana", PASSWORD) == 429  # locked: the right password waits
    entries = access_log(world)
    assert [a for a, key, _ in entries if key == "ana"].count("failed") == 9
    assert ("locked", "ana", {"address": "198.51.100.9"}) in entries


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(world: Engine) -> None:
    stranger = client_from(world, "203.0.113.9", proxies="10.0.0.0/8")
    stranger.headers["X-Forwarded-For"] = "198.51.100.1"
    failed_login(stranger, "ana")
    proxied = client_from(world, "10.0.0.2", proxies="10.0.0.0/8")
    proxied.headers["X-Forwarded-For"] = "198.51.100.77, 10.0.0.5"
    failed_login(proxied, "ana")
    addresses = [details["address"] for action, _, details in access_log(world)]
    assert addresses == ["203.0.113.9", "198.51.100.77"]


def test_logins_failures_and_logouts_are_in_the_access_log_without_a_typed_name(
    world: Engine,
) -> None:
    client = client_from(world, "203.0.113.10")
    failed_login(client, "ana")
    failed_login(client, "hunter2-typed-in-the-wrong-box")
    log_in(client, "ana")
    token = csrf_of(client.get("/time").text)
    client.post("/logout", data={"csrf_token": token})
    entries = [(action, key) for action, key, _ in access_log(world)]
    assert entries == [("failed", "ana"), ("failed", "(unknown)"), ("login", "ana"),
                       ("logout", "ana")]  # fmt: skip
    with unit_of_work(world) as session:
        everything = " ".join(str(r.after) for r in session.scalars(select(models.AuditRecord)))
    assert "hunter2" not in everything


def test_the_access_log_is_append_only(world: Engine, clients: Clients) -> None:
    clients.as_user("ana")
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    try:
        with world.begin() as connection:
            connection.execute(text("DELETE FROM audit_log WHERE entity = 'access'"))
    except DBAPIError:
        pass
    assert [a for a, _, _ in access_log(world)] == ["login"]


def test_a_queue_of_logins_beyond_the_limit_is_refused_at_once(world: Engine) -> None:
    client = client_from(world, "203.0.113.11")
    app = client.app
    gate = login_page.LoginGate()
    gate.waiting = login_page.QUEUE_LIMIT
    app.state.login_gate = gate  # type: ignore[attr-defined]
    assert failed_login(client, "ana", PASSWORD) == 429


def test_every_phi_file_download_is_in_the_access_log(clients: Clients, world: Engine) -> None:
    from tests.claims.world import configure
    from tests.web.test_billing import close, download

    configure(world)
    bill = clients.as_user("bill")
    close(bill)
    for fmt in ("837p", "csv", "xlsx"):
        assert download(bill, fmt).status_code == 200
    downloads = [d["file"] for a, key, d in access_log(world) if a == "download"]
    assert [name.rsplit(".", 1)[1] for name in downloads] == ["txt", "csv", "xlsx"]
    assert all(key == "bill" for a, key, _ in access_log(world) if a == "download")
