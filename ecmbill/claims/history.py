"""File history: every 837P, invoice, Outreach Tracker and Return Transmission File ecmbill
produced, by the CLI or the web, kept byte for byte with its SHA-256, so a lost file or an
auditor's request is met with the very file that was sent. Taking a file again from the
history is audited; it records nothing as sent (the claims in it were recorded when it was
first produced)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from ecmbill.domain.period import Period
from ecmbill.store import audit
from ecmbill.store import produced as stored
from ecmbill.store.db import Engine, Session, unit_of_work
from ecmbill.store.produced import ProducedFile

# What each kind of file is, in words.
KINDS = {
    "837p": "837P claims (X12)",
    "csv": "Invoice (CSV)",
    "xlsx": "Invoice (XLSX)",
    "otf": "Outreach Tracker File",
    "rtf": "Return Transmission File",
}
PAGE_SIZE = 20


def keep(
    session: Session,
    *,
    kind: str,
    period: Period,
    path: Path,
    actor: str,
    records: int,
    at: datetime,
    name: str | None = None,
) -> ProducedFile:
    """Keep the file at ``path`` (complete) in the history, in the caller's transaction: a
    claims export records its file with the claims it sent, or neither."""
    content = path.read_bytes()
    kept = stored.add_file(
        session, kind=kind, period=str(period), file_name=name or path.name, produced_at=at,
        actor=actor, records=records, content=content,
    )  # fmt: skip
    audit.record_change(
        session, actor=actor, at=at, action="produce", entity="produced_file", key=str(kept.id),
        after={"kind": kind, "period": str(period), "file": kept.file_name,
               "records": records, "sha256": kept.sha256},
    )  # fmt: skip
    return kept


def keep_file(
    engine: Engine,
    *,
    kind: str,
    period: Period,
    path: Path,
    actor: str,
    records: int,
    at: datetime | None = None,
    name: str | None = None,
) -> ProducedFile:
    with unit_of_work(engine) as session:
        return keep(
            session, kind=kind, period=period, path=path, actor=actor, records=records,
            at=at or audit.now(), name=name,
        )  # fmt: skip


def file_history(
    engine: Engine,
    period: Period | None = None,
    kinds: Sequence[str] = (),
    *,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> tuple[list[ProducedFile], int]:
    """One page of the files produced (newest first), of a period or all, of some kinds or
    all, and how many there are in all."""
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kind of file {', '.join(sorted(unknown))}")
    with unit_of_work(engine) as session:
        return stored.files(
            session, period=str(period) if period is not None else None, kinds=kinds,
            offset=(max(page, 1) - 1) * page_size, limit=page_size,
        )  # fmt: skip


def take_again(engine: Engine, file_id: int, *, actor: str) -> tuple[ProducedFile, bytes] | None:
    """The kept file's bytes, exactly as first produced; the taking is audited."""
    with unit_of_work(engine) as session:
        found = stored.file_with_content(session, file_id)
        if found is None:
            return None
        kept, _ = found
        audit.record_change(
            session, actor=actor, action="download", entity="produced_file", key=str(kept.id),
            after={"file": kept.file_name, "sha256": kept.sha256},
        )  # fmt: skip
        return found
