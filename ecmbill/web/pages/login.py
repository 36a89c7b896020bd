"""Logging in (password, then the MFA code for a user who has enrolled) and out, and the
start page each role lands on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ecmbill.web import accounts
from ecmbill.web.accounts import UserRole
from ecmbill.web.render import error_page, render
from ecmbill.web.security import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    client_address,
    current_session,
    form_user,
    login_csrf,
    login_csrf_ok,
    safe_next,
    set_cookie,
)
from ecmbill.web.site import site

log = logging.getLogger("ecmbill.web")
router = APIRouter()
HOME = {
    UserRole.STAFF: "/time",
    UserRole.SUPERVISOR: "/time",
    UserRole.BILLER: "/billing",
    UserRole.ADMIN: "/admin",
}


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    token = login_csrf(request)
    response = render(request, "login.html", login_csrf=token, next=safe_next(next))
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username") or "")
    password = str(form.get("password") or "")
    next_path = safe_next(str(form.get("next") or "/"))
    if not login_csrf_ok(request, str(form.get(CSRF_FIELD) or "")):
        return error_page(
            request,
            403,
            "Not allowed",
            "the form's security token is missing or out of date: reload the page",
        )
    address = client_address(request)
    result = await checked_login(
        request, accounts.log_in, site(request).engine, username, password, address
    )
    if result.account is None or result.token is None:
        # The username is not logged: it may be someone's password typed in the wrong box.
        log.warning(
            "failed login from %s%s", address, f" ({result.limit} limit)" * bool(result.limit)
        )
        message = (
            "Too many failed attempts: wait 15 minutes, then try again."
            if result.rate_limited
            else "Wrong username or password."
        )
        return render(
            request,
            "login.html",
            429 if result.rate_limited else 401,
            login_csrf=login_csrf(request),
            next=next_path,
            username=username,
            error=message,
        )
    if result.stage == accounts.CODE_STAGE:
        # The password was right: the code is asked next, under the same login form token.
        response = RedirectResponse(f"/login/code?next={quote(next_path, safe='/')}", 303)
        set_cookie(
            request, response, SESSION_COOKIE, result.token,
            max_age=int(accounts.CODE_WAIT.total_seconds()),
        )  # fmt: skip
        return response
    return logged_in(request, result.account, result.token, next_path)


def logged_in(
    request: Request, account: accounts.Account, token: str, next_path: str
) -> RedirectResponse:
    """To the page asked for, the role's start page, or first a pending step (a password to
    change, MFA to enrol in)."""
    target = accounts.pending_step(account) or (next_path if next_path != "/" else None)
    response = RedirectResponse(target or HOME[account.role], status_code=303)
    set_cookie(
        request,
        response,
        SESSION_COOKIE,
        token,
        max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.get("/login/code", response_class=HTMLResponse)
def code_page(request: Request, next: str = "/") -> Response:
    waiting = accounts.waiting_for_code(site(request).engine, request.cookies.get(SESSION_COOKIE))
    if waiting is None:
        return RedirectResponse("/login", status_code=303)
    return render(request, "login_code.html", login_csrf=login_csrf(request), next=safe_next(next))


@router.post("/login/code", response_class=HTMLResponse)
async def check_code(request: Request) -> Response:
    form = await request.form()
    code = str(form.get("code") or "")[:64]
    next_path = safe_next(str(form.get("next") or "/"))
    if not login_csrf_ok(request, str(form.get(CSRF_FIELD) or "")):
        return error_page(
            request,
            403,
            "Not allowed",
            "the form's security token is missing or out of date: reload the page",
        )
    address = client_address(request)
    token = request.cookies.get(SESSION_COOKIE)
    engine = site(request).engine
    result = await checked_login(request, accounts.check_code, engine, token, code, address)
    if result.account is not None and result.token is not None:
        return logged_in(request, result.account, result.token, next_path)
    log.warning(
        "failed login code from %s%s", address, f" ({result.limit} limit)" * bool(result.limit)
    )
    if result.rate_limited or accounts.waiting_for_code(engine, token) is None:
        # Too many failures, or the wait for the code is over: the password is asked again.
        message = (
            "Too many failed attempts: wait 15 minutes, then try again."
            if result.rate_limited
            else "The time to type the code is over: log in again."
        )
        response = render(
            request, "login.html", 429 if result.rate_limited else 401,
            login_csrf=login_csrf(request), next=next_path, error=message,
        )  # fmt: skip
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    return render(
        request, "login_code.html", 401, login_csrf=login_csrf(request), next=next_path,
        error=(
            "That code was used already: wait for the next one your app shows."
            if result.reused
            else "Wrong code: type the 6 digits your app shows now, or a recovery code."
        ),
    )  # fmt: skip


# Passwords checked at once (argon2 is slow and memory-hard on purpose): the rest wait on the
# event loop, not in the thread pool the pages need; beyond the queue, a login is refused at
# once.
HASHING_AT_ONCE = 2
QUEUE_LIMIT = 16


class LoginGate:
    """Made in the server's event loop on the first login (a semaphore belongs to its loop)."""

    def __init__(self) -> None:
        self.hashing = asyncio.Semaphore(HASHING_AT_ONCE)
        self.waiting = 0


async def checked_login(
    request: Request, check: Callable[..., accounts.LoginResult], *args: Any
) -> accounts.LoginResult:
    """A login step (``accounts.log_in``, ``accounts.check_code``) off the event loop, at
    most ``HASHING_AT_ONCE`` at a time, so failed logins never hold up the pages of everyone
    else."""
    gate: LoginGate | None = getattr(request.app.state, "login_gate", None)
    if gate is None:
        gate = request.app.state.login_gate = LoginGate()
    if gate.waiting >= QUEUE_LIMIT:
        return accounts.LoginResult(None, rate_limited=True, limit="overall")
    gate.waiting += 1
    try:
        async with gate.hashing:
            return await run_in_threadpool(check, *args)
    finally:
        gate.waiting -= 1


@router.post("/logout")
async def logout(request: Request) -> Response:
    await form_user(request, None)
    accounts.log_out(site(request).engine, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def index(request: Request) -> Response:
    active = current_session(request)
    if active is None:
        return RedirectResponse("/login", status_code=303)
    step = accounts.pending_step(active.account)
    return RedirectResponse(step or HOME[active.account.role], status_code=303)
