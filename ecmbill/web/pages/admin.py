"""Admin: web users (add, deactivate) and the contract in force; and the audit trail, which
supervisors and billers read too."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ecmbill.store.lookups import audit_page, staff_names
from ecmbill.web import accounts
from ecmbill.web.accounts import AccountError, UserRole
from ecmbill.web.forms import form_values
from ecmbill.web.render import render
from ecmbill.web.security import actor, form_user, page_user
from ecmbill.web.site import site

router = APIRouter()
# Beyond any trail's length; a larger number (99999999999999999999) is refused with 422.
MAX_PAGE = 1_000_000


@router.get("/audit", response_class=HTMLResponse)
def audit_log(
    request: Request, entity: str = "", page: int = Query(1, ge=1, le=MAX_PAGE)
) -> Response:
    active = page_user(request, "audit")
    engine = site(request).engine
    scope = accounts.audit_scope(engine, active.account)
    found = audit_page(engine, entity=entity, page=page, scope=scope)
    return render(
        request, "audit.html", rows=found.lines, more=found.more, page=page, entity=entity,
        scope=scope,
    )  # fmt: skip


def admin_page(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
    added: str | None = None,
) -> HTMLResponse:
    here = site(request)
    return render(
        request,
        "admin.html",
        status_code,
        users=accounts.list_users(here.engine),
        staff=staff_names(here.engine),
        roles=list(UserRole),
        values=values or {},
        error=error,
        added=added,
        contract=here.contract(),
    )


@router.get("/admin", response_class=HTMLResponse)
def admin(request: Request, added: str | None = None) -> Response:
    page_user(request, "admin")
    return admin_page(request, added=added)


@router.post("/admin/users", response_class=HTMLResponse)
async def add_user(request: Request) -> Response:
    active, form = await form_user(request, "admin")
    values = form_values(form)
    password = values.pop("password", "")
    try:
        role = UserRole(values.get("role", ""))
        account = accounts.add_user(
            site(request).engine,
            username=values.get("username", ""),
            password=password,
            role=role,
            actor=actor(active),
            staff_id=values.get("staff_id") or None,
            team=values.get("team") or None,
        )
    except (AccountError, ValueError) as err:
        message = str(err) if isinstance(err, AccountError) else "pick a role"
        return admin_page(request, values=values, error=message, status_code=422)
    return RedirectResponse(f"/admin?added={account.username}", status_code=303)


@router.post("/admin/users/{username}/active", response_class=HTMLResponse)
async def set_user_active(request: Request, username: str) -> Response:
    active, form = await form_user(request, "admin")
    wanted = str(form.get("active") or "") == "true"
    if username == active.account.username and not wanted:
        return admin_page(request, error="you cannot deactivate yourself", status_code=422)
    try:
        accounts.set_active(site(request).engine, username, wanted, actor=actor(active))
    except AccountError as err:
        return admin_page(request, error=str(err), status_code=404)
    return RedirectResponse("/admin", status_code=303)
