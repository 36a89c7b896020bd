"""Members: find a member, and read a member's month (eligibility, enrollment, time, the
claim lines the rating projects and what does not bill)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ecmbill.fieldwork import members as field_members
from ecmbill.rating.service import rate
from ecmbill.store.lookups import staff_names
from ecmbill.web.render import not_found, render
from ecmbill.web.security import ACCESS, page_user
from ecmbill.web.site import month_before, site

router = APIRouter()


@router.get("/members", response_class=HTMLResponse)
def members(request: Request, q: str = "") -> Response:
    page_user(request, "members")
    found = field_members.search_members(site(request).engine, q, 50)
    return render(request, "members.html", q=q, found=found)


@router.get("/members/search", response_class=HTMLResponse)
def member_options(request: Request, member_id: str = "") -> Response:
    """Suggestions for the member field, as <option>s for its datalist (htmx)."""
    page_user(request, "members")
    found = field_members.search_members(site(request).engine, member_id)
    return render(request, "member_options.html", found=found)


@router.get("/members/{member_id}", response_class=HTMLResponse)
def member(request: Request, member_id: str, period: str | None = None) -> Response:
    active = page_user(request, "members")
    here = site(request)
    member_id = member_id.upper()
    month = here.period_or_current(period)
    contract = here.contract()
    rating = rate(here.engine, month, contract)
    found = field_members.member_month(here.engine, member_id, month, rating.lines_for(member_id))
    if found is None:
        return not_found(request, "no such member")
    return render(
        request,
        "member.html",
        month=found,
        contract=contract,
        staff_names=staff_names(here.engine),
        not_billed=[n for n in rating.not_billed if n.member_id == member_id],
        previous=month_before(month),
        following=month.next(),
        can_correct=active.account.role in ACCESS["corrections"],
    )
