"""Admin: web users (add, change role and team, deactivate, reset a password or MFA), the
access log, and the contract in force; and the audit trail, which supervisors and billers
read too."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ecmbill.store.files import write_table
from ecmbill.store.lookups import (
    AuditFilter,
    AuditLine,
    AuditScope,
    access_actions,
    audit_lines,
    audit_page,
    staff_names,
)
from ecmbill.web import accounts
from ecmbill.web.accounts import AccountError, ActiveSession, UserRole
from ecmbill.web.forms import form_values
from ecmbill.web.render import XLSX, attachment, render
from ecmbill.web.security import actor, form_user, page_user
from ecmbill.web.site import BadParameter, site

router = APIRouter()
# Beyond any trail's length; a larger number (99999999999999999999) is refused with 422.
MAX_PAGE = 1_000_000
PAGE_SIZE = 100
EXPORTS = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX}


def _day(text: str, name: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadParameter(f"{name} must be a date (YYYY-MM-DD)") from None


def _filter(
    *, entity: str = "", user: str = "", kind: str = "", start: str = "", end: str = ""
) -> AuditFilter:
    """Dates typed as days (UTC): from the start of ``start`` to the end of ``end``."""
    first, last = _day(start, "from"), _day(end, "to")
    return AuditFilter(
        entity=entity[:64],
        key=user.strip().lower()[:64],
        action=kind[:32],
        start=datetime.combine(first, time(), UTC) if first else None,
        end=datetime.combine(last, time(), UTC) + timedelta(days=1) if last else None,
    )


def _export(
    request: Request,
    active: ActiveSession,
    fmt: str,
    name: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> Response:
    """A CSV or XLSX through the formula-safe writer; the trail holds member ids (PHI), so
    the download is in the access log."""
    if fmt not in EXPORTS:
        raise BadParameter("format must be csv or xlsx")
    file_name = f"{name}-{datetime.now(UTC):%Y%m%d-%H%M%S}.{fmt}"
    with tempfile.TemporaryDirectory(prefix="ecmbill-") as folder:
        target = write_table(Path(folder) / file_name, header, rows, sheet=name[:31])
        content = target.read_bytes()
    accounts.log_access(site(request).engine, active.account, "download", file=file_name)
    return attachment(content, file_name, EXPORTS[fmt])


def _trail_rows(lines: list[AuditLine]) -> list[Sequence[Any]]:
    return [
        (r.at.strftime("%Y-%m-%d %H:%M:%S"), r.actor, r.action, r.entity, r.entity_key,
         r.before or "", r.after or "")
        for r in lines
    ]  # fmt: skip


@router.get("/audit", response_class=HTMLResponse)
def audit_log(
    request: Request, entity: str = "", page: int = Query(1, ge=1, le=MAX_PAGE)
) -> Response:
    active = page_user(request, "audit")
    engine = site(request).engine
    scope = accounts.audit_scope(engine, active.account)
    found = audit_page(engine, page=page, size=PAGE_SIZE, scope=scope, where=_filter(entity=entity))
    return render(
        request, "audit.html", rows=found.lines, more=found.more, page=page, entity=entity,
        scope=scope, total=found.total, size=PAGE_SIZE,
    )  # fmt: skip


@router.get("/audit/export")
async def audit_export(request: Request, fmt: str = "csv", entity: str = "") -> Response:
    """The audit trail as the reader sees it (their scope, free text hidden for an admin)."""
    active = page_user(request, "audit")
    engine = site(request).engine
    scope: AuditScope = accounts.audit_scope(engine, active.account)
    lines = await run_in_threadpool(audit_lines, engine, scope=scope, where=_filter(entity=entity))
    header = ("at (UTC)", "who", "action", "what", "key", "before", "after")
    return _export(request, active, fmt, "audit-trail", header, _trail_rows(lines))


def _access_filter(user: str, kind: str, start: str, end: str) -> AuditFilter:
    return _filter(entity="access", user=user, kind=kind, start=start, end=end)


@router.get("/admin/access", response_class=HTMLResponse)
def access_log(
    request: Request,
    user: str = "",
    kind: str = "",
    start: str = "",
    end: str = "",
    page: int = Query(1, ge=1, le=MAX_PAGE),
) -> Response:
    """Logins, failed logins, lockouts, logouts, MFA and password events, PHI downloads and
    member views: who, when, from where (free text such as a break-the-glass reason hidden,
    as on the admin's audit page)."""
    active = page_user(request, "admin")
    engine = site(request).engine
    scope = accounts.audit_scope(engine, active.account)
    found = audit_page(
        engine, page=page, size=PAGE_SIZE, scope=scope,
        where=_access_filter(user, kind, start, end),
    )  # fmt: skip
    return render(
        request, "access.html", rows=found.lines, more=found.more, total=found.total,
        page=page, size=PAGE_SIZE, kinds=access_actions(engine),
        filters={"user": user, "kind": kind, "start": start, "end": end},
    )  # fmt: skip


@router.get("/admin/access/export")
async def access_export(
    request: Request, fmt: str = "csv", user: str = "", kind: str = "", start: str = "",
    end: str = "",
) -> Response:  # fmt: skip
    active = page_user(request, "admin")
    engine = site(request).engine
    scope = accounts.audit_scope(engine, active.account)
    lines = await run_in_threadpool(
        audit_lines, engine, scope=scope, where=_access_filter(user, kind, start, end)
    )
    rows = [
        (r.at.strftime("%Y-%m-%d %H:%M:%S"), r.entity_key, r.action, r.after or "") for r in lines
    ]
    return _export(
        request, active, fmt, "access-log", ("at (UTC)", "user", "action", "details"), rows
    )


def admin_page(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
    added: str | None = None,
    notice: str | None = None,
    temporary: tuple[str, str] | None = None,
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
        notice=notice,
        temporary=temporary,
        contract=here.contract(),
    )


NOTICES = {
    "changed": "User {} changed.",
    "deactivated": "User {} deactivated: their sessions have ended.",
    "activated": "User {} may log in again.",
    "mfa": "MFA of {} reset: they set it up again at their next login (if their role needs it).",
}


@router.get("/admin", response_class=HTMLResponse)
def admin(request: Request, added: str | None = None, done: str = "", user: str = "") -> Response:
    page_user(request, "admin")
    notice = NOTICES[done].format(user[:64]) if done in NOTICES and user else None
    return admin_page(request, added=added, notice=notice)


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


def _confirm(
    request: Request, action: str, question: str, button: str, fields: dict[str, str]
) -> HTMLResponse:
    """The confirmation step of an action that cannot simply be undone: the same form again,
    with ``confirm=yes``; the server acts only on that."""
    return render(
        request, "admin_confirm.html", action=action, question=question, button=button,
        fields=fields,
    )  # fmt: skip


def _confirmed(form: Any) -> bool:
    return str(form.get("confirm") or "") == "yes"


@router.post("/admin/users/{username}", response_class=HTMLResponse)
async def set_user(request: Request, username: str) -> Response:
    """Change a user's role, staff member and team."""
    active, form = await form_user(request, "admin")
    values = form_values(form)
    try:
        role = UserRole(values.get("role", ""))
    except ValueError:
        return admin_page(request, error="pick a role", status_code=422)
    if username == active.account.username and role is not UserRole.ADMIN:
        return admin_page(request, error="you cannot take the admin role from yourself",
                          status_code=422)  # fmt: skip
    try:
        accounts.set_user(
            site(request).engine, username, role=role, staff_id=values.get("staff_id") or None,
            team=values.get("team") or None, actor=actor(active),
        )  # fmt: skip
    except AccountError as err:
        missing = str(err) == "no user with that username"
        return admin_page(request, error=f"{username}: {err}", status_code=404 if missing else 422)
    return RedirectResponse(f"/admin?done=changed&user={quote(username)}", status_code=303)


@router.post("/admin/users/{username}/active", response_class=HTMLResponse)
async def set_user_active(request: Request, username: str) -> Response:
    active, form = await form_user(request, "admin")
    wanted = str(form.get("active") or "") == "true"
    if username == active.account.username and not wanted:
        return admin_page(request, error="you cannot deactivate yourself", status_code=422)
    if not wanted and not _confirmed(form):
        return _confirm(
            request, f"/admin/users/{username}/active",
            f"Deactivate {username}? They can no longer log in and their sessions end now.",
            "Deactivate", {"active": "false"},
        )  # fmt: skip
    try:
        accounts.set_active(site(request).engine, username, wanted, actor=actor(active))
    except AccountError as err:
        return admin_page(request, error=str(err), status_code=404)
    done = "activated" if wanted else "deactivated"
    return RedirectResponse(f"/admin?done={done}&user={quote(username)}", status_code=303)


@router.post("/admin/users/{username}/password", response_class=HTMLResponse)
async def reset_password(request: Request, username: str) -> Response:
    """A temporary password, shown once here, to be changed at the next login."""
    active, form = await form_user(request, "admin")
    if username == active.account.username:
        return admin_page(request, error="change your own password on your Account page",
                          status_code=422)  # fmt: skip
    if not _confirmed(form):
        return _confirm(
            request, f"/admin/users/{username}/password",
            f"Reset the password of {username}? Their sessions end now; they log in with a "
            "temporary password you give them and must choose a new one.",
            "Reset password", {},
        )  # fmt: skip
    try:
        password = await run_in_threadpool(
            accounts.reset_password, site(request).engine, username, actor=actor(active)
        )
    except AccountError as err:
        return admin_page(request, error=str(err), status_code=404)
    return admin_page(request, temporary=(username, password))


@router.post("/admin/users/{username}/mfa", response_class=HTMLResponse)
async def reset_mfa(request: Request, username: str) -> Response:
    """For a user who lost their phone and their recovery codes."""
    active, form = await form_user(request, "admin")
    if not _confirmed(form):
        return _confirm(
            request, f"/admin/users/{username}/mfa",
            f"Reset the two-step login (MFA) of {username}? Their sessions end now; a biller "
            "or admin must set it up again at their next login.",
            "Reset MFA", {},
        )  # fmt: skip
    try:
        accounts.reset_mfa(site(request).engine, username, actor=actor(active))
    except AccountError as err:
        return admin_page(request, error=str(err), status_code=404)
    return RedirectResponse(f"/admin?done=mfa&user={quote(username)}", status_code=303)
