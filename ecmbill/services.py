"""Whether a member may be reported unable to reach, and reporting it when the rule allows."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import ibis
from sqlalchemy import select

from ecmbill.contract import Contract
from ecmbill.domain.outreach import Attempt, UnableToReachDecision, unable_to_reach
from ecmbill.domain.vocabulary import OutreachOutcome
from ecmbill.rating.expression import classify
from ecmbill.rating.service import ibis_backend, store_inputs
from ecmbill.store import audit, models
from ecmbill.store.db import Engine, unit_of_work

EARLIEST, LATEST = date(1900, 1, 1), date(9999, 12, 31)


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
