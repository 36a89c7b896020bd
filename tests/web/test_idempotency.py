"""Each entry sent from a phone arrives once: a resend with the same ``Idempotency-Key``
answers the first send's record (200) and creates nothing, also when two sends meet."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from ecmbill.fieldwork import idempotency
from ecmbill.store import idempotency as stored_keys
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.web.conftest import Clients

VISIT = {
    "member_id": "91234567A",
    "date": "2026-11-20",
    "minutes": "40",
    "activity": "care_coordination",
    "modality": "in_person",
}
ATTEMPT = {
    "member_id": "93456789C",
    "date": "2026-11-20",
    "method": "phone",
    "individualized": "true",
    "outcome": "not_reached",
}


def count(engine: Engine, model: type[models.Base]) -> int:
    with unit_of_work(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def sender(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.get("/api/me").json()["csrf_token"]}


def test_a_resent_time_entry_answers_the_first_entry_and_creates_nothing(
    clients: Clients, world: Engine
) -> None:
    ana = clients.as_user("ana")
    headers = {**sender(ana), "Idempotency-Key": str(uuid.uuid4())}
    before = count(world, models.TimeEntry)
    first = ana.post("/api/time-entries", json=VISIT, headers=headers)
    again = ana.post("/api/time-entries", json=VISIT, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert count(world, models.TimeEntry) == before + 1
    # Another key is another visit: two visits to one member on one day are two entries.
    other = ana.post(
        "/api/time-entries", json=VISIT, headers={**headers, "Idempotency-Key": "visit-two-1"}
    )
    assert other.status_code == 201
    assert other.json()["entry_id"] != first.json()["entry_id"]
    assert count(world, models.TimeEntry) == before + 2


def test_a_resent_outreach_attempt_answers_the_first_attempt_and_creates_nothing(
    clients: Clients, world: Engine
) -> None:
    ana = clients.as_user("ana")
    headers = {**sender(ana), "Idempotency-Key": str(uuid.uuid4())}
    before = count(world, models.OutreachAttempt)
    first = ana.post("/api/outreach", json=ATTEMPT, headers=headers)
    again = ana.post("/api/outreach", json=ATTEMPT, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200), first.text
    assert again.json()["attempt_id"] == first.json()["attempt_id"]
    assert count(world, models.OutreachAttempt) == before + 1


def test_the_key_is_per_user(clients: Clients, world: Engine) -> None:
    """Ben's phone making up the same key as Ana's does not answer him with Ana's entry."""
    key = "shared-key-123"
    ana, ben = clients.as_user("ana"), clients.as_user("ben")
    mine = ana.post(
        "/api/time-entries", json=VISIT, headers={**sender(ana), "Idempotency-Key": key}
    )
    his = ben.post(
        "/api/time-entries",
        json={**VISIT, "member_id": "92345678B"},
        headers={**sender(ben), "Idempotency-Key": key},
    )
    assert (mine.status_code, his.status_code) == (201, 201), his.text
    assert his.json()["entry_id"] != mine.json()["entry_id"]


def test_a_refused_send_frees_its_key_for_the_corrected_entry(
    clients: Clients, world: Engine
) -> None:
    ana = clients.as_user("ana")
    headers = {**sender(ana), "Idempotency-Key": "fix-and-resend"}
    refused = ana.post("/api/time-entries", json={**VISIT, "minutes": "-5"}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["field"] == "minutes"
    corrected = ana.post("/api/time-entries", json=VISIT, headers=headers)
    assert corrected.status_code == 201


def test_a_malformed_or_reused_key_is_refused_before_anything_is_written(
    clients: Clients, world: Engine
) -> None:
    ana = clients.as_user("ana")
    before = count(world, models.TimeEntry)
    bad = ana.post(
        "/api/time-entries", json=VISIT, headers={**sender(ana), "Idempotency-Key": "a b"}
    )
    assert bad.status_code == 400
    assert count(world, models.TimeEntry) == before
    attempts = count(world, models.OutreachAttempt)
    headers = {**sender(ana), "Idempotency-Key": "one-key-two-kinds"}
    assert ana.post("/api/time-entries", json=VISIT, headers=headers).status_code == 201
    reused = ana.post("/api/outreach", json=ATTEMPT, headers=headers)
    assert reused.status_code == 422
    assert reused.json()["field"] == "Idempotency-Key"
    assert count(world, models.OutreachAttempt) == attempts


def test_two_sends_at_the_same_moment_create_one_entry(clients: Clients, world: Engine) -> None:
    """Two sessions of one user (the page and the service worker's background sync) send the
    same entry at once: one creates it, the other answers the same entry."""
    phones = [clients.as_user("ana"), clients.as_user("ana")]
    key = str(uuid.uuid4())
    before = count(world, models.TimeEntry)
    start = threading.Barrier(2)

    def send(phone: TestClient) -> tuple[int, str]:
        headers = {**sender(phone), "Idempotency-Key": key}
        start.wait()
        answer = phone.post("/api/time-entries", json=VISIT, headers=headers)
        return answer.status_code, answer.json()["entry_id"]

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(send, phones))
    assert sorted(status for status, _ in results) == [200, 201]
    assert len({entry_id for _, entry_id in results}) == 1
    assert count(world, models.TimeEntry) == before + 1


def test_a_send_waits_for_the_first_send_of_its_key_to_be_saved(world: Engine) -> None:
    """The service itself, with the first send held inside its save while the second arrives:
    the second waits and answers the first's record; the record is made once."""
    user_id = 1
    made: list[int] = []
    inside, release = threading.Event(), threading.Event()

    def slow_create() -> dict[str, str]:
        made.append(1)
        inside.set()
        release.wait(5)
        return {"entry_id": "W-first"}

    def first() -> tuple[dict[str, object], bool]:
        return idempotency.once(
            world,
            user_id=user_id,
            key="held-key-1",
            kind="time",
            create=slow_create,
            record_id_of=lambda a: str(a["entry_id"]),
        )

    def second() -> tuple[dict[str, object], bool]:
        inside.wait(5)
        threading.Timer(0.3, release.set).start()
        return idempotency.once(
            world,
            user_id=user_id,
            key="held-key-1",
            kind="time",
            create=lambda: {"entry_id": "W-second"},
            record_id_of=lambda a: str(a["entry_id"]),
        )

    with ThreadPoolExecutor(2) as pool:
        one, two = pool.submit(first), pool.submit(second)
        assert one.result() == ({"entry_id": "W-first"}, True)
        assert two.result() == ({"entry_id": "W-first"}, False)
    assert made == [1]
    use = stored_keys.key_use(world, user_id, "held-key-1")
    assert use is not None and use.record_id == "W-first"


def test_a_claim_left_unanswered_by_a_stopped_server_is_taken_over(
    world: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server stopped between claiming a key and answering: after ``ABANDONED`` the next
    send makes the record instead of being told to wait for ever."""
    assert stored_keys.claim_key(world, 1, "orphan-key-1", "time")
    with pytest.raises(idempotency.KeyBusy):
        idempotency.once(
            world,
            user_id=1,
            key="orphan-key-1",
            kind="time",
            create=lambda: {"entry_id": "W-never"},
            record_id_of=lambda a: str(a["entry_id"]),
            wait_seconds=0.1,
        )
    monkeypatch.setattr(idempotency, "ABANDONED", timedelta(0))
    answer = idempotency.once(
        world,
        user_id=1,
        key="orphan-key-1",
        kind="time",
        create=lambda: {"entry_id": "W-retried"},
        record_id_of=lambda a: str(a["entry_id"]),
    )
    assert answer == ({"entry_id": "W-retried"}, True)
