"""The append-only audit trail: who changed which billing record, when, from what, to what."""

from __future__ import annotations

import getpass
import json
import os
from datetime import UTC, date, datetime
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from ecmbill.store.models import AuditRecord


def cli_actor() -> str:
    """Who is acting from the command line: ECMBILL_USER, else the operating-system user."""
    return os.environ.get("ECMBILL_USER") or f"cli:{getpass.getuser()}"


def now() -> datetime:
    return datetime.now(UTC)


def _plain(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


# One encoder for every record: json.dumps with options builds a new one per call, which
# showed in the import's profile.
_ENCODER = json.JSONEncoder(default=_plain, sort_keys=True)
# And the C encoder under it made once too (``JSONEncoder.encode`` makes it again for every
# record: 2 of the 5 µs of an imported row's audit record). The same text; audit values
# hold no reference cycles, so they are not looked for.
_C_ENCODER = (
    None
    if c_make_encoder is None
    else c_make_encoder(None, _plain, encode_basestring_ascii, None, ": ", ", ", True, False, True)
)


def _json(values: dict[str, Any] | None) -> str | None:
    if values is None:
        return None
    if _C_ENCODER is None:
        return _ENCODER.encode(values)
    return "".join(_C_ENCODER(values, 0))


def audit_row(
    *,
    actor: str,
    at: datetime,
    action: str,
    entity: str,
    key: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None = None,
) -> dict[str, Any]:
    return {
        "at": at,
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_key": key,
        "before": _json(before),
        "after": _json(after),
        "reason": reason,
    }


def record(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        # The table, not the mapped class: a plain executemany, without the ORM's per-row
        # bookkeeping (the import writes one record per row).
        session.execute(insert(cast(Table, AuditRecord.__table__)), rows)


def record_change(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    key: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    at: datetime | None = None,
    reason: str | None = None,
) -> None:
    """Record one change (most shell actions change one record at a time)."""
    record(
        session,
        [
            audit_row(
                actor=actor,
                at=at or now(),
                action=action,
                entity=entity,
                key=key,
                before=before,
                after=after,
                reason=reason,
            )
        ],
    )
