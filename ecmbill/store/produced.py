"""The files ecmbill produced (837P, invoice, OTF, RTF), kept with their bytes.

Every function works inside the caller's transaction (``unit_of_work``)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecmbill.store import models


@dataclass(frozen=True)
class ProducedFile:
    id: int
    kind: str
    period: str
    file_name: str
    produced_at: datetime
    actor: str
    records: int
    sha256: str
    size: int


def _file(row: models.ProducedFile) -> ProducedFile:
    return ProducedFile(
        row.id, row.kind, row.period, row.file_name, row.produced_at, row.actor, row.records,
        row.sha256, row.size,
    )  # fmt: skip


def add_file(
    session: Session,
    *,
    kind: str,
    period: str,
    file_name: str,
    produced_at: datetime,
    actor: str,
    records: int,
    content: bytes,
) -> ProducedFile:
    row = models.ProducedFile(
        kind=kind,
        period=period,
        file_name=file_name,
        produced_at=produced_at,
        actor=actor,
        records=records,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        content=content,
    )
    session.add(row)
    session.flush()
    return _file(row)


def files(
    session: Session,
    *,
    period: str | None = None,
    kinds: Sequence[str] = (),
    offset: int = 0,
    limit: int = 20,
) -> tuple[list[ProducedFile], int]:
    """Newest first, one page of them, and how many there are in all. The bytes stay in the
    database until one file is asked for."""
    table = models.ProducedFile
    where = []
    if period is not None:
        where.append(table.period == period)
    if kinds:
        where.append(table.kind.in_(list(kinds)))
    total = session.scalar(select(func.count()).select_from(table).where(*where)) or 0
    columns = (
        table.id, table.kind, table.period, table.file_name, table.produced_at, table.actor,
        table.records, table.sha256, table.size,
    )  # fmt: skip
    rows = session.execute(
        select(*columns)
        .where(*where)
        .order_by(table.produced_at.desc(), table.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [ProducedFile(*row) for row in rows], int(total)


def file_with_content(session: Session, file_id: int) -> tuple[ProducedFile, bytes] | None:
    row = session.get(models.ProducedFile, file_id)
    return None if row is None else (_file(row), bytes(row.content))
