"""My time: a care manager records and corrects their own time entries; a supervisor also
reads and approves a team member's entry (the team itself is on My team, pages/team.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ecmbill.contract import Contract
from ecmbill.domain.period import Period
from ecmbill.domain.vocabulary import Modality
from ecmbill.fieldwork import time as field_time
from ecmbill.fieldwork import verdict as field_verdict
from ecmbill.fieldwork.activities import activity_groups
from ecmbill.imports.kinds import RowReject
from ecmbill.store import fieldwork as stored_work
from ecmbill.store.fieldwork import TimeEntryView, time_entry_view
from ecmbill.store.lookups import member_names, staff_names
from ecmbill.web.accounts import ActiveSession, UserRole, visible_members, visible_staff
from ecmbill.web.forms import field_of, form_values, record_from_form
from ecmbill.web.pages.late import submit_late_change
from ecmbill.web.render import render
from ecmbill.web.security import Forbidden, actor, form_user, page_user
from ecmbill.web.site import site

router = APIRouter()


# The activity and modality of the last visit saved on this device, as "activity|modality":
# a cookie rather than a stored preference, because it is what this phone was last used for
# (a care manager on a desk computer and a phone keeps two habits), it needs no migration, it
# works offline, and neither value is PHI.
LAST_VISIT_COOKIE = "ecmbill_last_visit"
LAST_VISIT_DAYS = 180


def remember_visit(saved: dict[str, Any], response: Response) -> None:
    response.set_cookie(
        LAST_VISIT_COOKIE,
        f"{saved['activity']}|{saved['modality']}",
        max_age=LAST_VISIT_DAYS * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=response.headers.get("strict-transport-security") is not None,
    )


def last_visit(request: Request, contract: Contract) -> dict[str, str]:
    """The remembered activity and modality, each only if the contract still has it."""
    activity, _, modality = request.cookies.get(LAST_VISIT_COOKIE, "").partition("|")
    found = {"modality": Modality.IN_PERSON.value}
    if activity in contract.activities:
        found["activity"] = activity
    if modality in {m.value for m in Modality}:
        found["modality"] = modality
    return found


def preselected_member(request: Request, active: ActiveSession, member: str | None) -> str:
    """The member a "record time" link names, as the member field shows it; only a member
    the user may see."""
    if not member:
        return ""
    here = site(request)
    member_id = member.strip().upper()
    within = visible_members(here.engine, active.account, here.today())
    if within is not None and member_id not in within:
        return ""
    names = member_names(here.engine, {member_id})
    return f"{member_id} — {names[member_id]}" if member_id in names else ""


def time_page(
    request: Request,
    active: ActiveSession,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    saved: str | None = None,
    member: str | None = None,
    late_sent: bool = False,
) -> HTMLResponse:
    here = site(request)
    day = here.today()
    contract = here.contract()
    if values is None:
        values = {
            "date": day.isoformat(),
            **last_visit(request, contract),
            "member_id": preselected_member(request, active, member),
        }
    week_start = day - timedelta(days=day.weekday())
    account = active.account
    mine = frozenset({account.staff_id}) if account.staff_id else frozenset()
    entries = stored_work.time_entries(here.engine, staff_ids=mine, start=week_start, end=day)
    # The answer for the entry just saved: only one of the user's own.
    saved_entry = stored_work.time_entry(here.engine, saved) if saved else None
    if saved_entry is not None and saved_entry.staff_id != account.staff_id:
        saved_entry = None
    return render(
        request,
        "time.html",
        status_code,
        contract=contract,
        activity_groups=activity_groups(contract),
        values=values,
        errors=errors or {},
        verdict=(
            field_verdict.entry_verdict(here.engine, here.plans(), saved_entry.entry_id)
            if saved_entry is not None
            else None
        ),
        late=field_time.is_closed_refusal(errors or {}),
        late_sent=late_sent,
        today_entries=[time_entry_view(e) for e in entries if e.date == day],
        week_entries=[time_entry_view(e) for e in entries if e.date != day],
        names=member_names(here.engine, {e.member_id for e in entries}),
        saved=saved,
        editing=None,
    )


@router.get("/time", response_class=HTMLResponse)
def my_time(
    request: Request, saved: str | None = None, member: str | None = None, late: str = ""
) -> Response:
    active = page_user(request, "time")
    return time_page(request, active, saved=saved, member=member, late_sent=late == "sent")


@router.post("/time", response_class=HTMLResponse)
async def record_time(request: Request) -> Response:
    if (await request.form()).get("late") == "1":
        return await submit_late_change(request, time_page)
    return await record_from_form(
        request,
        "time",
        field_time.record_time,
        time_page,
        lambda saved: f"/time?saved={saved['entry_id']}",
        remember=remember_visit,
    )


@router.post("/time/verdict", response_class=HTMLResponse)
async def time_verdict(request: Request) -> Response:
    """ "Will this bill?" for the form as filled so far (htmx): nothing is saved."""
    return await verdict_partial(request, "time")


async def verdict_partial(request: Request, kind: str) -> Response:
    active, form = await form_user(request, kind)
    here = site(request)
    answer = None
    if active.account.staff_id:
        answer = field_verdict.preview(
            here.engine,
            here.plans(),
            kind,
            form_values(form),
            staff_id=active.account.staff_id,
            today=here.today(),
            within=visible_members(here.engine, active.account, here.today()),
        )
    return render(request, "verdict.html", verdict=answer, before_save=True)


def own_entry(request: Request, active: ActiveSession, entry_id: str) -> TimeEntryView:
    entry = stored_work.time_entry(site(request).engine, entry_id)
    if entry is None:
        raise Forbidden("no such time entry")
    if entry.staff_id != active.account.staff_id:
        raise Forbidden("this is another staff member's entry")
    return time_entry_view(entry)


@router.get("/time/{entry_id}", response_class=HTMLResponse)
def show_entry(request: Request, entry_id: str) -> Response:
    active = page_user(request, "time")
    here = site(request)
    entry = stored_work.time_entry(here.engine, entry_id)
    if (
        entry is not None
        and entry.staff_id != active.account.staff_id
        and entry.staff_id in visible_staff(here.engine, active.account)
    ):
        # A supervisor reads a team member's entry, and does not edit it.
        return render(
            request,
            "entry.html",
            entry=time_entry_view(entry),
            names=member_names(here.engine, {entry.member_id}),
            contract=here.contract(),
            approved=entry.entry_id in stored_work.approved(here.engine, [entry]),
            staff_name=staff_names(here.engine).get(entry.staff_id),
        )
    mine = own_entry(request, active, entry_id)
    return edit_page(request, mine, mine.form_values(), {})


def edit_page(
    request: Request,
    entry: TimeEntryView,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    here = site(request)
    return render(
        request,
        "time_edit.html",
        status_code,
        contract=here.contract(),
        activity_groups=activity_groups(here.contract()),
        verdict=field_verdict.entry_verdict(here.engine, here.plans(), entry.entry_id),
        values=values,
        errors=errors,
        editing=entry,
        open=field_time.period_is_open(here.engine, Period.of(entry.date)),
        closed_message=field_time.closed_message(Period.of(entry.date)),
    )


@router.post("/time/{entry_id}", response_class=HTMLResponse)
async def correct_entry(request: Request, entry_id: str) -> Response:
    active, form = await form_user(request, "time")
    entry = own_entry(request, active, entry_id)
    values = form_values(form)
    here = site(request)
    try:
        field_time.record_time(
            here.engine,
            here.contract(),
            values,
            actor=actor(active),
            staff_id=entry.staff_id,
            entry_id=entry_id,
            today=here.today(),
            within=visible_members(here.engine, active.account, here.today()),
        )
    except RowReject as reject:
        errors = {field_of(reject): reject.reason}
        for field, reason in field_verdict.form_problems(
            here.engine, here.contract(), "time", values, staff_id=entry.staff_id,
            today=here.today(), within=visible_members(here.engine, active.account, here.today()),
        ).items():  # fmt: skip
            errors.setdefault(field, reason)
        return edit_page(request, entry, values, errors, 422)
    return RedirectResponse(f"/time?saved={entry_id}", status_code=303)


@router.post("/time/{entry_id}/approve")
async def approve_entry(request: Request, entry_id: str) -> Response:
    active, _ = await form_user(request, "time")
    account = active.account
    if account.role is not UserRole.SUPERVISOR:
        raise Forbidden("only a supervisor approves time")
    engine = site(request).engine
    entry = stored_work.time_entry(engine, entry_id)
    if entry is None or entry.staff_id not in visible_staff(engine, account):
        raise Forbidden("this entry is not of your team")
    if entry.staff_id == account.staff_id:
        raise Forbidden("a supervisor does not approve their own time")
    field_time.approve_time(engine, entry_id, actor=actor(active))
    return RedirectResponse(f"/time/{entry_id}", status_code=303)


@router.post("/time/{entry_id}/delete")
async def delete_entry(request: Request, entry_id: str) -> Response:
    active, _ = await form_user(request, "time")
    entry = own_entry(request, active, entry_id)
    try:
        field_time.delete_time(
            site(request).engine, entry_id, actor=actor(active), staff_id=entry.staff_id
        )
    except RowReject as reject:
        return edit_page(request, entry, entry.form_values(), {"date": reject.reason}, 409)
    return RedirectResponse("/time", status_code=303)
