"""Sending an entry kept on a phone exactly once: the phone makes up a key per entry and sends
it with every try; the first try creates the record, every later one gets the same answer.

The key is claimed in its own transaction before the record is made (the record's service
writes in its own), and linked to the record and answer right after. A second send that
finds the key claimed but not yet answered waits for the answer: two sends at the same moment
give one record and the same answer twice."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from ecmbill.store import idempotency as stored_keys
from ecmbill.store.db import Engine

# What a phone sends: a UUID (36 characters) or any similar random token.
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,64}")
WAIT_SECONDS = 10.0
# A claim still unanswered this long after it was made belongs to a send that died (the
# server stopped between claiming and answering): it is freed so the entry is not stuck.
ABANDONED = timedelta(minutes=2)


class BadKey(ValueError):
    """The key is not one a phone would make: refused before anything is written."""


class KeyBusy(Exception):
    """Another send of the same key is still being saved: send again in a moment."""


class KeyReused(Exception):
    """The key was used for another kind of record (an outreach attempt, not a time entry)."""


def checked_key(key: str) -> str:
    key = key.strip()
    if not KEY_PATTERN.fullmatch(key):
        raise BadKey("the Idempotency-Key must be 8 to 64 letters, digits, '-' or '_'")
    return key


def once(
    engine: Engine,
    *,
    user_id: int,
    key: str,
    kind: str,
    create: Callable[[], dict[str, Any]],
    record_id_of: Callable[[dict[str, Any]], str],
    wait_seconds: float = WAIT_SECONDS,
) -> tuple[dict[str, Any], bool]:
    """The answer to a send, and whether this send created the record. ``create`` makes the
    record and returns its answer; an exception from it (a refused value) frees the key, so
    the same key may be sent again once corrected."""
    key = checked_key(key)
    deadline = time.monotonic() + wait_seconds
    pause = 0.02
    while True:
        if stored_keys.claim_key(engine, user_id, key, kind):
            try:
                answer = create()
            except BaseException:
                stored_keys.release_key(engine, user_id, key)
                raise
            stored_keys.finish_key(engine, user_id, key, record_id_of(answer), answer)
            return answer, True
        used = stored_keys.key_use(engine, user_id, key)
        if used is not None and used.kind != kind:
            raise KeyReused(f"this Idempotency-Key was already used for a {used.kind} record")
        if used is not None and used.response is not None:
            return used.response, False
        if used is not None and datetime.now(UTC) - used.created_at > ABANDONED:
            stored_keys.release_key(engine, user_id, key)
            continue
        # Claimed and not yet answered (or released just now: then the next claim may win).
        if time.monotonic() >= deadline:
            raise KeyBusy("this entry is still being saved: send it again in a moment")
        time.sleep(pause)
        pause = min(pause * 2, 0.25)
