"""The web app: a thin shell over ``ecmbill.services``, ``ecmbill.fieldwork`` and
``ecmbill.web.accounts``. Pages are server-rendered Jinja2 templates; htmx (vendored, in
``static/``) only fetches member suggestions. Every route checks the user's role itself."""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Callable
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ecmbill import fieldwork, installed_version, services
from ecmbill.claims import service as claims_service
from ecmbill.claims.settings import SettingsError
from ecmbill.contract import Contract
from ecmbill.domain.honesty import honesty_report
from ecmbill.domain.period import Period
from ecmbill.domain.vocabulary import Modality, OutreachMethod, OutreachOutcome
from ecmbill.exchange.identity import provider_identity
from ecmbill.exchange.otf import write_otf
from ecmbill.exchange.rtf import write_rtf
from ecmbill.imports.kinds import RowReject
from ecmbill.remit import service as remit_service
from ecmbill.remit.model import AGEING_BUCKETS, Status
from ecmbill.remit.reader import RemitFileError
from ecmbill.store import audit, models
from ecmbill.store.db import unit_of_work
from ecmbill.store.files import OutputProblem
from ecmbill.web import accounts, api
from ecmbill.web.accounts import AccountError, ActiveSession, UserRole
from ecmbill.web.chart import honesty_chart
from ecmbill.web.security import (
    ACCESS,
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    ApiUnauthorized,
    Forbidden,
    LoginRequired,
    form_user,
    login_csrf,
    login_csrf_ok,
    login_redirect,
    page_user,
    safe_next,
    set_cookie,
)

log = logging.getLogger("ecmbill.web")
HERE = Path(str(resources.files("ecmbill.web")))
# Scripts only from this site (htmx); pygal's SVG and htmx's indicator use inline styles.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Claim files a biller downloads: (what the file name says, extension, media type).
CLAIM_FILES = {
    "837p": ("837p", "txt", "application/edi-x12"),
    "csv": ("invoice", "csv", "text/csv; charset=utf-8"),
    "xlsx": ("invoice", "xlsx", XLSX),
}
EXCHANGE_FILES = {"otf": "Outreach Tracker File", "rtf": "Return Transmission File"}
# An 835 for one provider's month is a few hundred kilobytes; refuse anything far larger.
MAX_835_BYTES = 20 * 1024 * 1024
NAV = (
    ("time", "/time", "My time"),
    ("outreach", "/outreach", "Outreach"),
    ("members", "/members", "Members"),
    ("billing", "/billing", "Billing"),
    ("remittances", "/remittances", "Remittances"),
    ("audit", "/audit", "Audit"),
    ("admin", "/admin", "Admin"),
)


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
    app.state.engine = engine

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
        response: Response = await call_next(request)
        # Pages hold PHI: not cached, not framed, their addresses (CINs) not sent elsewhere.
        cache = "max-age=3600" if request.url.path.startswith("/static/") else "no-store"
        response.headers.setdefault("Cache-Control", cache)
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = CSP
        return response

    app.state.contract_override = contract
    app.state.today = today
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["version"] = installed_version()
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(api.router)

    def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        active: ActiveSession | None = getattr(request.state, "active", None)
        nav = []
        if active is not None:
            nav = [
                (href, label) for area, href, label in NAV if active.account.role in ACCESS[area]
            ]
        return templates.TemplateResponse(
            request,
            name,
            {"active": active, "nav": nav, "csrf_field": CSRF_FIELD, **context},
            status_code=status_code,
        )

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(login_redirect(exc.next_path), status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.reason}, status_code=403)
        return render(request, "error.html", 403, title="Not allowed", message=exc.reason)

    @app.exception_handler(ApiUnauthorized)
    async def _api_unauthorized(request: Request, exc: ApiUnauthorized) -> Response:
        return JSONResponse({"detail": "log in first"}, status_code=401)

    # --- logging in and out ----------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/") -> Response:
        token = login_csrf(request)
        response = render(request, "login.html", login_csrf=token, next=safe_next(next))
        set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
        return response

    @app.post("/login", response_class=HTMLResponse)
    async def login(request: Request) -> Response:
        form = await request.form()
        username = str(form.get("username") or "")
        password = str(form.get("password") or "")
        next_path = safe_next(str(form.get("next") or "/"))
        if not login_csrf_ok(request, str(form.get(CSRF_FIELD) or "")):
            return render(
                request,
                "error.html",
                403,
                title="Not allowed",
                message="the form's security token is missing or out of date: reload the page",
            )
        address = request.client.host if request.client else "unknown"
        result = accounts.log_in(engine, username, password, address)
        if result.account is None or result.token is None:
            # The username is not logged: it may be someone's password typed in the wrong box.
            log.info("failed login from %s", address)
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
        response = RedirectResponse(
            next_path if next_path != "/" else home(result.account.role), status_code=303
        )
        set_cookie(
            request,
            response,
            SESSION_COOKIE,
            result.token,
            max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
        return response

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        await form_user(request, None)
        accounts.log_out(engine, request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/")
    def index(request: Request) -> Response:
        active = accounts.session_for(engine, request.cookies.get(SESSION_COOKIE))
        if active is None:
            return RedirectResponse("/login", status_code=303)
        return RedirectResponse(home(active.account.role), status_code=303)

    # --- my time ---------------------------------------------------------------------------

    def time_page(
        request: Request,
        active: ActiveSession,
        *,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
        saved: str | None = None,
    ) -> HTMLResponse:
        day = app.state.today()
        week_start = day - timedelta(days=day.weekday())
        account = active.account
        mine = frozenset({account.staff_id}) if account.staff_id else frozenset()
        entries = fieldwork.time_entries(engine, staff_ids=mine, start=week_start, end=day)
        team: list[models.TimeEntry] = []
        if account.role is UserRole.SUPERVISOR:
            team_ids = accounts.team_staff_ids(engine, account.team) - mine
            # Last month and this one: the months a supervisor still reviews before billing.
            team_start = month_before(Period.of(day)).start
            team = fieldwork.time_entries(engine, staff_ids=team_ids, start=team_start, end=day)
        return render(
            request,
            "time.html",
            status_code,
            contract=contract_now(),
            values=values or {"date": day.isoformat(), "modality": Modality.IN_PERSON.value},
            errors=errors or {},
            today_entries=[e for e in entries if e.date == day],
            week_entries=[e for e in entries if e.date != day],
            team_entries=team,
            team_start=month_before(Period.of(day)).start,
            approved=fieldwork.approved(engine, team),
            names=member_names({e.member_id for e in [*entries, *team]}),
            saved=saved,
            editing=None,
        )

    @app.get("/time", response_class=HTMLResponse)
    def my_time(request: Request, saved: str | None = None) -> Response:
        active = page_user(request, "time")
        return time_page(request, active, saved=saved)

    async def record_from_form(
        request: Request,
        page: str,
        record: Callable[..., dict[str, Any]],
        render: Callable[..., Response],
        done: Callable[[dict[str, Any]], str],
    ) -> Response:
        """Time and outreach forms alike: the import's checks decide, a refused value is shown
        next to its field with what the user typed, a saved one redirects."""
        active, form = await form_user(request, page)
        values = form_values(form)
        if not active.account.staff_id:
            raise Forbidden("your account is not linked to a staff member: ask an admin")
        try:
            saved = record(
                engine,
                contract_now(),
                values,
                actor=actor(active),
                staff_id=active.account.staff_id,
                today=app.state.today(),
            )
        except RowReject as reject:
            return render(
                request,
                active,
                values=values,
                errors={field_of(reject): reject.reason},
                status_code=422,
            )
        return RedirectResponse(done(saved), status_code=303)

    @app.post("/time", response_class=HTMLResponse)
    async def record_time(request: Request) -> Response:
        return await record_from_form(
            request,
            "time",
            fieldwork.record_time,
            time_page,
            lambda saved: f"/time?saved={saved['entry_id']}",
        )

    def own_entry(active: ActiveSession, entry_id: str) -> models.TimeEntry:
        entry = fieldwork.time_entry(engine, entry_id)
        if entry is None:
            raise Forbidden("no such time entry")
        if entry.staff_id != active.account.staff_id:
            raise Forbidden("this is another staff member's entry")
        return entry

    @app.get("/time/{entry_id}", response_class=HTMLResponse)
    def show_entry(request: Request, entry_id: str) -> Response:
        active = page_user(request, "time")
        entry = fieldwork.time_entry(engine, entry_id)
        team = accounts.team_staff_ids(engine, active.account.team)
        if (
            entry is not None
            and entry.staff_id != active.account.staff_id
            and active.account.role is UserRole.SUPERVISOR
            and entry.staff_id in team
        ):
            return render(
                request,
                "entry.html",
                entry=entry,
                names=member_names({entry.member_id}),
                contract=contract_now(),
                approved=entry.entry_id in fieldwork.approved(engine, [entry]),
            )
        entry = own_entry(active, entry_id)
        return edit_page(request, entry, entry_values(entry), {})

    def edit_page(
        request: Request,
        entry: models.TimeEntry,
        values: dict[str, str],
        errors: dict[str, str],
        status_code: int = 200,
    ) -> HTMLResponse:
        return render(
            request,
            "time_edit.html",
            status_code,
            contract=contract_now(),
            values=values,
            errors=errors,
            editing=entry,
            open=fieldwork.period_is_open(engine, Period.of(entry.date)),
            closed_message=fieldwork.closed_message(Period.of(entry.date)),
        )

    @app.post("/time/{entry_id}", response_class=HTMLResponse)
    async def correct_entry(request: Request, entry_id: str) -> Response:
        active, form = await form_user(request, "time")
        entry = own_entry(active, entry_id)
        values = form_values(form)
        try:
            fieldwork.record_time(
                engine,
                contract_now(),
                values,
                actor=actor(active),
                staff_id=entry.staff_id,
                entry_id=entry_id,
                today=app.state.today(),
            )
        except RowReject as reject:
            return edit_page(request, entry, values, {field_of(reject): reject.reason}, 422)
        return RedirectResponse(f"/time?saved={entry_id}", status_code=303)

    @app.post("/time/{entry_id}/approve")
    async def approve_entry(request: Request, entry_id: str) -> Response:
        active, _ = await form_user(request, "time")
        account = active.account
        if account.role is not UserRole.SUPERVISOR:
            raise Forbidden("only a supervisor approves time")
        entry = fieldwork.time_entry(engine, entry_id)
        if entry is None or entry.staff_id not in accounts.team_staff_ids(engine, account.team):
            raise Forbidden("this entry is not of your team")
        if entry.staff_id == account.staff_id:
            raise Forbidden("a supervisor does not approve their own time")
        fieldwork.approve_time(engine, entry_id, actor=actor(active))
        return RedirectResponse(f"/time/{entry_id}", status_code=303)

    @app.post("/time/{entry_id}/delete")
    async def delete_entry(request: Request, entry_id: str) -> Response:
        active, _ = await form_user(request, "time")
        entry = own_entry(active, entry_id)
        try:
            fieldwork.delete_time(engine, entry_id, actor=actor(active), staff_id=entry.staff_id)
        except RowReject as reject:
            return edit_page(request, entry, entry_values(entry), {"date": reject.reason}, 409)
        return RedirectResponse("/time", status_code=303)

    # --- outreach --------------------------------------------------------------------------

    def outreach_page(
        request: Request,
        active: ActiveSession,
        *,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
        member_id: str | None = None,
        saved: bool = False,
    ) -> HTMLResponse:
        account = active.account
        scope = (
            accounts.team_staff_ids(engine, account.team) | {account.staff_id or ""}
            if account.role is UserRole.SUPERVISOR
            else frozenset({account.staff_id or ""})
        )
        attempts = fieldwork.outreach_attempts(engine, staff_ids=frozenset(scope))
        check = None
        if member_id:
            check = services.check_unable_to_reach(engine, member_id, contract_now())
        return render(
            request,
            "outreach.html",
            status_code,
            values=values or {"date": app.state.today().isoformat(), "individualized": "true"},
            errors=errors or {},
            attempts=attempts,
            names=member_names({a.member_id for a in attempts} | {member_id or ""}),
            methods=list(OutreachMethod),
            outcomes=list(OutreachOutcome),
            check=check,
            member_id=member_id,
            saved=saved,
        )

    @app.get("/outreach", response_class=HTMLResponse)
    def outreach(request: Request, member: str | None = None, saved: bool = False) -> Response:
        active = page_user(request, "outreach")
        member_id = None
        if member:
            try:
                member_id = fieldwork.resolve_member(engine, member)
            except RowReject:
                member_id = None
        return outreach_page(request, active, member_id=member_id, saved=saved)

    @app.post("/outreach", response_class=HTMLResponse)
    async def record_outreach(request: Request) -> Response:
        return await record_from_form(
            request,
            "outreach",
            fieldwork.record_outreach,
            outreach_page,
            lambda saved: f"/outreach?member={saved['member_id']}&saved=true",
        )

    # --- members ---------------------------------------------------------------------------

    @app.get("/members", response_class=HTMLResponse)
    def members(request: Request, q: str = "") -> Response:
        page_user(request, "members")
        return render(request, "members.html", q=q, found=fieldwork.search_members(engine, q, 50))

    @app.get("/members/search", response_class=HTMLResponse)
    def member_options(request: Request, member_id: str = "") -> Response:
        """Suggestions for the member field, as <option>s for its datalist (htmx)."""
        page_user(request, "members")
        return render(
            request, "member_options.html", found=fieldwork.search_members(engine, member_id)
        )

    @app.get("/members/{member_id}", response_class=HTMLResponse)
    def member(request: Request, member_id: str, period: str | None = None) -> Response:
        page_user(request, "members")
        month = parse_period_or_today(period)
        rating = services.rate(engine, month, contract_now())
        found = fieldwork.member_month(
            engine, member_id.upper(), month, rating.lines_for(member_id.upper())
        )
        if found is None:
            return render(request, "error.html", 404, title="Not found", message="no such member")
        return render(
            request,
            "member.html",
            month=found,
            contract=contract_now(),
            staff_names=staff_names(),
            not_billed=[n for n in rating.not_billed if n.member_id == member_id.upper()],
            previous=month_before(month),
            following=month.next(),
        )

    # --- billing ---------------------------------------------------------------------------

    def billing_page(
        request: Request,
        month: Period,
        *,
        status_code: int = 200,
        closed: claims_service.CloseResult | None = None,
        problem: str | None = None,
        problem_items: list[str] | None = None,
    ) -> HTMLResponse:
        rating = services.rate(engine, month, contract_now())
        report = honesty_report(rating.period, rating.lines, rating.not_billed)
        claims = claims_service.list_claims(engine, month)
        return render(
            request,
            "billing.html",
            status_code,
            period=month,
            month_name=f"{month.start:%B %Y}",
            rating=rating,
            report=report,
            units=sum(line.units for line in rating.lines),
            names=member_names(
                {line.member_id for line in rating.lines} | {c.member_id for c in claims}
            ),
            previous=month_before(month),
            following=month.next(),
            claims=claims,
            waiting={fmt: sum(fmt not in c.exported for c in claims) for fmt in CLAIM_FILES},
            first_close=claims_service.first_close(engine, month),
            unclaimed=claims_service.unclaimed_changes(engine, month),
            closable=month.end < app.state.today(),
            settings_problems=claims_service.settings_problems(engine),
            identity_missing=provider_identity(engine).missing(),
            closed=closed,
            problem=problem,
            problem_items=problem_items or [],
        )

    @app.get("/billing", response_class=HTMLResponse)
    def billing(request: Request, period: str | None = None) -> Response:
        page_user(request, "billing")
        return billing_page(request, parse_period_or_today(period, previous=True))

    @app.post("/billing/close", response_class=HTMLResponse)
    async def close_period(request: Request) -> Response:
        active, form = await form_user(request, "billing")
        month = form_period(form)
        if month is None:
            return billing_page(
                request,
                parse_period_or_today(None, previous=True),
                status_code=422,
                problem="choose the period to close (YYYY-MM)",
            )
        try:
            result = await run_in_threadpool(
                claims_service.close_period,
                engine,
                month,
                contract_now(),
                actor=actor(active),
                today=app.state.today(),
            )
        except claims_service.PeriodNotOver as err:
            return billing_page(request, month, status_code=422, problem=str(err))
        except SettingsError as err:
            return billing_page(
                request,
                month,
                status_code=422,
                problem=f"{month} was not closed: an admin must fix these settings first "
                "(`ecmbill settings show`)",
                problem_items=err.problems,
            )
        return billing_page(request, month, closed=result)

    @app.post("/billing/export/{fmt}", response_class=HTMLResponse)
    async def export_claims(request: Request, fmt: str) -> Response:
        """The period's claims not yet written in this format, as a download. Like
        ``ecmbill claims export`` it records them as exported: a second download holds only
        claims made since (replacements, voids), or is refused when there are none."""
        active, form = await form_user(request, "billing")
        if fmt not in CLAIM_FILES:
            return render(request, "error.html", 404, title="Not found", message="no such download")
        month = form_period(form)
        if month is None:
            return billing_page(
                request,
                parse_period_or_today(None, previous=True),
                status_code=422,
                problem="choose the period to download (YYYY-MM)",
            )
        kind, extension, media_type = CLAIM_FILES[fmt]
        moment = audit.now()
        name = download_name(month, kind, extension, moment)
        with tempfile.TemporaryDirectory(prefix="ecmbill-") as folder:
            target = Path(folder) / name
            try:
                await run_in_threadpool(
                    claims_service.export_claims,
                    engine,
                    month,
                    fmt,
                    target,
                    actor=actor(active),
                    now=moment,
                )
            except claims_service.NothingToExport as err:
                return billing_page(request, month, status_code=409, problem=str(err))
            except SettingsError as err:
                return billing_page(
                    request,
                    month,
                    status_code=422,
                    problem="nothing was written: an admin must fix these settings first",
                    problem_items=err.problems,
                )
            content = target.read_bytes()
        return attachment(content, name, media_type)

    @app.get("/billing/files/{kind}", response_class=HTMLResponse)
    def exchange_file(request: Request, kind: str, period: str | None = None) -> Response:
        """The plan's Outreach Tracker or Return Transmission File for the period (XLSX).
        Reading only: nothing is recorded, as with ``ecmbill exchange otf|rtf``."""
        page_user(request, "billing")
        if kind not in EXCHANGE_FILES:
            return render(request, "error.html", 404, title="Not found", message="no such page")
        month = parse_period_or_today(period, previous=True)
        name = download_name(month, kind, "xlsx", audit.now())
        with tempfile.TemporaryDirectory(prefix="ecmbill-") as folder:
            target = Path(folder) / name
            try:
                if kind == "otf":
                    written = write_otf(engine, month, target)
                else:
                    written = write_rtf(
                        engine, month, contract_now(), target, produced_on=app.state.today()
                    )
            except (OutputProblem, ValueError) as err:
                return billing_page(request, month, status_code=422, problem=str(err))
            if written.rows == 0:
                what = (
                    "no outreach attempt to report"
                    if kind == "otf"
                    else "no member assigned by the plan (import its Member Information File)"
                )
                return billing_page(
                    request,
                    month,
                    status_code=409,
                    problem=f"the {EXCHANGE_FILES[kind]} for {month} would be empty: {what}",
                )
            content = target.read_bytes()
        return attachment(content, name, XLSX)

    @app.get("/billing/chart.svg")
    def billing_chart(request: Request, period: str | None = None) -> Response:
        """The honesty chart as an SVG image. Shown through <img>, so the few lines of
        configuration script pygal always writes into the SVG never run."""
        page_user(request, "billing")
        month = parse_period_or_today(period, previous=True)
        report = services.honesty(engine, month, contract_now())
        return Response(
            honesty_chart(report),
            media_type="image/svg+xml",
            headers={"Cache-Control": "no-store"},
        )

    def remittances_page(
        request: Request,
        period: str | None,
        *,
        status_code: int = 200,
        outcome: remit_service.ImportOutcome | None = None,
        problem: str | None = None,
        problem_items: list[str] | None = None,
    ) -> HTMLResponse:
        month = None
        if period:
            try:
                month = Period.parse(period)
            except ValueError:
                month = None
        result = remit_service.reconcile(engine, month, app.state.today())
        return render(
            request,
            "remittances.html",
            status_code,
            period=month,
            result=result,
            statuses=list(Status),
            buckets=AGEING_BUCKETS,
            names=member_names({claim.member_id for claim in result.claims}),
            outcome=outcome,
            problem=problem,
            problem_items=problem_items or [],
        )

    @app.get("/remittances", response_class=HTMLResponse)
    def remittances(request: Request, period: str | None = None) -> Response:
        page_user(request, "remittances")
        return remittances_page(request, period)

    @app.post("/remittances", response_class=HTMLResponse)
    async def upload_835(request: Request) -> Response:
        """Import an uploaded 835 as ``ecmbill remit import`` does: all of it or nothing, the
        same 835 twice changes nothing, a bad file is refused with segment and reason."""
        active, form = await form_user(request, "remittances")
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return remittances_page(
                request, None, status_code=422, problem="choose an 835 file to upload"
            )
        content = await upload.read(MAX_835_BYTES + 1)
        if len(content) > MAX_835_BYTES:
            return remittances_page(
                request, None, status_code=413, problem="the file is too large for an 835"
            )
        if not content.strip():
            return remittances_page(request, None, status_code=422, problem="the file is empty")
        name = safe_file_name(upload.filename)
        with tempfile.TemporaryDirectory(prefix="ecmbill-") as folder:
            path = Path(folder) / name
            path.write_bytes(content)
            try:
                outcome = await run_in_threadpool(
                    remit_service.import_835, engine, path, actor=actor(active)
                )
            except RemitFileError as err:
                return remittances_page(
                    request,
                    None,
                    status_code=422,
                    problem=f"{name} was not imported; nothing was posted",
                    problem_items=err.problems,
                )
        return remittances_page(request, None, outcome=outcome)

    # --- audit -----------------------------------------------------------------------------

    @app.get("/audit", response_class=HTMLResponse)
    def audit_log(request: Request, entity: str = "", page: int = 1) -> Response:
        page_user(request, "audit")
        size = 100
        query = select(models.AuditRecord).order_by(models.AuditRecord.id.desc())
        if entity:
            query = query.where(models.AuditRecord.entity == entity)
        with unit_of_work(engine) as session:
            rows = list(session.scalars(query.offset((max(page, 1) - 1) * size).limit(size + 1)))
        return render(
            request,
            "audit.html",
            rows=rows[:size],
            more=len(rows) > size,
            page=max(page, 1),
            entity=entity,
        )

    # --- admin -----------------------------------------------------------------------------

    def admin_page(
        request: Request,
        *,
        values: dict[str, str] | None = None,
        error: str | None = None,
        status_code: int = 200,
        added: str | None = None,
    ) -> HTMLResponse:
        with unit_of_work(engine) as session:
            staff = list(session.scalars(select(models.Staff).order_by(models.Staff.staff_id)))
        return render(
            request,
            "admin.html",
            status_code,
            users=accounts.list_users(engine),
            staff=staff,
            roles=list(UserRole),
            values=values or {},
            error=error,
            added=added,
            contract=contract_now(),
        )

    @app.get("/admin", response_class=HTMLResponse)
    def admin(request: Request, added: str | None = None) -> Response:
        page_user(request, "admin")
        return admin_page(request, added=added)

    @app.post("/admin/users", response_class=HTMLResponse)
    async def add_user(request: Request) -> Response:
        active, form = await form_user(request, "admin")
        values = form_values(form)
        password = values.pop("password", "")
        try:
            role = UserRole(values.get("role", ""))
            account = accounts.add_user(
                engine,
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

    @app.post("/admin/users/{username}/active", response_class=HTMLResponse)
    async def set_user_active(request: Request, username: str) -> Response:
        active, form = await form_user(request, "admin")
        wanted = str(form.get("active") or "") == "true"
        if username == active.account.username and not wanted:
            return admin_page(request, error="you cannot deactivate yourself", status_code=422)
        try:
            accounts.set_active(engine, username, wanted, actor=actor(active))
        except AccountError as err:
            return admin_page(request, error=str(err), status_code=404)
        return RedirectResponse("/admin", status_code=303)

    # --- helpers ---------------------------------------------------------------------------

    def contract_now() -> Contract:
        return app.state.contract_override or services.current_contract(engine)

    def member_names(member_ids: set[str]) -> dict[str, str]:
        member_ids = {m for m in member_ids if m}
        if not member_ids:
            return {}
        with unit_of_work(engine) as session:
            return {
                m.member_id: f"{m.last_name}, {m.first_name}"
                for m in session.scalars(
                    select(models.Member).where(models.Member.member_id.in_(member_ids))
                )
            }

    def staff_names() -> dict[str, str]:
        with unit_of_work(engine) as session:
            return {s.staff_id: s.name for s in session.scalars(select(models.Staff))}

    def parse_period_or_today(text: str | None, *, previous: bool = False) -> Period:
        if text:
            try:
                return Period.parse(text)
            except ValueError:
                pass
        current = Period.of(app.state.today())
        return month_before(current) if previous else current

    app.state.contract_now = contract_now
    app.state.member_names = member_names
    return app


def home(role: UserRole) -> str:
    return {
        UserRole.STAFF: "/time",
        UserRole.SUPERVISOR: "/time",
        UserRole.BILLER: "/billing",
        UserRole.ADMIN: "/admin",
    }[role]


def actor(active: ActiveSession) -> str:
    return f"web:{active.account.username}"


def form_values(form: Any) -> dict[str, str]:
    return {
        key: str(value)
        for key, value in form.items()
        if key != CSRF_FIELD and isinstance(value, str)
    }


def field_of(reject: RowReject) -> str:
    return reject.column or "form"


def entry_values(entry: models.TimeEntry) -> dict[str, str]:
    return {
        "member_id": entry.member_id,
        "date": entry.date.isoformat(),
        "minutes": "" if entry.start_time else str(entry.minutes),
        "start_time": entry.start_time or "",
        "end_time": entry.end_time or "",
        "activity": entry.activity,
        "modality": entry.modality,
        "note": entry.note or "",
    }


def form_period(form: Any) -> Period | None:
    try:
        return Period.parse(str(form.get("period") or ""))
    except ValueError:
        return None


def download_name(period: Period, kind: str, extension: str, moment: datetime) -> str:
    """Built only from a parsed period and our own words: safe in a header and on disk."""
    return f"ecmbill-{period}-{kind}-{moment:%Y%m%dT%H%M%S}.{extension}"


def safe_file_name(uploaded: str) -> str:
    """The uploaded file's own name, without folders or unusual characters (it is recorded
    with the remittance and used as a file name on our disk)."""
    base = re.sub(r"[^A-Za-z0-9._-]", "_", uploaded.replace("\\", "/").rsplit("/", 1)[-1])
    return base.lstrip(".")[:80] or "upload.835"


def attachment(content: bytes, name: str, media_type: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def month_before(period: Period) -> Period:
    return Period.of(period.start - timedelta(days=1))
