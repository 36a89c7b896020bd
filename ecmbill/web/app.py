"""The web app: one FastAPI app over one database, its pages (``ecmbill.web.pages``) and its
JSON API (``ecmbill.web.api``). Pages are server-rendered Jinja2 templates; htmx (vendored, in
``static/``) only fetches member suggestions. Every route checks the user's role itself."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from ecmbill.contract import Contract
from ecmbill.store.db import Engine
from ecmbill.web import api
from ecmbill.web.pages import (
    admin,
    billing,
    corrections,
    login,
    members,
    outreach,
    payer,
    remittances,
    time,
)
from ecmbill.web.render import HERE, error_page
from ecmbill.web.security import (
    ApiUnauthorized,
    Forbidden,
    LoginRequired,
    login_redirect,
    trusted_proxies,
)
from ecmbill.web.site import BadParameter, Site

log = logging.getLogger("ecmbill.web")

# Scripts only from this site (htmx); htmx's indicator uses inline styles.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
PAGES = (login, time, outreach, members, payer, billing, remittances, corrections, admin)


def create_app(
    engine: Engine,
    contract: Contract | None = None,
    *,
    today: Callable[[], date] = date.today,
    proxies: str | None = None,
) -> FastAPI:
    """The app over one database. ``contract`` overrides the stored contract (as
    ``--contract`` does for the CLI); ``today`` is the clock, fixed in tests; ``proxies`` the
    trusted proxies (else ``ECMBILL_TRUSTED_PROXIES``)."""
    app = FastAPI(
        title="ecmbill",
        description="Billing for Medi-Cal Enhanced Care Management: the JSON API.",
        # The interactive docs pages load their scripts from a CDN: only the document is served.
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.site = Site(engine, contract, today)
    app.state.trusted_proxies = trusted_proxies() if proxies is None else trusted_proxies(proxies)
    app.middleware("http")(_headers)
    app.exception_handler(LoginRequired)(_to_login)
    app.exception_handler(Forbidden)(_forbidden)
    app.exception_handler(ApiUnauthorized)(_api_unauthorized)
    app.exception_handler(BadParameter)(_bad_parameter)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(api.router)
    for page in PAGES:
        app.include_router(page.router)
    return app


async def _headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
    try:
        response: Response = await call_next(request)
    except Exception as err:
        # A bug must not answer without the headers below, nor show a trace: the log gets
        # the kind of error and the route, never the values (they may be PHI).
        log.error("unhandled %s on %s %s", type(err).__name__, request.method, _route(request))
        response = _server_error(request)
    # Pages hold PHI: not cached, not framed, their addresses (CINs) not sent elsewhere.
    cache = "max-age=3600" if request.url.path.startswith("/static/") else "no-store"
    response.headers.setdefault("Cache-Control", cache)
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = CSP
    return response


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", "?"))


def _server_error(request: Request) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": "something went wrong on the server"}, status_code=500)
    return error_page(
        request, 500, "Something went wrong", "the server could not answer: nothing was changed"
    )


async def _bad_parameter(request: Request, exc: BadParameter) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": str(exc)}, status_code=400)
    return error_page(request, 400, "Bad request", str(exc))


async def _to_login(request: Request, exc: LoginRequired) -> Response:
    return RedirectResponse(login_redirect(exc.next_path), status_code=303)


async def _forbidden(request: Request, exc: Forbidden) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": exc.reason}, status_code=403)
    return error_page(request, 403, "Not allowed", exc.reason)


async def _api_unauthorized(request: Request, exc: ApiUnauthorized) -> Response:
    return JSONResponse({"detail": "log in first"}, status_code=401)
