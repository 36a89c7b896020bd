"""The web app: one FastAPI app over one database, its pages (``ecmbill.web.pages``) and its
JSON API (``ecmbill.web.api``). Pages are server-rendered Jinja2 templates; htmx (vendored, in
``static/``) only fetches member suggestions. Every route checks the user's role itself."""

from __future__ import annotations

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
    remittances,
    time,
)
from ecmbill.web.render import HERE, error_page
from ecmbill.web.security import ApiUnauthorized, Forbidden, LoginRequired, login_redirect
from ecmbill.web.site import Site

# Scripts only from this site (htmx); pygal's SVG and htmx's indicator use inline styles.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
PAGES = (login, time, outreach, members, billing, remittances, corrections, admin)


def create_app(
    engine: Engine,
    contract: Contract | None = None,
    *,
    today: Callable[[], date] = date.today,
) -> FastAPI:
    """The app over one database. ``contract`` overrides the stored contract (as
    ``--contract`` does for the CLI); ``today`` is the clock, fixed in tests."""
    app = FastAPI(
        title="ecmbill",
        description="Billing for Medi-Cal Enhanced Care Management: the JSON API.",
        # The interactive docs pages load their scripts from a CDN: only the document is served.
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.site = Site(engine, contract, today)
    app.middleware("http")(_headers)
    app.exception_handler(LoginRequired)(_to_login)
    app.exception_handler(Forbidden)(_forbidden)
    app.exception_handler(ApiUnauthorized)(_api_unauthorized)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(api.router)
    for page in PAGES:
        app.include_router(page.router)
    return app


async def _headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
    response: Response = await call_next(request)
    # Pages hold PHI: not cached, not framed, their addresses (CINs) not sent elsewhere.
    cache = "max-age=3600" if request.url.path.startswith("/static/") else "no-store"
    response.headers.setdefault("Cache-Control", cache)
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = CSP
    return response


async def _to_login(request: Request, exc: LoginRequired) -> Response:
    return RedirectResponse(login_redirect(exc.next_path), status_code=303)


async def _forbidden(request: Request, exc: Forbidden) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": exc.reason}, status_code=403)
    return error_page(request, 403, "Not allowed", exc.reason)


async def _api_unauthorized(request: Request, exc: ApiUnauthorized) -> Response:
    return JSONResponse({"detail": "log in first"}, status_code=401)
