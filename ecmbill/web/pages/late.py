"""Late changes: a care manager sends time for a closed month (from the time form); a biller
accepts it into the next close or refuses it (listed on Billing)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ecmbill.fieldwork import late
from ecmbill.imports.kinds import RowReject
from ecmbill.store.db import Engine
from ecmbill.store.lookups import member_names, staff_names
from ecmbill.web.accounts import visible_members
from ecmbill.web.forms import form_values
from ecmbill.web.security import Forbidden, actor, form_user
from ecmbill.web.site import site

router = APIRouter()


def late_listing(engine: Engine) -> list[dict[str, Any]]:
    """The late changes waiting for a biller, as the Billing page lists them."""
    waiting = late.waiting(engine)
    names = member_names(engine, {c.member_id for c in waiting})
    staff = staff_names(engine)
    return [
        {
            "id": c.id,
            "date": c.date,
            "month": f"{c.date:%Y-%m}",
            "minutes": c.minutes,
            "member": names.get(c.member_id, c.member_id),
            "staff": staff.get(c.staff_id, c.staff_id),
            "submitted_by": c.submitted_by,
        }
        for c in waiting
    ]


async def submit_late_change(request: Request, page: Any) -> Response:
    """The time form's "send to the biller as a late change" button."""
    active, form = await form_user(request, "time")
    values = form_values(form)
    values.pop("late", None)
    staff_id = active.account.staff_id
    if not staff_id:
        raise Forbidden("your account is not linked to a staff member: ask an admin")
    here = site(request)
    try:
        late.submit_late_change(
            here.engine, here.contract(), values, actor=actor(active), staff_id=staff_id,
            today=here.today(),
            within=visible_members(here.engine, active.account, here.today()),
        )  # fmt: skip
    except late.LateChangeRefused as refused:
        return page(request, active, values=values, errors=refused.problems, status_code=422)
    except RowReject as reject:
        return page(
            request, active, values=values, errors={reject.column or "form": reject.reason},
            status_code=422,
        )  # fmt: skip
    return RedirectResponse("/time?late=sent", status_code=303)


def _change_id(text: str) -> int:
    if not text.isdigit() or len(text) > 12:
        raise Forbidden("no such late change")
    return int(text)


@router.post("/billing/late/{change_id}/accept")
async def accept_late_change(request: Request, change_id: str) -> Response:
    active, form = await form_user(request, "billing")
    here = site(request)
    period = str(form.get("period") or "")
    try:
        late.accept(
            here.engine, here.contract(), _change_id(change_id), actor=actor(active),
            today=here.today(),
        )  # fmt: skip
    except RowReject as reject:
        return HTMLResponse(f"The late change was not recorded: {reject.reason}", status_code=409)
    return RedirectResponse(f"/billing?period={period}#late-changes", status_code=303)


@router.post("/billing/late/{change_id}/refuse")
async def refuse_late_change(request: Request, change_id: str) -> Response:
    active, form = await form_user(request, "billing")
    here = site(request)
    period = str(form.get("period") or "")
    reason = " ".join(str(form.get("reason") or "").split())[:500]
    if not late.refuse(here.engine, _change_id(change_id), actor=actor(active), reason=reason):
        return HTMLResponse("No such late change waiting.", status_code=409)
    return RedirectResponse(f"/billing?period={period}#late-changes", status_code=303)
