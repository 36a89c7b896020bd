"""Members: find a member on your caseload, and read a member's month (eligibility,
enrollment, time, the claim lines the rating projects and what does not bill). A member off
the caseload opens only with a "break the glass" reason, kept in the access log."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ecmbill.fieldwork import caseload
from ecmbill.fieldwork import members as field_members
from ecmbill.fieldwork import plans as field_plans
from ecmbill.rating.service import rate_recent
from ecmbill.store import fieldwork as stored_work
from ecmbill.store.lookups import staff_names
from ecmbill.store.members import MemberSummary
from ecmbill.web.accounts import (
    MemberAccess,
    UserRole,
    log_access,
    member_access,
    visible_members,
)
from ecmbill.web.forms import form_values
from ecmbill.web.render import error_page, not_found, render
from ecmbill.web.security import ACCESS, ActiveSession, actor, form_user, page_user
from ecmbill.web.site import BadParameter, month_before, site

router = APIRouter()
# Long enough to say why, short enough to stay a reason and not a note.
MIN_REASON, MAX_REASON = 10, 500
MAX_PAGE = 10_000


def _search(request: Request, active: ActiveSession, q: str, limit: int) -> list[MemberSummary]:
    here = site(request)
    within = visible_members(here.engine, active.account, here.today())
    return field_members.search_members(here.engine, q, limit, within)


@router.get("/members", response_class=HTMLResponse)
def members(request: Request, q: str = "", page: int = 1) -> Response:
    """My caseload for a care manager (the default when nothing is searched); otherwise one
    page of the members matching the search, with the total."""
    active = page_user(request, "members")
    here = site(request)
    if not 1 <= page <= MAX_PAGE:
        raise BadParameter(f"page must be 1 to {MAX_PAGE}")
    within = visible_members(here.engine, active.account, here.today())
    found, total = caseload.find(
        here.engine, q, within=within, limit=caseload.PAGE_SIZE,
        offset=(page - 1) * caseload.PAGE_SIZE,
    )  # fmt: skip
    rows = []
    if not q.strip() and active.account.staff_id:
        rows = caseload.my_caseload(
            here.engine, here.contract(), active.account.staff_id, here.today()
        )
        total = len(rows)
        rows = rows[(page - 1) * caseload.PAGE_SIZE : page * caseload.PAGE_SIZE]
    staff = active.account.role is UserRole.STAFF
    # With several plans each member shows their plan today (one plan: nothing to tell).
    plan_today: dict[str, str] = {}
    plan_names: dict[str, str] = {}
    if here.plans().several:
        plan_names = field_plans.plan_names(here.engine)
        shown = [m.member_id for m in found] + [row.member.member_id for row in rows]
        plan_today = field_plans.plans_on(here.engine, shown, here.today())
    return render(
        request,
        "members.html",
        plan_today=plan_today,
        plan_names=plan_names,
        q=q,
        found=found,
        caseload=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // caseload.PAGE_SIZE)),
        cin=caseload.masked_cin if staff else (lambda cin: cin),
        can_record=active.account.staff_id is not None,
    )


@router.get("/members/search", response_class=HTMLResponse)
def member_options(request: Request, member_id: str = "") -> Response:
    """Suggestions for the member field, as <option>s for its datalist (htmx)."""
    active = page_user(request, "members")
    found = _search(request, active, member_id, 20)
    return render(request, "member_options.html", found=found)


def _member_page(
    request: Request,
    member_id: str,
    period: str | None,
    active: ActiveSession,
    *,
    plan_error: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    here = site(request)
    month = here.period_or_current(period)
    contract = here.contract()
    rating = rate_recent(here.engine, month, here.plans())
    found = field_members.member_month(here.engine, member_id, month, rating.lines_for(member_id))
    if found is None:
        return not_found(request, "no such member")
    not_billed = [n for n in rating.not_billed if n.member_id == member_id]
    others_minutes = None
    if active.account.role is UserRole.STAFF:
        # Minimum necessary (issue 14): a care manager reads their own entries in full; of
        # other staff's work only the month's totals, inside the projected lines.
        me = active.account.staff_id
        mine = [e for e in found.entries if e.staff_id == me]
        others_minutes = found.minutes - sum(e.minutes for e in mine)
        own_ids = {e.entry_id for e in mine} | {
            a.attempt_id
            for a in stored_work.outreach_attempts(
                here.engine, staff_ids=frozenset({me or ""}), member_id=member_id
            )
        }
        not_billed = [n for n in not_billed if n.id in own_ids]
        found = replace(found, entries=mine)
    # With several plans, the member's plan spans (and, for who corrects members, a form to
    # give a plan from a date); an office with one plan sees the page as before.
    several = here.plans().several
    return render(
        request,
        "member.html",
        422 if plan_error else 200,
        several_plans=several,
        plan_spans=field_plans.member_spans(here.engine, member_id) if several else [],
        plan_names=field_plans.plan_names(here.engine) if several else {},
        plan_error=plan_error,
        typed=typed or {},
        month=found,
        contract=contract,
        staff_names=staff_names(here.engine),
        others_minutes=others_minutes,
        not_billed=not_billed,
        previous=month_before(month),
        following=month.next(),
        can_correct=active.account.role in ACCESS["corrections"],
    )


def _glass_form(
    request: Request, member_id: str, period: str | None, error: str | None = None
) -> Response:
    return render(
        request,
        "member_glass.html",
        403 if error is None else 422,
        member_id=member_id,
        period=period or "",
        error=error,
        min_reason=MIN_REASON,
        max_reason=MAX_REASON,
    )


@router.get("/members/{member_id}", response_class=HTMLResponse)
def member(request: Request, member_id: str, period: str | None = None) -> Response:
    active = page_user(request, "members")
    here = site(request)
    member_id = member_id.upper()
    here.period_or_current(period)  # a bad period is refused before anything is logged
    access = member_access(here.engine, active.account, member_id, here.today())
    if access is MemberAccess.REASON:
        return _glass_form(request, member_id, period)
    if access is MemberAccess.LOGGED:
        log_access(here.engine, active.account, "view", member_id=member_id)
    return _member_page(request, member_id, period, active)


@router.post("/members/{member_id}/glass", response_class=HTMLResponse)
async def break_the_glass(request: Request, member_id: str) -> Response:
    """Open a member off your caseload, saying why; the reason is in the access log."""
    active, form = await form_user(request, "members")
    here = site(request)
    member_id = member_id.upper()
    period = str(form.get("period") or "") or None
    here.period_or_current(period)
    reason = " ".join(str(form.get("reason") or "").split())
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        return _glass_form(
            request,
            member_id,
            period,
            error=f"say why in {MIN_REASON} to {MAX_REASON} characters",
        )
    log_access(here.engine, active.account, "glass", member_id=member_id, reason=reason)
    return _member_page(request, member_id, period, active)


@router.post("/members/{member_id}/plan", response_class=HTMLResponse)
async def assign_plan(request: Request, member_id: str) -> Response:
    """Give the member a plan from a start date (to an end date, or open), as a correction:
    the member's other spans are cut back around it, every change in the audit trail."""
    active, form = await form_user(request, "corrections")
    here = site(request)
    member_id = member_id.upper()
    typed = form_values(form)
    period = typed.get("period") or None
    here.period_or_current(period)
    opens_members = active.account.role in ACCESS["members"]
    try:
        field_plans.assign_plan(
            here.engine, member_id, typed, actor=actor(active), today=here.today()
        )
    except field_plans.PlanRefused as err:
        problem = str(err)
        if not opens_members:
            return error_page(request, 422, "Plan not given", problem)
        return _member_page(request, member_id, period, active, plan_error=problem, typed=typed)
    target = (
        f"/members/{member_id}?period={here.period_or_current(period)}#plans"
        if opens_members
        else f"/corrections?member_id={member_id}"
    )
    return RedirectResponse(target, status_code=303)
