"""The Return Transmission File: one row per member assigned by the plan, with their ECM
status at the end of the period. Activity dates and contact counts are derived from the
recorded time entries and their activities, never typed twice. An office of several plans
writes one file per plan: the members who were that plan's on any day of the period."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from ecmbill.claims.history import keep_file
from ecmbill.contract import Contract
from ecmbill.domain.lifecycle import Status, standing_on
from ecmbill.domain.period import Period
from ecmbill.domain.vocabulary import Modality
from ecmbill.exchange.identity import ProviderIdentity, provider_identity
from ecmbill.exchange.layouts import Layouts, default_layouts
from ecmbill.exchange.otf import ExchangeFile, PlanFile, plan_file, plan_identity
from ecmbill.store import fieldwork as stored_work
from ecmbill.store import members as stored_members
from ecmbill.store.db import Engine, unit_of_work
from ecmbill.store.files import Cell, write_table

ENDED = (Status.DISCONTINUED, Status.UNABLE_TO_REACH)


def check_activities(layouts: Layouts, contract: Contract) -> None:
    unknown = sorted(
        {a for keys in layouts.rtf_activities.values() for a in keys} - set(contract.activities)
    )
    if unknown:
        raise ValueError(
            f"layouts [rtf.activities] name activities the contract does not have: "
            f"{', '.join(unknown)}"
        )


def rtf_rows(
    engine: Engine,
    period: Period,
    contract: Contract,
    identity: ProviderIdentity,
    layouts: Layouts,
    produced_on: date,
    members: PlanFile = PlanFile(None),
) -> list[list[Cell]]:
    check_activities(layouts, contract)
    acts = layouts.rtf_activities
    not_encounters = set(acts.get("not_encounters", ()))
    yes_no = layouts.rtf_values["yes_no"]
    status_names = layouts.rtf_values["status"]
    with unit_of_work(engine) as session:
        assigned = stored_members.assigned_by(session, period.end)
        history = stored_members.history(session)
        entries = stored_work.activities_until(session, period.end)
        managers = stored_members.leads_at(session, period.end)
    rows: list[list[Cell]] = []
    for member, detail in assigned:
        if not members.holds_within(member.member_id, period):
            continue
        events, spans, attempts = history.get(member.member_id, ([], [], []))
        standing = standing_on(period.end, events, spans, attempts)
        if standing is None:
            continue
        if standing.status in ENDED and standing.since and standing.since < period.start:
            continue  # ended in an earlier period, and reported then
        mine = entries.get(member.member_id, [])

        def latest(keys: tuple[str, ...], entries: list[tuple[date, str, str]] = mine) -> Cell:
            return max((d for d, a, _ in entries if a in keys), default=None)

        assessments = [d for d, a, _ in mine if a in acts.get("assessment", ())]
        encounters = [(d, m) for d, a, m in mine if a not in not_encounters]
        in_period = [(d, m) for d, m in encounters if d in period]
        code: str | None = None
        if standing.status is Status.DISCONTINUED:
            code = standing.reason
        elif standing.status is Status.UNABLE_TO_REACH:
            code = contract.unable_to_reach.reason_code
        manager = managers.get(member.member_id)
        span = standing.span
        by_field: dict[str, Cell] = {
            "mcp_id": detail.plan_id or identity.mcp_id,
            "mcp_name": identity.mcp_name,
            "member_id": member.member_id,
            "last_name": member.last_name,
            "first_name": member.first_name,
            "new_address": yes_no["no"],
            "homeless": None
            if detail.homeless is None
            else yes_no["yes" if detail.homeless else "no"],
            "address": detail.address,
            "city": detail.city,
            "state": detail.state,
            "zip": detail.zip,
            "new_phone": yes_no["no"],
            "phone": detail.phone,
            "pof_indicator": yes_no["no"],
            "population_of_focus": detail.population_of_focus,
            "status": status_names.get(standing.status.value, standing.status.value),
            "acuity": None,
            "enrollment_start": span.start if span else None,
            "enrollment_end": span.end if span and span.end and span.end <= period.end else None,
            "care_plan": latest(acts.get("care_plan", ())),
            "care_conference": latest(acts.get("care_conference", ())),
            "assessment_started": min(assessments, default=None),
            "assessment_completed": max(assessments, default=None),
            "last_encounter": max((d for d, _ in encounters), default=None),
            "lcm_name": manager.name if manager else None,
            "lcm_phone": manager.phone if manager else None,
            "lcm_email": manager.email if manager else None,
            "discontinuation_date": standing.since if standing.status in ENDED else None,
            "discontinuation_code": code,
            "discontinuation_reason": contract.discontinuation_reasons.get(code) if code else None,
            "in_person": len({d for d, m in in_period if m == Modality.IN_PERSON.value}),
            "telephonic": len({d for d, m in in_period if m == Modality.TELEPHONIC.value}),
            "produced_on": produced_on,
            "reporting_period": period.start.strftime(layouts.rtf_period_format),
            "provider_name": identity.provider_name,
            "provider_npi": identity.provider_npi,
            "provider_tin": identity.provider_tin,
            "provider_phone": identity.provider_phone,
        }
        rows.append([by_field[name] for name in layouts.rtf_columns])
    return rows


def write_rtf(
    engine: Engine,
    period: Period,
    contract: Contract,
    out: Path,
    *,
    produced_on: date | None = None,
    layouts: Layouts | None = None,
    actor: str | None = None,
    at: datetime | None = None,
    plan: str | None = None,
) -> ExchangeFile:
    """Write the file; with an ``actor``, keep it in the file history (an empty file, which
    no one sends, is not kept). ``plan``: whose members (None: the first plan's; in an office
    of one plan, every member); ``contract`` is that plan's."""
    layouts = layouts or default_layouts()
    members = plan_file(engine, plan)
    identity = plan_identity(engine, provider_identity(engine), members.plan)
    rows = rtf_rows(
        engine, period, contract, identity, layouts, produced_on or date.today(), members
    )
    write_table(
        out,
        list(layouts.rtf_columns.values()),
        rows,
        date_format=layouts.date_format,
        xlsx_date_format=layouts.xlsx_date_format,
        sheet="Return Transmission",
    )
    if actor is not None and rows:
        keep_file(
            engine, kind="rtf", period=period, path=out, actor=actor, records=len(rows), at=at
        )
    return ExchangeFile(out, len(rows), tuple(identity.missing()), members.plan)
