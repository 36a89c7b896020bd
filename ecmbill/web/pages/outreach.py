"""Outreach: record an attempt to reach a member, and see whether a member can be reported
unable to reach."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ecmbill.domain.vocabulary import OutreachMethod, OutreachOutcome
from ecmbill.fieldwork import members as field_members
from ecmbill.fieldwork import outreach as field_outreach
from ecmbill.fieldwork import verdict as field_verdict
from ecmbill.imports.kinds import RowReject
from ecmbill.members import lifecycle
from ecmbill.store import fieldwork as stored_work
from ecmbill.store.lookups import member_names
from ecmbill.web.accounts import ActiveSession, visible_staff
from ecmbill.web.forms import record_from_form
from ecmbill.web.pages.time import verdict_partial
from ecmbill.web.render import render
from ecmbill.web.security import page_user
from ecmbill.web.site import site

router = APIRouter()


def outreach_page(
    request: Request,
    active: ActiveSession,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    member_id: str | None = None,
    saved: bool = False,
    saved_id: str | None = None,
) -> HTMLResponse:
    here = site(request)
    attempts = stored_work.outreach_attempts(
        here.engine, staff_ids=visible_staff(here.engine, active.account)
    )
    check = None
    if member_id:
        check = lifecycle.check_unable_to_reach(here.engine, member_id, here.contract())
    return render(
        request,
        "outreach.html",
        status_code,
        values=values or {"date": here.today().isoformat(), "individualized": "true"},
        errors=errors or {},
        attempts=attempts,
        names=member_names(here.engine, {a.member_id for a in attempts} | {member_id or ""}),
        methods=list(OutreachMethod),
        outcomes=list(OutreachOutcome),
        check=check,
        member_id=member_id,
        saved=saved,
        verdict=(
            field_verdict.attempt_verdict(here.engine, here.plans(), saved_id)
            if saved_id and any(a.attempt_id == saved_id for a in attempts)
            else None
        ),
    )


@router.get("/outreach", response_class=HTMLResponse)
def outreach(
    request: Request, member: str | None = None, saved: bool = False, attempt: str | None = None
) -> Response:
    active = page_user(request, "outreach")
    member_id = None
    if member:
        try:
            member_id = field_members.resolve_member(site(request).engine, member)
        except RowReject:
            member_id = None
    return outreach_page(request, active, member_id=member_id, saved=saved, saved_id=attempt)


@router.post("/outreach", response_class=HTMLResponse)
async def record_outreach(request: Request) -> Response:
    return await record_from_form(
        request,
        "outreach",
        field_outreach.record_outreach,
        outreach_page,
        lambda saved: (
            f"/outreach?member={saved['member_id']}&saved=true&attempt={saved['attempt_id']}"
        ),
    )


@router.post("/outreach/verdict", response_class=HTMLResponse)
async def outreach_verdict(request: Request) -> Response:
    """ "Will this bill?" for the attempt as filled so far (htmx): nothing is saved."""
    return await verdict_partial(request, "outreach")
