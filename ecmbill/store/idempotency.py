"""Idempotency keys: a send from a phone, claimed once per user and key, and what it answered."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError

from ecmbill.store import audit, models
from ecmbill.store.db import unit_of_work


@dataclass(frozen=True)
class KeyUse:
    """A key as stored: ``response`` is None while its first send is being saved."""

    kind: str
    record_id: str | None
    response: dict[str, Any] | None
    created_at: datetime


def claim_key(engine: Engine, user_id: int, key: str, kind: str) -> bool:
    """Take the key for one send; False when another send has it (the primary key decides, so
    two sends at the same moment cannot both win, on SQLite or PostgreSQL)."""
    try:
        with unit_of_work(engine) as session:
            session.add(
                models.IdempotencyKey(user_id=user_id, key=key, kind=kind, created_at=audit.now())
            )
    except IntegrityError:
        return False
    return True


def finish_key(
    engine: Engine, user_id: int, key: str, record_id: str, response: dict[str, Any]
) -> None:
    """What the send created and answered, for every later send of the same key."""
    with unit_of_work(engine) as session:
        row = session.get(models.IdempotencyKey, (user_id, key))
        if row is not None:
            row.record_id = record_id
            row.response = json.dumps(response, default=str)


def release_key(engine: Engine, user_id: int, key: str) -> None:
    """The send was refused and created nothing: the key is free again."""
    with unit_of_work(engine) as session:
        session.execute(
            delete(models.IdempotencyKey).where(
                models.IdempotencyKey.user_id == user_id,
                models.IdempotencyKey.key == key,
                models.IdempotencyKey.response.is_(None),
            )
        )


def key_use(engine: Engine, user_id: int, key: str) -> KeyUse | None:
    with unit_of_work(engine) as session:
        row = session.scalars(
            select(models.IdempotencyKey).where(
                models.IdempotencyKey.user_id == user_id, models.IdempotencyKey.key == key
            )
        ).first()
        if row is None:
            return None
        return KeyUse(
            kind=row.kind,
            record_id=row.record_id,
            response=json.loads(row.response) if row.response is not None else None,
            # SQLite gives the moment back without its zone; it was written in UTC.
            created_at=row.created_at
            if row.created_at.tzinfo
            else row.created_at.replace(tzinfo=UTC),
        )
