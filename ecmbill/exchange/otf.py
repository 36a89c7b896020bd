"""The Outreach Tracker File: one row per outreach attempt made in the period.

Mass communications never appear (they are not outreach), nor do contacts on or after the
member's ECM enrollment (they are services, not outreach)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from ecmbill.claims.history import keep_file
from ecmbill.domain.outreach import counts_as_outreach
from ecmbill.domain.period import Period
from ecmbill.exchange.identity import ProviderIdentity, provider_identity
from ecmbill.exchange.layouts import Layouts, default_layouts
from ecmbill.store import fieldwork as stored_work
from ecmbill.store import members as stored_members
from ecmbill.store.db import Engine
from ecmbill.store.files import Cell, write_table


@dataclass(frozen=True)
class ExchangeFile:
    path: Path
    rows: int
    identity_missing: tuple[str, ...]


def otf_rows(
    engine: Engine, period: Period, identity: ProviderIdentity, layouts: Layouts
) -> list[list[Cell]]:
    values = layouts.otf_values
    attempts = stored_work.tracker_attempts(engine, period)
    spans = stored_members.spans(engine, sorted({a.member_id for a, *_ in attempts}))
    roles = stored_work.staff_roles(engine)
    rows: list[tuple[tuple[date, str, str], list[Cell]]] = []
    for attempt, first, last, plan_id in attempts:
        member_spans = spans.get(attempt.member_id, [])
        if not counts_as_outreach(attempt.date, attempt.individualized, member_spans):
            continue
        staff_role = next(
            (
                r
                for start, end, r in roles.get(attempt.staff_id, [])
                if (start is None or start <= attempt.date) and (end is None or attempt.date <= end)
            ),
            None,
        )
        by_field: dict[str, Cell] = {
            "mcp_id": plan_id or identity.mcp_id,
            "mcp_name": identity.mcp_name,
            "provider_name": identity.provider_name,
            "provider_npi": identity.provider_npi,
            "provider_tin": identity.provider_tin,
            "client_name": f"{last}, {first}",
            "member_id": attempt.member_id,
            "provider_type": values["provider_type"].get(staff_role, staff_role)
            if staff_role
            else None,
            "date": attempt.date,
            "method": values["method"].get(attempt.method, attempt.method),
            "successful": values["successful"].get(attempt.outcome, attempt.outcome),
            "minutes": attempt.minutes,
        }
        rows.append(
            (
                (attempt.date, attempt.member_id, attempt.attempt_id),
                [by_field[name] for name in layouts.otf_columns],
            )
        )
    return [row for _, row in sorted(rows, key=lambda r: r[0])]


def write_otf(
    engine: Engine,
    period: Period,
    out: Path,
    *,
    layouts: Layouts | None = None,
    actor: str | None = None,
    at: datetime | None = None,
) -> ExchangeFile:
    """Write the file; with an ``actor``, keep it in the file history (an empty file, which
    no one sends, is not kept)."""
    layouts = layouts or default_layouts()
    identity = provider_identity(engine)
    rows = otf_rows(engine, period, identity, layouts)
    write_table(
        out,
        list(layouts.otf_columns.values()),
        rows,
        date_format=layouts.date_format,
        xlsx_date_format=layouts.xlsx_date_format,
        sheet="Outreach Tracker",
    )
    if actor is not None and rows:
        keep_file(
            engine, kind="otf", period=period, path=out, actor=actor, records=len(rows), at=at
        )
    return ExchangeFile(out, len(rows), tuple(identity.missing()))
