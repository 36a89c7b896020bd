"""The JSON API under ``/api``: the same service functions and role checks as the pages.

Authentication is the web session cookie; a POST also needs the session's CSRF token in the
``X-CSRF-Token`` header (``GET /api/me`` returns it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ecmbill.domain.honesty import honesty_report
from ecmbill.domain.period import Period
from ecmbill.fieldwork import idempotency
from ecmbill.fieldwork import members as field_members
from ecmbill.fieldwork import outreach as field_outreach
from ecmbill.fieldwork import time as field_time
from ecmbill.fieldwork import verdict as field_verdict
from ecmbill.imports.kinds import RowReject
from ecmbill.rating.service import rate
from ecmbill.store import fieldwork as stored_work
from ecmbill.store.fieldwork import time_entry_view
from ecmbill.web.accounts import (
    ActiveSession,
    MemberAccess,
    log_access,
    member_access,
    visible_members,
    visible_staff,
)
from ecmbill.web.security import (
    ApiUnauthorized,
    Forbidden,
    actor,
    api_user,
    current_session,
    form_user,
)
from ecmbill.web.site import site

router = APIRouter(prefix="/api", tags=["api"])


class TimeEntryIn(BaseModel):
    """A time entry as typed: the same fields and checks as a row of a time import file."""

    member_id: str
    date: str
    activity: str
    modality: str
    minutes: str = ""
    start_time: str = ""
    end_time: str = ""
    note: str = ""


class OutreachAttemptIn(BaseModel):
    """An outreach attempt as typed: the same fields and checks as the outreach form."""

    member_id: str
    date: str
    method: str
    individualized: str = "true"
    outcome: str
    minutes: str = ""


# The phone's own id for an entry it kept offline: a resend with it creates nothing new.
IDEMPOTENCY_HEADER = "Idempotency-Key"
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=IDEMPOTENCY_HEADER,
        description="Your own id for this record (a UUID: 8 to 64 letters, digits, '-', '_'). "
        "Sent again, the first answer comes back (200) and nothing more is created.",
    ),
]


async def sent_once(
    request: Request,
    active: ActiveSession,
    kind: str,
    create: Callable[[], dict[str, Any]],
    id_field: str,
    key: str | None,
) -> JSONResponse:
    """Create a record, once per ``Idempotency-Key`` when the request has one: 201 with the
    answer when this request created it, 200 with the first answer when an earlier request
    with the same key did. Without the header every request creates a record."""

    def answered() -> dict[str, Any]:
        answer: dict[str, Any] = jsonable_encoder(create())
        return answer

    if key is None:
        return JSONResponse(await run_in_threadpool(answered), status_code=201)
    try:
        answer, created = await run_in_threadpool(
            lambda: idempotency.once(
                site(request).engine,
                user_id=active.account.id,
                key=key,
                kind=kind,
                create=answered,
                record_id_of=lambda saved: str(saved[id_field]),
            )
        )
    except idempotency.BadKey as err:
        return JSONResponse({"field": IDEMPOTENCY_HEADER, "detail": str(err)}, status_code=400)
    except idempotency.KeyReused as err:
        return JSONResponse({"field": IDEMPOTENCY_HEADER, "detail": str(err)}, status_code=422)
    except idempotency.KeyBusy as err:
        return JSONResponse({"detail": str(err)}, status_code=409)
    return JSONResponse(answer, status_code=201 if created else 200)


@router.get("/me")
def me(request: Request) -> dict[str, Any]:
    """Who is logged in, and the CSRF token to send with a POST."""
    active = current_session(request)
    if active is None:
        raise ApiUnauthorized()
    account = active.account
    return {
        "username": account.username,
        "role": account.role.value,
        "staff_id": account.staff_id,
        "team": account.team,
        "csrf_token": active.csrf_token,
    }


@router.get("/time-entries")
def list_time_entries(
    request: Request, start: date | None = None, end: date | None = None
) -> list[dict[str, Any]]:
    """Your time entries (a supervisor: also the team's), the last 7 days by default."""
    active = api_user(request, "time")
    here = site(request)
    today = here.today()
    entries = stored_work.time_entries(
        here.engine,
        staff_ids=visible_staff(here.engine, active.account),
        start=start or today - timedelta(days=6),
        end=end or today,
    )
    return [time_entry_view(entry).as_json() for entry in entries]


@router.post("/time-entries", status_code=201)
async def create_time_entry(
    request: Request, entry: TimeEntryIn, idempotency_key: IdempotencyKey = None
) -> Any:
    """Record a time entry for yourself. A refused value answers 422 with its field. With an
    ``Idempotency-Key`` header, a resend answers the first send's entry (200) and creates
    nothing."""
    active, _ = await form_user(request, "time", api=True)
    staff_id = active.account.staff_id
    if not staff_id:
        raise Forbidden("your account is not linked to a staff member")
    here = site(request)

    def create() -> dict[str, Any]:
        saved = field_time.record_time(
            here.engine,
            here.contract(),
            entry.model_dump(),
            actor=actor(active),
            staff_id=staff_id,
            today=here.today(),
            within=visible_members(here.engine, active.account, here.today()),
        )
        # The answer is part of what a resend gets back: the phone shows it either way.
        return with_verdict(request, saved, entry_id=saved["entry_id"])

    try:
        return await sent_once(request, active, "time", create, "entry_id", idempotency_key)
    except RowReject as reject:
        return JSONResponse({"field": reject.column, "detail": reject.reason}, status_code=422)


def with_verdict(
    request: Request,
    saved: dict[str, Any],
    *,
    entry_id: str | None = None,
    attempt_id: str | None = None,
) -> dict[str, Any]:
    """A saved record's fields and "will this bill?" beside them: ``bills``, ``code``,
    ``modifiers``, ``reason_code``, ``reason`` (the monthly rating's answer)."""
    here = site(request)
    answer = (
        field_verdict.entry_verdict(here.engine, here.plans(), entry_id)
        if entry_id is not None
        else field_verdict.attempt_verdict(here.engine, here.plans(), attempt_id or "")
    )
    return {**_jsonable(saved), **(answer.as_json() if answer is not None else {})}


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


@router.get("/outreach")
def list_outreach(request: Request, member_id: str | None = None) -> list[dict[str, Any]]:
    active = api_user(request, "outreach")
    engine = site(request).engine
    attempts = stored_work.outreach_attempts(
        engine,
        staff_ids=visible_staff(engine, active.account),
        member_id=member_id.upper() if member_id else None,
    )
    return [
        {
            "attempt_id": a.attempt_id,
            "staff_id": a.staff_id,
            "member_id": a.member_id,
            "date": a.date.isoformat(),
            "method": a.method,
            "individualized": a.individualized,
            "outcome": a.outcome,
            "minutes": a.minutes,
        }
        for a in attempts
    ]


@router.post("/outreach", status_code=201)
async def create_outreach_attempt(
    request: Request, attempt: OutreachAttemptIn, idempotency_key: IdempotencyKey = None
) -> Any:
    """Record an outreach attempt of yours. A refused value answers 422 with its field. With
    an ``Idempotency-Key`` header, a resend answers the first send's attempt (200) and creates
    nothing."""
    active, _ = await form_user(request, "outreach", api=True)
    staff_id = active.account.staff_id
    if not staff_id:
        raise Forbidden("your account is not linked to a staff member")
    here = site(request)

    def create() -> dict[str, Any]:
        saved = field_outreach.record_outreach(
            here.engine,
            here.contract(),
            attempt.model_dump(),
            actor=actor(active),
            staff_id=staff_id,
            today=here.today(),
            within=visible_members(here.engine, active.account, here.today()),
        )
        return with_verdict(request, saved, attempt_id=saved["attempt_id"])

    try:
        return await sent_once(request, active, "outreach", create, "attempt_id", idempotency_key)
    except RowReject as reject:
        return JSONResponse({"field": reject.column, "detail": reject.reason}, status_code=422)


@router.get("/members")
def find_members(request: Request, q: str) -> list[dict[str, str]]:
    """Members on your caseload whose CIN starts with, or whose name contains, ``q``."""
    active = api_user(request, "members")
    here = site(request)
    within = visible_members(here.engine, active.account, here.today())
    return [
        {"member_id": m.member_id, "name": m.name}
        for m in field_members.search_members(here.engine, q, 50, within)
    ]


@router.get("/members/{member_id}")
def member_month(request: Request, member_id: str, period: str | None = None) -> Any:
    """A member's month: eligibility, enrollments, minutes and projected claim lines. A member
    off your caseload is refused (403): open it on its page, with a reason."""
    active = api_user(request, "members")
    here = site(request)
    month = here.period_or_current(period)
    member_id = member_id.upper()
    access = member_access(here.engine, active.account, member_id, here.today())
    if access is MemberAccess.REASON:
        raise Forbidden("not on your caseload: open the member's page and give a reason")
    if access is MemberAccess.LOGGED:
        log_access(here.engine, active.account, "view", member_id=member_id)
    rating = rate(here.engine, month, here.plans())
    found = field_members.member_month(here.engine, member_id, month, rating.lines_for(member_id))
    if found is None:
        return JSONResponse({"detail": "no such member"}, status_code=404)
    return {
        "member_id": member_id,
        "period": str(month),
        "eligibility": {e.month: e.eligible for e in found.eligibility},
        "enrollments": [
            {
                "start_date": e.start_date.isoformat(),
                "end_date": e.end_date.isoformat() if e.end_date else None,
            }
            for e in found.enrollments
        ],
        "minutes": found.minutes,
        "lines": [line.as_json() for line in found.lines],
    }


@router.get("/periods/{period}/preview")
def period_preview(request: Request, period: str) -> Any:
    """The period's claim lines, the entries that do not bill (with reasons), and the
    minutes-per-unit totals per code (the key "honesty", kept for API callers)."""
    api_user(request, "billing")
    try:
        month = Period.parse(period)
    except ValueError as err:
        return JSONResponse({"detail": str(err)}, status_code=422)
    here = site(request)
    rating = rate(here.engine, month, here.plans())
    report = honesty_report(rating.period, rating.lines, rating.not_billed)
    return {
        **rating.as_json(),
        "honesty": {
            "service_minutes": report.service_minutes,
            "service_units": report.service_units,
            "service_minutes_per_unit": report.service_minutes_per_unit,
            "outreach_attempts": report.outreach_attempts,
            "by_code": [
                {
                    "code": t.code,
                    "modifiers": list(t.modifiers),
                    "kind": t.kind.value,
                    "lines": t.lines,
                    "minutes": t.minutes,
                    "units": t.units,
                }
                for t in report.by_code
            ],
        },
    }
