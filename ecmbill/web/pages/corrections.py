"""Corrections: a biller (or an admin) corrects an enrollment span, a staff member's role
period or an eligibility month, or deletes a time entry or outreach attempt recorded in error,
in any period, with a reason. The page then shows the months the correction changes for
billing, rated before and after (``ecmbill.members.corrections``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ecmbill.domain import values
from ecmbill.domain.period import Period
from ecmbill.domain.vocabulary import Role
from ecmbill.fieldwork import outreach as field_outreach
from ecmbill.fieldwork import time as field_time
from ecmbill.members import corrections
from ecmbill.members.corrections import Correction, CorrectionError
from ecmbill.store import fieldwork as stored_work
from ecmbill.store import members as stored_members
from ecmbill.web.forms import form_values
from ecmbill.web.render import render
from ecmbill.web.security import actor, form_user, page_user
from ecmbill.web.site import site

router = APIRouter()
AREA = "corrections"
OPEN = "open"


def corrections_page(
    request: Request,
    member_id: str = "",
    staff_id: str = "",
    *,
    error: str | None = None,
    done: Correction | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    here = site(request)
    member_id, staff_id = member_id.strip().upper(), staff_id.strip()
    roles = stored_work.staff_roles(here.engine).get(staff_id, []) if staff_id else []
    return render(
        request,
        "corrections.html",
        status_code,
        member_id=member_id,
        staff_id=staff_id,
        spans=stored_members.enrollments(here.engine, member_id) if member_id else [],
        eligibility=stored_members.eligibility(here.engine, member_id) if member_id else [],
        roles=sorted(roles, key=lambda p: p[0] or date.min),
        role_names=[r.value for r in Role],
        error=error,
        done=done,
    )


@router.get("/corrections", response_class=HTMLResponse)
def corrections_home(request: Request, member_id: str = "", staff_id: str = "") -> Response:
    page_user(request, AREA)
    return corrections_page(request, member_id, staff_id)


class _Refused(ValueError):
    pass


def _day(form: dict[str, str], name: str, *, empty: Any) -> Any:
    """A date field read as the import reads a date; ``empty`` when left blank."""
    text = form.get(name, "").strip()
    if not text:
        return empty
    if text.lower() == OPEN:
        return None
    try:
        return values.any_day(text)
    except values.FieldError as err:
        raise _Refused(f"{name} {err}") from None


async def _correct(request: Request, run: Any) -> Response:
    """Read the form, make the correction, and show it (or the reason it was refused)."""
    active, form = await form_user(request, AREA)
    typed = form_values(form)
    here = site(request)
    member_id, staff_id = typed.get("member_id", ""), typed.get("staff_id", "")
    try:
        done = run(here, typed, actor(active))
    except (CorrectionError, _Refused) as err:
        return corrections_page(request, member_id, staff_id, error=str(err), status_code=422)
    return corrections_page(request, member_id, staff_id, done=done)


def _reason(typed: dict[str, str]) -> str:
    return typed.get("reason", "")


@router.post("/corrections/span", response_class=HTMLResponse)
async def correct_span(request: Request) -> Response:
    def run(here: Any, typed: dict[str, str], who: str) -> Correction:
        start = _day(typed, "start", empty=None)
        if start is None:
            raise _Refused("start: name the stored span by its start date")
        return corrections.correct_span(
            here.engine, here.plans(), typed.get("member_id", "").strip().upper(), start,
            new_start=_day(typed, "new_start", empty=corrections.KEEP),
            new_end=_day(typed, "new_end", empty=None),
            remove=typed.get("remove") == "yes", actor=who, reason=_reason(typed),
        )  # fmt: skip

    return await _correct(request, run)


@router.post("/corrections/role", response_class=HTMLResponse)
async def correct_role(request: Request) -> Response:
    def run(here: Any, typed: dict[str, str], who: str) -> Correction:
        role = typed.get("role", "").strip()
        if role and role not in {r.value for r in Role}:
            raise _Refused(f"role must be one of {', '.join(r.value for r in Role)}")
        return corrections.correct_role(
            here.engine, here.plans(), typed.get("staff_id", "").strip(),
            _day(typed, "start", empty=None),
            new_from=_day(typed, "new_from", empty=None),
            new_to=_day(typed, "new_to", empty=None),
            role=role or corrections.KEEP,
            remove=typed.get("remove") == "yes", actor=who, reason=_reason(typed),
        )  # fmt: skip

    return await _correct(request, run)


@router.post("/corrections/eligibility", response_class=HTMLResponse)
async def correct_eligibility(request: Request) -> Response:
    def run(here: Any, typed: dict[str, str], who: str) -> Correction:
        try:
            month = Period.parse(typed.get("month", ""))
        except ValueError as err:
            raise _Refused(str(err)) from None
        choice = typed.get("eligible", "").strip()
        if choice not in ("yes", "no", "remove"):
            raise _Refused("eligible: choose yes, no or remove")
        eligible = None if choice == "remove" else choice == "yes"
        return corrections.correct_eligibility(
            here.engine, here.plans(), typed.get("member_id", "").strip().upper(), month,
            eligible, actor=who, reason=_reason(typed),
        )  # fmt: skip

    return await _correct(request, run)


@router.post("/corrections/delete", response_class=HTMLResponse)
async def delete_record(request: Request) -> Response:
    def run(here: Any, typed: dict[str, str], who: str) -> Correction:
        record_id = typed.get("record_id", "").strip()
        if not record_id:
            raise _Refused("record_id: give the id of the entry or attempt")
        if typed.get("kind") == "outreach":
            return field_outreach.delete_attempt(
                here.engine, here.plans(), attempt_id=record_id, actor=who,
                reason=_reason(typed),
            )  # fmt: skip
        return field_time.delete_entry(
            here.engine, here.plans(), entry_id=record_id, actor=who, reason=_reason(typed)
        )

    return await _correct(request, run)
