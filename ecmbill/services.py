"""What the shells (CLI, web) call: each function takes plain values and an engine, does one
thing a biller asks for, and returns domain values. No printing, no HTTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import ibis
from sqlalchemy import Engine, select

from ecmbill.contract import Contract, default_contract, load_contract, parse_contract
from ecmbill.domain.honesty import HonestyReport, honesty_report
from ecmbill.domain.lines import PeriodRating
from ecmbill.domain.outreach import Attempt, UnableToReachDecision, unable_to_reach
from ecmbill.domain.period import Period
from ecmbill.domain.vocabulary import OutreachOutcome
from ecmbill.rating import files, output
from ecmbill.rating.expression import classify
from ecmbill.rating.service import ibis_backend, rate_store, store_inputs
from ecmbill.store import audit, models
from ecmbill.store.db import make_engine, migrate, unit_of_work

CONTRACT_SETTING = "contract_toml"
EARLIEST, LATEST = date(1900, 1, 1), date(9999, 12, 31)


def open_store(url: str | None = None) -> Engine:
    """The database, migrated to the newest schema."""
    engine = make_engine(url)
    migrate(engine)
    return engine


def current_contract(engine: Engine, override: Path | None = None) -> Contract:
    """``--contract FILE`` if given, else the contract stored in the database, else the
    default (the plan's billing guide)."""
    if override is not None:
        return load_contract(override)
    with unit_of_work(engine) as session:
        stored = session.get(models.Setting, CONTRACT_SETTING)
        text = stored.value if stored else None
    return parse_contract(text, "stored contract") if text else default_contract()


def store_contract(engine: Engine, path: Path, actor: str) -> Contract:
    """Validate a contract file and keep it in the database for every later command."""
    contract = load_contract(path)
    text = path.read_text(encoding="utf-8")
    with unit_of_work(engine) as session:
        stored = session.get(models.Setting, CONTRACT_SETTING)
        before = {"name": current_name(stored.value)} if stored else None
        if stored:
            stored.value = text
        else:
            session.add(models.Setting(key=CONTRACT_SETTING, value=text))
        audit.record_change(
            session,
            actor=actor,
            at=audit.now(),
            action="update" if stored else "create",
            entity="settings",
            key=CONTRACT_SETTING,
            before=before,
            after={"name": contract.name},
        )
    return contract


def current_name(text: str) -> str:
    try:
        return parse_contract(text).name
    except ValueError:
        return "(unreadable)"


def rate(engine: Engine, period: Period, contract: Contract) -> PeriodRating:
    return rate_store(engine, period, contract)


def rate_files(
    folder: Path,
    period: Period,
    contract: Contract,
    *,
    engine: str = "duckdb",
    spark_master: str | None = None,
    status: Callable[[str], None] | None = None,
) -> PeriodRating:
    """Rate a period from a folder of Parquet or CSV files (see ``ecmbill.rating.files``)."""
    return files.rate_folder(
        folder, period, contract, engine=engine, spark_master=spark_master, status=status
    )


def rate_files_to(
    folder: Path,
    period: Period,
    contract: Contract,
    out: Path,
    *,
    engine: str = "duckdb",
    spark_master: str | None = None,
    status: Callable[[str], None] | None = None,
) -> output.Written:
    """Rate a period from files and write the lines and the not-billed entries to files."""
    return output.rate_folder_to_file(
        folder, period, contract, out, engine=engine, spark_master=spark_master, status=status
    )


def honesty(engine: Engine, period: Period, contract: Contract) -> HonestyReport:
    rating = rate(engine, period, contract)
    return honesty_report(rating.period, rating.lines, rating.not_billed)


@dataclass(frozen=True)
class UnableToReachCheck:
    member_known: bool
    decision: UnableToReachDecision | None
    reported_on: date | None = None


def check_unable_to_reach(engine: Engine, member_id: str, contract: Contract) -> UnableToReachCheck:
    with unit_of_work(engine) as session:
        if session.get(models.Member, member_id) is None:
            return UnableToReachCheck(member_known=False, decision=None)
        attempt = models.OutreachAttempt
        outcomes = {
            attempt_id: outcome
            for attempt_id, outcome in session.execute(
                select(attempt.attempt_id, attempt.outcome).where(attempt.member_id == member_id)
            )
        }
        reported = session.scalar(
            select(models.MemberStatusEvent.on).where(
                models.MemberStatusEvent.member_id == member_id,
                models.MemberStatusEvent.status == "unable_to_reach",
            )
        )
    con = ibis_backend(engine)
    try:
        inputs = store_inputs(con)
        attempts_only = replace(
            inputs,
            outreach_attempts=inputs.outreach_attempts.filter(
                inputs.outreach_attempts.member_id == member_id
            ),
            time_entries=inputs.time_entries.filter(ibis.literal(False)),
        )
        rows = classify(attempts_only, EARLIEST, LATEST, contract).to_pyarrow().to_pylist()
    finally:
        con.disconnect()
    attempts = [
        Attempt(
            on=row["date"],
            method=row["method"],
            outcome=OutreachOutcome(outcomes[row["id"]]),
            # Mass communications and contacts after enrollment are not outreach attempts.
            counts=bool(row["individualized"]) and not row["in_enrollment"],
        )
        for row in rows
    ]
    decision = unable_to_reach(attempts, contract.unable_to_reach.rule())
    return UnableToReachCheck(member_known=True, decision=decision, reported_on=reported)


def report_unable_to_reach(
    engine: Engine, member_id: str, contract: Contract, actor: str, on: date
) -> UnableToReachCheck:
    """Record "unable to reach" only when the rule allows it; otherwise record nothing."""
    check = check_unable_to_reach(engine, member_id, contract)
    if not (check.decision and check.decision.allowed) or check.reported_on:
        return check
    with unit_of_work(engine) as session:
        now = audit.now()
        event = models.MemberStatusEvent(
            member_id=member_id,
            status="unable_to_reach",
            on=on,
            reason=f"{len(check.decision.counted)} outreach attempts without reaching the member",
            recorded_at=now,
        )
        session.add(event)
        audit.record_change(
            session,
            actor=actor,
            at=now,
            action="create",
            entity="member_status",
            key=member_id,
            before=None,
            after={"status": "unable_to_reach", "on": on},
        )
    return UnableToReachCheck(member_known=True, decision=check.decision, reported_on=on)
