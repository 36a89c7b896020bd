"""The Outreach Tracker File: one row per outreach attempt made in the period.

Mass communications never appear (they are not outreach), nor do contacts on or after the
member's ECM enrollment (they are services, not outreach). An office of several plans writes
one file per plan: the attempts made while the member was that plan's member, with that
plan's identifier and name (its payer settings)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cached_property
from pathlib import Path

from ecmbill.claims.history import keep_file
from ecmbill.domain.outreach import counts_as_outreach
from ecmbill.domain.period import Period
from ecmbill.domain.plans import PlanSpan, plan_on
from ecmbill.exchange.identity import ProviderIdentity, provider_identity
from ecmbill.exchange.layouts import Layouts, default_layouts
from ecmbill.store import fieldwork as stored_work
from ecmbill.store import members as stored_members
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import Engine, unit_of_work
from ecmbill.store.files import Cell, write_table


@dataclass(frozen=True)
class ExchangeFile:
    path: Path
    rows: int
    identity_missing: tuple[str, ...]
    # The plan the file is for, in an office of several plans (None: the office's one plan).
    plan: str | None = None


@dataclass(frozen=True)
class PlanFile:
    """Which plan's members an exchange file holds: ``plan`` None is an office of one plan
    (every member is its member, no spans are read); else the plan, and the members' spans."""

    plan: str | None
    spans: tuple[PlanSpan, ...] = ()

    @cached_property
    def _spans_of(self) -> dict[str, tuple[PlanSpan, ...]]:
        # Looked up per member: a file of 20,000 members asked of every span was quadratic.
        found: dict[str, list[PlanSpan]] = {}
        for span in self.spans:
            found.setdefault(span.member_id, []).append(span)
        return {member: tuple(spans) for member, spans in found.items()}

    def holds(self, member_id: str, on: date) -> bool:
        if self.plan is None:
            return True
        return plan_on(self._spans_of.get(member_id, ()), member_id, on) == self.plan

    def holds_within(self, member_id: str, period: Period) -> bool:
        """Whether the member was the plan's member on any day of the period."""
        if self.plan is None:
            return True
        return any(
            span.plan == self.plan
            and span.start <= period.end
            and (span.end is None or span.end >= period.start)
            for span in self._spans_of.get(member_id, ())
        )


def plan_file(engine: Engine, plan: str | None) -> PlanFile:
    """The plan an exchange file is for: ``plan`` (None: the first); in an office of one plan
    no filter at all. ``LookupError`` for a key that is not one of the office's plans."""
    with unit_of_work(engine) as session:
        key = stored_plans.chosen_plan(session, plan)
        if not stored_plans.several(session):
            return PlanFile(None)
        return PlanFile(key, tuple(stored_plans.spans_of(session)))


def plan_identity(engine: Engine, identity: ProviderIdentity, plan: str | None) -> ProviderIdentity:
    """The identity a plan's file carries: the plan's own payer id and name (its payer
    settings) where they are set, else the provider's settings."""
    if plan is None:
        return identity
    with unit_of_work(engine) as session:
        stored = stored_plans.plan(session, plan)
    if stored is None or stored.first:
        return identity
    payer = stored.payer_settings
    return replace(
        identity,
        mcp_id=payer.get("payer_id") or identity.mcp_id,
        mcp_name=payer.get("payer_name") or stored.name or identity.mcp_name,
    )


def plan_file_name(out: Path, plan: str | None) -> Path:
    """The file of one plan of several carries its key: otf.xlsx -> otf-plan_b.xlsx."""
    if plan is None or out.stem.endswith(f"-{plan}"):
        return out
    return out.with_name(f"{out.stem}-{plan}{out.suffix}")


def otf_rows(
    engine: Engine,
    period: Period,
    identity: ProviderIdentity,
    layouts: Layouts,
    members: PlanFile = PlanFile(None),
) -> list[list[Cell]]:
    values = layouts.otf_values
    attempts = [
        found
        for found in stored_work.tracker_attempts(engine, period)
        if members.holds(found[0].member_id, found[0].date)
    ]
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
    plan: str | None = None,
) -> ExchangeFile:
    """Write the file; with an ``actor``, keep it in the file history (an empty file, which
    no one sends, is not kept). ``plan``: whose members (None: the first plan's; in an office
    of one plan, every member)."""
    layouts = layouts or default_layouts()
    members = plan_file(engine, plan)
    identity = plan_identity(engine, provider_identity(engine), members.plan)
    rows = otf_rows(engine, period, identity, layouts, members)
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
    return ExchangeFile(out, len(rows), tuple(identity.missing()), members.plan)
