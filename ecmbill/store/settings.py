"""The ``settings`` table: named text values (provider settings, identity, the contract), each
change written with its audit record so the trail shows who set what, and when."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecmbill.store import audit, models


def read_setting(session: Session, key: str) -> str | None:
    stored = session.get(models.Setting, key)
    return stored.value if stored else None


def read_settings(session: Session, keys: Iterable[str]) -> dict[str, str]:
    """The stored values among ``keys``; a key never set is absent."""
    rows = session.execute(
        select(models.Setting.key, models.Setting.value).where(models.Setting.key.in_(list(keys)))
    )
    return {key: value for key, value in rows}


def read_prefixed(session: Session, prefix: str) -> dict[str, str]:
    """Every value stored under ``prefix``, keyed without it."""
    rows = session.scalars(select(models.Setting).where(models.Setting.key.startswith(prefix)))
    return {row.key.removeprefix(prefix): row.value for row in rows}


def _as_value(value: str) -> dict[str, Any]:
    return {"value": value}


def write_settings(
    session: Session,
    values: Mapping[str, str],
    *,
    actor: str,
    at: datetime | None = None,
    audited_as: Callable[[str], dict[str, Any]] = _as_value,
) -> list[str]:
    """Store each value and audit each change; a value equal to the stored one is no change and
    leaves no record. ``audited_as`` is what the trail keeps of a value (a whole contract file
    is kept by its name). Returns the changed keys."""
    moment = at or audit.now()
    trail = []
    changed = []
    for key, value in values.items():
        stored = session.get(models.Setting, key)
        if stored is not None and stored.value == value:
            continue
        trail.append(
            audit.audit_row(
                actor=actor,
                at=moment,
                action="update" if stored else "create",
                entity="settings",
                key=key,
                before=audited_as(stored.value) if stored else None,
                after=audited_as(value),
            )
        )
        if stored is None:
            session.add(models.Setting(key=key, value=value))
        else:
            stored.value = value
        changed.append(key)
    audit.record(session, trail)
    return changed
