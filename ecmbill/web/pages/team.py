"""My team (supervisor): this month per person, hours, units, what waits for approval and
what will not bill and why; one person's week or month to review, approved in one go."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ecmbill.domain.period import Period
from ecmbill.fieldwork import team as field_team
from ecmbill.imports.kinds import RowReject
from ecmbill.web.accounts import ActiveSession, visible_staff
from ecmbill.web.render import render
from ecmbill.web.security import Forbidden, actor, form_user, page_user
from ecmbill.web.site import BadParameter, month_before, site

router = APIRouter()


def team_of(request: Request, active: ActiveSession) -> frozenset[str]:
    """The supervisor's team, without the supervisor: their own time is approved by others."""
    mine = frozenset({active.account.staff_id}) if active.account.staff_id else frozenset()
    return visible_staff(site(request).engine, active.account) - mine


def team_member(request: Request, active: ActiveSession, staff_id: str) -> str:
    if staff_id not in team_of(request, active):
        raise Forbidden("this staff member is not in your team")
    return staff_id


def week_of(text: str | None) -> date | None:
    """The Monday of the week holding the date typed; None when no week is asked for."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadParameter("week must be a date, YYYY-MM-DD") from None
    if day < date(1900, 1, 8) or day > date(9999, 12, 24):
        raise BadParameter("week is outside the dates ecmbill serves")
    return day - timedelta(days=day.weekday())


@router.get("/team", response_class=HTMLResponse)
def team_page(request: Request, period: str | None = None) -> Response:
    active = page_user(request, "team")
    here = site(request)
    month = here.period_or_current(period)
    contract = here.contract()
    people = field_team.team_month(here.engine, contract, team_of(request, active), month)
    return render(
        request,
        "team.html",
        period=month,
        month_name=f"{month.start:%B %Y}",
        previous=month_before(month),
        following=month.next(),
        people=people,
        require_approval=contract.require_approval,
    )


def mondays_of(month: Period) -> list[date]:
    """The weeks a month's days fall in, by their Monday."""
    first = month.start - timedelta(days=month.start.weekday())
    return [first + timedelta(days=7 * n) for n in range((month.end - first).days // 7 + 1)]


def drill_address(staff_id: str, month: Period, week: date | None, page: int) -> str:
    """Built from parsed values only: the answer to a POST never goes to an address sent."""
    where = f"week={week.isoformat()}" if week else f"period={month}"
    return f"/team/{staff_id}?{where}" + (f"&page={page}" if page > 1 else "")


@router.get("/team/{staff_id}", response_class=HTMLResponse)
def person_page(
    request: Request,
    staff_id: str,
    period: str | None = None,
    week: str | None = None,
    page: int = 1,
    approved: int | None = None,
) -> Response:
    active = page_user(request, "team")
    staff_id = team_member(request, active, staff_id)
    here = site(request)
    monday = week_of(week)
    month = Period.of(monday) if monday else here.period_or_current(period)
    first, last = (monday, monday + timedelta(days=6)) if monday else (month.start, month.end)
    shown = field_team.person_entries(
        here.engine, here.contract(), staff_id, first, last, page=page
    )
    return render(
        request,
        "team_person.html",
        person=shown,
        period=month,
        week=monday,
        previous_week=(monday - timedelta(days=7)) if monday else None,
        next_week=(monday + timedelta(days=7)) if monday else None,
        weeks=[] if monday else mondays_of(month),
        contract=here.contract(),
        approved_now=approved,
        page_address=lambda number: drill_address(staff_id, month, monday, number),
    )


@router.post("/team/{staff_id}/approve")
async def approve_shown(request: Request, staff_id: str) -> Response:
    active, form = await form_user(request, "team")
    staff_id = team_member(request, active, staff_id)
    entry_ids = [str(v) for v in form.getlist("entry_id")]
    if not entry_ids:
        raise BadParameter("no entries to approve: reload the page")
    if len(entry_ids) > field_team.PAGE_SIZE:
        raise BadParameter(f"at most {field_team.PAGE_SIZE} entries are approved at once")
    here = site(request)
    # Where to go back to is read before anything is approved: a bad value refuses the lot.
    monday = week_of(str(form.get("week") or ""))
    month = Period.of(monday) if monday else here.period_or_current(str(form.get("period") or ""))
    try:
        page = max(1, int(str(form.get("page") or "1")))
    except ValueError:
        page = 1
    try:
        done = field_team.approve_shown(here.engine, staff_id, entry_ids, actor=actor(active))
    except RowReject as reject:
        raise Forbidden(reject.reason) from None
    address = drill_address(staff_id, month, monday, page)
    return RedirectResponse(f"{address}&approved={done}", status_code=303)
