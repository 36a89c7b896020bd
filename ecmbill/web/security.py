"""Who is asking, and may they: the session cookie, role checks and CSRF tokens.

Every route calls ``page_user``/``api_user`` (GET) or ``form_user`` (POST) with the roles it
allows; nothing is checked in the browser only.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Iterable
from urllib.parse import quote

from fastapi import Request
from starlette.datastructures import FormData
from starlette.responses import Response

from ecmbill.web import accounts
from ecmbill.web.accounts import ActiveSession, UserRole
from ecmbill.web.site import site

SESSION_COOKIE = "ecmbill_session"
# Before login there is no session to bind a CSRF token to: the login form uses a
# double-submit cookie instead.
LOGIN_CSRF_COOKIE = "ecmbill_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

EVERYONE = frozenset(UserRole)
STAFF, SUPERVISOR, BILLER, ADMIN = (
    UserRole.STAFF,
    UserRole.SUPERVISOR,
    UserRole.BILLER,
    UserRole.ADMIN,
)

# Which roles may open which page (and its API). Admin manages accounts, not billing data.
ACCESS: dict[str, frozenset[UserRole]] = {
    "time": frozenset({STAFF, SUPERVISOR}),
    "team": frozenset({SUPERVISOR}),
    "outreach": frozenset({STAFF, SUPERVISOR}),
    "members": frozenset({STAFF, SUPERVISOR, BILLER}),
    "billing": frozenset({BILLER}),
    "remittances": frozenset({BILLER}),
    "audit": frozenset({SUPERVISOR, BILLER, ADMIN}),
    # Correcting reference data and deleting records in error, in any period.
    "corrections": frozenset({BILLER, ADMIN}),
    "admin": frozenset({ADMIN}),
    # Uploading the month's files (and the plan's MIF and 834); the provider and payer settings.
    "imports": frozenset({BILLER, ADMIN}),
    "settings": frozenset({ADMIN}),
    # One's own password and MFA.
    "account": EVERYONE,
}


class LoginRequired(Exception):
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class Forbidden(Exception):
    def __init__(self, reason: str = "your role may not open this page") -> None:
        self.reason = reason


class ApiUnauthorized(Exception):
    pass


class StepRequired(Exception):
    """A logged-in user who must first change their password or enrol in MFA: every page but
    that step (and logging out) sends them there."""

    def __init__(self, path: str) -> None:
        self.path = path


def _gate(active: ActiveSession, *, api: bool = False) -> None:
    step = accounts.pending_step(active.account)
    if step is None:
        return
    if api:
        raise Forbidden("finish logging in in the web app first (a new password or MFA)")
    raise StepRequired(step)


def current_session(request: Request) -> ActiveSession | None:
    """The request's session, ended when past its absolute or idle limit. The time is the
    app's ``state.clock`` when one is set (tests move it on), else the wall clock."""
    clock = getattr(request.app.state, "clock", None)
    return accounts.session_for(
        site(request).engine, request.cookies.get(SESSION_COOKIE), now=clock() if clock else None
    )


def _check(active: ActiveSession, roles: Iterable[UserRole]) -> ActiveSession:
    if active.account.role not in frozenset(roles):
        raise Forbidden()
    return active


def page_user(request: Request, area: str) -> ActiveSession:
    active = current_session(request)
    if active is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    request.state.active = active
    _gate(active)
    return _check(active, ACCESS[area])


def account_user(request: Request) -> ActiveSession:
    """The logged-in user on their own account pages, which open before any pending step
    (they are where a pending step is done)."""
    active = current_session(request)
    if active is None:
        raise LoginRequired(request.url.path)
    request.state.active = active
    return active


def api_user(request: Request, area: str) -> ActiveSession:
    active = current_session(request)
    if active is None:
        raise ApiUnauthorized()
    request.state.active = active
    _gate(active, api=True)
    return _check(active, ACCESS[area])


async def form_user(
    request: Request, area: str | None, *, api: bool = False
) -> tuple[ActiveSession, FormData]:
    """A POST from a logged-in user whose role may act in ``area`` (None: any role, and no
    pending step is asked for: logging out and one's own account), carrying the session's
    CSRF token in the form or the ``X-CSRF-Token`` header."""
    active = current_session(request)
    if active is None:
        if api:
            raise ApiUnauthorized()
        raise LoginRequired(request.url.path)
    request.state.active = active
    form = await request.form()
    sent = request.headers.get(CSRF_HEADER) or str(form.get(CSRF_FIELD) or "")
    if not (sent and secrets.compare_digest(sent, active.csrf_token)):
        raise Forbidden("the form's security token is missing or out of date: reload the page")
    if area is not None:
        _gate(active, api=api)
        _check(active, ACCESS[area])
    return active, form


def actor(active: ActiveSession) -> str:
    """Who made a change, as the audit trail records it."""
    return f"web:{active.account.username}"


# Proxies whose X-Forwarded-For is believed: addresses or networks, comma-separated.
TRUSTED_PROXIES_ENV = "ECMBILL_TRUSTED_PROXIES"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_proxies(text: str | None = None) -> tuple[Network, ...]:
    text = os.environ.get(TRUSTED_PROXIES_ENV, "") if text is None else text
    return tuple(ipaddress.ip_network(part.strip()) for part in text.split(",") if part.strip())


def _trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(request: Request) -> str:
    """Who is asking, for the login limits and the access log: the connection's peer, unless
    the peer is a configured trusted proxy (``ECMBILL_TRUSTED_PROXIES``); then the nearest
    address in X-Forwarded-For that is not a trusted proxy. From any other peer the header
    is ignored: a client choosing its own address would escape the limits."""
    peer = request.client.host if request.client else "unknown"
    proxies: tuple[Network, ...] = request.app.state.trusted_proxies
    if not _trusted(peer, proxies):
        return peer
    forwarded = [
        part.strip() for part in request.headers.get("x-forwarded-for", "").split(",") if part
    ]
    for address in reversed(forwarded):
        if not _trusted(address, proxies):
            return address[:64]
    return peer


def login_csrf(request: Request) -> str:
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)


def login_csrf_ok(request: Request, sent: str) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    return bool(cookie and sent and secrets.compare_digest(cookie, sent))


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def login_redirect(next_path: str) -> str:
    return f"/login?next={quote(next_path, safe='/')}"


def safe_next(next_path: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    if next_path and next_path.startswith("/") and not next_path.startswith("//"):
        return next_path
    return "/"
