"""Billing: a period's projected claims and honesty report, closing the period, and the files
a biller downloads (claims, the plan's tracker files)."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from ecmbill.claims import close as claim_close
from ecmbill.claims import export as claim_export
from ecmbill.claims.settings import SettingsError, settings_problems
from ecmbill.claims.views import list_claims, rejected_claims
from ecmbill.domain.honesty import honesty_report
from ecmbill.domain.period import Period
from ecmbill.exchange.identity import provider_identity
from ecmbill.exchange.otf import write_otf
from ecmbill.exchange.rtf import write_rtf
from ecmbill.rating.service import honesty, rate
from ecmbill.store.files import OutputProblem
from ecmbill.store.lookups import member_names
from ecmbill.web import accounts
from ecmbill.web.chart import honesty_chart
from ecmbill.web.forms import form_period
from ecmbill.web.render import XLSX, attachment, download_name, not_found, render
from ecmbill.web.security import actor, form_user, page_user
from ecmbill.web.site import month_before, site

router = APIRouter()
# Claim files a biller downloads: (what the file name says, extension, media type).
CLAIM_FILES = {
    "837p": ("837p", "txt", "application/edi-x12"),
    "csv": ("invoice", "csv", "text/csv; charset=utf-8"),
    "xlsx": ("invoice", "xlsx", XLSX),
}
EXCHANGE_FILES = {"otf": "Outreach Tracker File", "rtf": "Return Transmission File"}


def billing_page(
    request: Request,
    month: Period,
    *,
    status_code: int = 200,
    closed: claim_close.CloseResult | None = None,
    problem: str | None = None,
    problem_items: list[str] | None = None,
    answer: object | None = None,
) -> HTMLResponse:
    here = site(request)
    rating = rate(here.engine, month, here.contract())
    report = honesty_report(rating.period, rating.lines, rating.not_billed)
    claims = list_claims(here.engine, month)
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
            here.engine, {line.member_id for line in rating.lines} | {c.member_id for c in claims}
        ),
        previous=month_before(month),
        following=month.next(),
        claims=claims,
        waiting={fmt: sum(fmt not in c.exported for c in claims) for fmt in CLAIM_FILES},
        first_close=claim_close.first_close(here.engine, month),
        unclaimed=claim_close.unclaimed_changes(here.engine, month),
        closable=month.end < here.today(),
        settings_problems=settings_problems(here.engine),
        identity_missing=provider_identity(here.engine).missing(),
        closed=closed,
        problem=problem,
        problem_items=problem_items or [],
        answer=answer,
        rejected=rejected_claims(here.engine, month),
    )


def no_period_chosen(request: Request, what: str) -> HTMLResponse:
    month = site(request).period_or_current(None, previous=True)
    return billing_page(request, month, status_code=422, problem=f"choose the period to {what}")


FIX_SETTINGS = "an admin must fix these settings first"


def unfit_settings(
    request: Request, month: Period, problem: str, err: SettingsError
) -> HTMLResponse:
    """The settings a claim needs are missing or wrong: nothing was done, each is listed."""
    return billing_page(
        request, month, status_code=422, problem=problem, problem_items=err.problems
    )


@router.get("/billing", response_class=HTMLResponse)
def billing(request: Request, period: str | None = None) -> Response:
    page_user(request, "billing")
    return billing_page(request, site(request).period_or_current(period, previous=True))


@router.post("/billing/close", response_class=HTMLResponse)
async def close_period(request: Request) -> Response:
    active, form = await form_user(request, "billing")
    month = form_period(form)
    if month is None:
        return no_period_chosen(request, "close (YYYY-MM)")
    here = site(request)
    try:
        result = await run_in_threadpool(
            claim_close.close_period,
            here.engine,
            month,
            here.contract(),
            actor=actor(active),
            today=here.today(),
        )
    except claim_close.PeriodNotOver as err:
        return billing_page(request, month, status_code=422, problem=str(err))
    except SettingsError as err:
        problem = f"{month} was not closed: {FIX_SETTINGS} (`ecmbill settings show`)"
        return unfit_settings(request, month, problem, err)
    return billing_page(request, month, closed=result)


@router.post("/billing/export/{fmt}", response_class=HTMLResponse)
async def export_claims(request: Request, fmt: str) -> Response:
    """The period's claims not yet written in this format, as a download. Like
    ``ecmbill claims export`` it records them as exported: a second download holds only
    claims made since (replacements, voids), or is refused when there are none."""
    active, form = await form_user(request, "billing")
    if fmt not in CLAIM_FILES:
        return not_found(request, "no such download")
    month = form_period(form)
    if month is None:
        return no_period_chosen(request, "download (YYYY-MM)")
    kind, extension, media_type = CLAIM_FILES[fmt]
    moment = datetime.now(UTC)
    name = download_name(month, kind, extension, moment)
    with tempfile.TemporaryDirectory(prefix="ecmbill-") as folder:
        target = Path(folder) / name
        try:
            await run_in_threadpool(
                claim_export.export_claims,
                site(request).engine,
                month,
                fmt,
                target,
                actor=actor(active),
                now=moment,
            )
        except claim_export.NothingToExport as err:
            return billing_page(request, month, status_code=409, problem=str(err))
        except SettingsError as err:
            return unfit_settings(request, month, f"nothing was written: {FIX_SETTINGS}", err)
        content = target.read_bytes()
    accounts.log_access(site(request).engine, active.account, "download", file=name)
    return attachment(content, name, media_type)


@router.get("/billing/files/{kind}", response_class=HTMLResponse)
def exchange_file(request: Request, kind: str, period: str | None = None) -> Response:
    """The plan's Outreach Tracker or Return Transmission File for the period (XLSX).
    Reading only: nothing is recorded, as with ``ecmbill exchange otf|rtf``."""
    active = page_user(request, "billing")
    if kind not in EXCHANGE_FILES:
        return not_found(request, "no such page")
    here = site(request)
    month = here.period_or_current(period, previous=True)
    name = download_name(month, kind, "xlsx")
    with tempfile.TemporaryDirectory(prefix="ecmbill-") as folder:
        target = Path(folder) / name
        try:
            if kind == "otf":
                written = write_otf(here.engine, month, target)
            else:
                written = write_rtf(
                    here.engine, month, here.contract(), target, produced_on=here.today()
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
    accounts.log_access(here.engine, active.account, "download", file=name)
    return attachment(content, name, XLSX)


@router.get("/billing/chart.svg")
def billing_chart(request: Request, period: str | None = None) -> Response:
    """The minutes-per-unit chart (hours worked vs units billed) as an SVG image."""
    page_user(request, "billing")
    here = site(request)
    month = here.period_or_current(period, previous=True)
    report = honesty(here.engine, month, here.contract())
    return Response(
        honesty_chart(report),
        media_type="image/svg+xml",
        headers={"Cache-Control": "no-store"},
    )
