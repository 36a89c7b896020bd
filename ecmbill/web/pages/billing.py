"""Billing: a period's money at a glance, its projected claims and minutes per unit, closing
(and an admin reopening) the period, the files a biller downloads (claims, the plan's
tracker files) and the history of every file produced."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from ecmbill.claims import close as claim_close
from ecmbill.claims import export as claim_export
from ecmbill.claims import money, reopen
from ecmbill.claims.history import KINDS as FILE_KINDS
from ecmbill.claims.history import file_history, take_again
from ecmbill.claims.settings import SettingsError, settings_problems
from ecmbill.claims.views import (
    CLAIM_SORTS,
    NOT_BILLED_HEADER,
    claims_page,
    claims_waiting,
    not_billed_rows,
    rejected_claims,
)
from ecmbill.contract.plans import PlanContracts
from ecmbill.domain.honesty import honesty_report
from ecmbill.domain.lines import ClaimLine, NotBilled
from ecmbill.domain.period import Period
from ecmbill.domain.vocabulary import Kind, Source
from ecmbill.exchange.identity import provider_identity
from ecmbill.exchange.otf import write_otf
from ecmbill.exchange.rtf import write_rtf
from ecmbill.fieldwork import plans as field_plans
from ecmbill.fieldwork.team import unapproved_time
from ecmbill.rating.service import honesty, rate_recent
from ecmbill.store.db import Engine
from ecmbill.store.files import OutputProblem, write_table
from ecmbill.store.lookups import member_names
from ecmbill.web import accounts, paging
from ecmbill.web.chart import honesty_chart
from ecmbill.web.forms import form_period
from ecmbill.web.pages.late import late_listing
from ecmbill.web.render import XLSX, attachment, download_name, not_found, render
from ecmbill.web.security import actor, form_user, page_user
from ecmbill.web.site import BadParameter, month_before, site

router = APIRouter()
# Claim files a biller downloads: (what the file name says, extension, media type).
CLAIM_FILES = {
    "837p": ("837p", "txt", "application/edi-x12"),
    "csv": ("invoice", "csv", "text/csv; charset=utf-8"),
    "xlsx": ("invoice", "xlsx", XLSX),
}
EXCHANGE_FILES = {"otf": "Outreach Tracker File", "rtf": "Return Transmission File"}


LINE_SORTS = ("member", "code", "minutes", "units", "date")
NOT_BILLED_SORTS = ("date", "member", "reason")
HISTORY_ON_PAGE = 5
# Rows of each list on the Billing page: ten keeps the whole page a few screens tall on a
# phone with hundreds of members; the totals above each list count every row.
ON_PAGE = 10


def _sorting(text: str | None, allowed: tuple[str, ...], default: str) -> tuple[str, bool]:
    """``units`` sorts up, ``-units`` down."""
    descending = bool(text and text.startswith("-"))
    key = paging.choice(text.removeprefix("-") if text else None, allowed, default)
    return key or default, descending


def billing_page(
    request: Request,
    month: Period,
    *,
    status_code: int = 200,
    closed: claim_close.CloseResult | None = None,
    problem: str | None = None,
    problem_items: list[str] | None = None,
    answer: object | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    """The period's money first, then closing and the files, then each list one page at a
    time (claims, claim lines, not billed), its totals above it; the address carries each
    list's page, filter and sorting, so every choice survives the others."""
    here = site(request)
    query = request.query_params
    contract = here.contract()
    plans = here.plans()
    rating = rate_recent(here.engine, month, plans)
    # With several plans the lists show each line's plan, and ``plan`` narrows the claim
    # lines, what does not bill and the minutes per unit to one plan; one plan: as before.
    plan_names = field_plans.plan_names(here.engine) if plans.several else {}
    plan = paging.choice(query.get("plan"), list(plans)) if plans.several else None
    report = honesty_report(rating.period, rating.lines, rating.not_billed, plan=plan)
    expected, expected_plans = expected_money(rating.lines, plans)
    claimed = money.claimed(here.engine, month, contract)

    # Claims: paged, filtered and sorted in the database.
    claim_status = paging.choice(query.get("c_status"), ("active", "void", "rejected"))
    claim_sent = paging.choice(query.get("c_sent"), ("yes", "no"))
    claim_sort, claim_desc = _sorting(query.get("c_sort"), tuple(CLAIM_SORTS), "number")
    wanted = paging.page_number(query.get("c_page"))
    claims = claims_page(
        here.engine, month, status=claim_status,
        sent=None if claim_sent is None else claim_sent == "yes",
        sort=claim_sort, descending=claim_desc,
        page=wanted, page_size=ON_PAGE,
    )  # fmt: skip
    claims_pager = paging.pager("c_page", wanted, claims.total, ON_PAGE)
    if claims_pager.page != wanted:
        claims = claims_page(
            here.engine, month, status=claim_status,
            sent=None if claim_sent is None else claim_sent == "yes",
            sort=claim_sort, descending=claim_desc,
            page=claims_pager.page, page_size=ON_PAGE,
        )  # fmt: skip

    # Claim lines and not billed: the rating's own lists (the rating reads every line to
    # total them), filtered, sorted and cut to a page here.
    codes = sorted({" ".join((line.code, *line.modifiers)) for line in rating.lines})
    line_kind = paging.choice(query.get("l_kind"), [k.value for k in Kind])
    line_code = paging.choice(query.get("l_code"), codes)
    line_sort, line_desc = _sorting(query.get("l_sort"), LINE_SORTS, "member")
    lines = [
        line for line in rating.lines
        if (plan is None or line.plan == plan)
        and (line_kind is None or line.kind.value == line_kind)
        and (line_code is None or " ".join((line.code, *line.modifiers)) == line_code)
    ]  # fmt: skip
    names = member_names(here.engine, {line.member_id for line in rating.lines})
    line_keys: dict[str, Callable[[ClaimLine], tuple[Any, ...]]] = {
        "member": lambda line: (names.get(line.member_id, line.member_id), line.first_date),
        "code": lambda line: (line.code, line.modifiers, line.member_id),
        "minutes": lambda line: (line.minutes, line.member_id),
        "units": lambda line: (line.units, line.member_id),
        "date": lambda line: (line.first_date, line.member_id),
    }
    lines.sort(key=line_keys[line_sort], reverse=line_desc)
    lines_pager = paging.pager(
        "l_page", paging.page_number(query.get("l_page")), len(lines), ON_PAGE
    )

    reasons = sorted({item.reason for item in rating.not_billed})
    not_billed_reason = paging.choice(query.get("n_reason"), reasons)
    not_billed_source = paging.choice(query.get("n_source"), [s.value for s in Source])
    not_billed_sort, not_billed_desc = _sorting(query.get("n_sort"), NOT_BILLED_SORTS, "date")
    not_billed = _not_billed(
        rating.not_billed,
        not_billed_reason,
        not_billed_source,
        not_billed_sort,
        not_billed_desc,
        plan,
    )
    not_billed_pager = paging.pager(
        "n_page", paging.page_number(query.get("n_page")), len(not_billed), ON_PAGE
    )

    shown_lines = paging.page_of(lines, lines_pager)
    shown_not_billed = paging.page_of(not_billed, not_billed_pager)
    shown_members = (
        {line.member_id for line in shown_lines}
        | {row.claim.member_id for row in claims.rows}
        | {item.member_id for item in shown_not_billed}
    )
    rejected = rejected_claims(here.engine, month)
    rejected_pager = paging.pager(
        "r_page", paging.page_number(query.get("r_page")), len(rejected), ON_PAGE
    )
    files, files_total = file_history(here.engine, month, page_size=HISTORY_ON_PAGE)
    first_close = claim_close.first_close(here.engine, month)
    reopenable = None
    if first_close is not None:
        try:
            reopenable = reopen.reopen_check(here.engine, month)
        except reopen.CannotReopen:
            reopenable = None
    return render(
        request,
        "billing.html",
        status_code,
        period=month,
        month_name=f"{month.start:%B %Y}",
        rating=rating,
        report=report,
        expected=expected,
        expected_plans=expected_plans,
        claimed=claimed,
        plan_names=plan_names,
        plan=plan,
        units=sum(line.units for line in rating.lines),
        names=names | member_names(here.engine, shown_members - set(names)),
        previous=month_before(month),
        following=month.next(),
        claims=claims,
        claims_pager=claims_pager,
        claim_filter={
            "status": claim_status,
            "sent": claim_sent,
            "sort": query.get("c_sort") or "number",
        },
        lines=shown_lines,
        lines_count=len(lines),
        lines_units=sum(line.units for line in lines),
        lines_minutes=sum(line.minutes for line in lines),
        lines_pager=lines_pager,
        line_filter={"kind": line_kind, "code": line_code, "sort": query.get("l_sort") or "member"},
        codes=codes,
        code_words={
            " ".join((code, *modifiers)): words
            for (code, modifiers), words in money.code_descriptions(contract).items()
        },
        not_billed=shown_not_billed,
        not_billed_count=len(not_billed),
        not_billed_pager=not_billed_pager,
        not_billed_filter={
            "reason": not_billed_reason,
            "source": not_billed_source,
            "sort": query.get("n_sort") or "date",
        },
        reasons=reasons,
        link=lambda anchor="", **changes: paging.link(request, anchor, **changes),
        waiting=claims_waiting(here.engine, month, tuple(CLAIM_FILES)),
        payers=payer_downloads(here.engine, month, plans),
        exchange_plans=[(key, plan_names.get(key, key)) for key in plans] if plans.several else [],
        files=files,
        files_total=files_total,
        first_close=first_close,
        reopenable=reopenable,
        unclaimed=claim_close.unclaimed_changes(here.engine, month),
        late_changes=late_listing(here.engine),
        closable=month.end < here.today(),
        settings_problems=settings_problems(here.engine),
        identity_missing=provider_identity(here.engine).missing(),
        closed=closed,
        problem=problem,
        problem_items=problem_items or [],
        answer=answer,
        notice=notice,
        rejected=paging.page_of(rejected, rejected_pager),
        rejected_pager=rejected_pager,
        unapproved=unapproved_time(here.engine, here.contract(), rating),
    )


@dataclass(frozen=True)
class PayerDownload:
    """One payer's claims files: the plans it is billed for (the first names the group in
    the form), its payer, and per format how many claims a download would hold."""

    plans: tuple[str, ...]
    whose: str  # the plans' names: "Plan B", or "Default plan + Plan C"
    payer_id: str
    payer_name: str
    waiting: dict[str, int]


def payer_downloads(engine: Engine, month: Period, plans: PlanContracts) -> list[PayerDownload]:
    """With several plans, one download per payer (plans sharing a payer share its files);
    with one plan, none (the page's one set of downloads, as always). Settings a claim cannot
    be written with give no payer here: the page lists the problems."""
    if not plans.several:
        return []
    try:
        groups = claim_export.payer_groups(engine)
    except SettingsError:
        return []
    names = field_plans.plan_names(engine)
    found = []
    for group in groups:
        whose = " + ".join(names.get(key, key) for key in group.plans)
        waiting = claims_waiting(engine, month, tuple(CLAIM_FILES), group.plans)
        settings = group.settings
        found.append(
            PayerDownload(group.plans, whose, settings.payer_id, settings.payer_name, waiting)
        )
    return found


def plan_file_name(name: str, plan: str) -> str:
    """``ecmbill-2026-10-otf-20261105T120000.xlsx`` of plan ``b``:
    ``ecmbill-2026-10-otf-20261105T120000-b.xlsx``."""
    stem, extension = name.rsplit(".", 1)
    return f"{stem}-{re.sub(r'[^A-Za-z0-9_+-]', '_', plan)}.{extension}"


def payer_file_name(name: str, plans: Sequence[str], payer_id: str) -> str:
    """``ecmbill-2026-10-837p-20261105T120000.txt`` of plan ``b`` billed to SECONDPLAN:
    ``ecmbill-2026-10-837p-20261105T120000-b-SECONDPLAN.txt`` (as ``claims export`` names
    each payer's file). Only letters, digits, ``-``, ``_`` and ``+`` reach the header."""
    stem, dot, extension = name.rpartition(".")
    words = re.sub(r"[^A-Za-z0-9_+-]", "_", f"{'+'.join(plans)}-{payer_id}")
    return f"{stem}-{words}{dot}{extension}"


def expected_money(
    lines: Sequence[ClaimLine], plans: PlanContracts
) -> tuple[money.Money, list[str]]:
    """Expected money before the close, each line at the rate of its plan's contract; with
    several plans the codes of each plan in turn, and the plan of each code's row."""
    if not plans.several:
        found = money.expected(lines, plans[plans.first])
        return found, [plans.first] * len(found.by_code)
    by_code: list[money.CodeMoney] = []
    of_plan: list[str] = []
    for key, contract in plans.items():
        found = money.expected([line for line in lines if line.plan == key], contract)
        by_code += found.by_code
        of_plan += [key] * len(found.by_code)
    return money.Money(tuple(by_code)), of_plan


@dataclass(frozen=True)
class PlanMoney:
    """What the close would claim for one plan, at that plan's contract's rates."""

    plan: str
    name: str
    expected: money.Money


def expected_by_plan(
    lines: Sequence[ClaimLine], plans: PlanContracts, names: dict[str, str]
) -> list[PlanMoney]:
    """With several plans, each plan's lines at its own rates (a plan with no line says
    $0.00); with one plan, nothing (the total says it all)."""
    if not plans.several:
        return []
    return [
        PlanMoney(key, names.get(key, key),
                  money.expected([line for line in lines if line.plan == key], contract))
        for key, contract in plans.items()
    ]  # fmt: skip


def _not_billed(
    items: Sequence[NotBilled],
    reason: str | None,
    source: str | None,
    sort: str,
    desc: bool,
    plan: str | None = None,
) -> list[NotBilled]:
    chosen = [
        item for item in items
        if (plan is None or item.plan == plan)
        and (reason is None or item.reason == reason)
        and (source is None or item.source.value == source)
    ]  # fmt: skip
    keys: dict[str, Callable[[NotBilled], tuple[Any, ...]]] = {
        "date": lambda item: (item.on, item.member_id, item.id),
        "member": lambda item: (item.member_id, item.on, item.id),
        "reason": lambda item: (item.reason, item.on, item.id),
    }
    return sorted(chosen, key=keys[sort], reverse=desc)


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
    """Close only with ``confirm=yes``: without it, the page says what the close would claim
    (lines, units, expected dollars; "nothing to close" for a month with nothing billable)
    and asks."""
    active, form = await form_user(request, "billing")
    month = form_period(form)
    if month is None:
        return no_period_chosen(request, "close (YYYY-MM)")
    here = site(request)
    if month.end >= here.today():
        return billing_page(
            request, month, status_code=422,
            problem=f"{month} has not ended yet: close it after its last day",
        )  # fmt: skip
    if form.get("confirm") != "yes":
        return close_confirmation(request, month)
    try:
        result = await run_in_threadpool(
            claim_close.close_period,
            here.engine,
            month,
            here.plans(),
            actor=actor(active),
            today=here.today(),
        )
    except claim_close.PeriodNotOver as err:
        return billing_page(request, month, status_code=422, problem=str(err))
    except SettingsError as err:
        problem = f"{month} was not closed: {FIX_SETTINGS} (`ecmbill settings show`)"
        return unfit_settings(request, month, problem, err)
    return billing_page(request, month, closed=result)


def close_confirmation(request: Request, month: Period) -> HTMLResponse:
    here = site(request)
    plans = here.plans()
    rating = rate_recent(here.engine, month, plans)
    first = claim_close.first_close(here.engine, month)
    expected, _ = expected_money(rating.lines, plans)
    return render(
        request,
        "billing_confirm.html",
        period=month,
        month_name=f"{month.start:%B %Y}",
        expected=expected,
        by_plan=expected_by_plan(rating.lines, plans, field_plans.plan_names(here.engine)),
        entries=sum(len(line.source_ids) for line in rating.lines),
        members=len({line.member_id for line in rating.lines}),
        not_billed=len(rating.not_billed),
        first_close=first,
        unclaimed=claim_close.unclaimed_changes(here.engine, month) if first else [],
    )


# Reopening a period (an admin, while none of its claims was sent) -------------------------


@router.get("/billing/reopen", response_class=HTMLResponse)
def reopen_page(request: Request, period: str | None = None) -> Response:
    """The closed periods, each with whether it can be reopened; with a period, the
    confirmation of reopening it."""
    page_user(request, "admin")
    return _reopen_page(request, period)


def _reopen_page(
    request: Request,
    period: str | None,
    *,
    status_code: int = 200,
    problem: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    here = site(request)
    chosen = None
    if period:
        try:
            Period.parse(period)
        except ValueError:
            raise BadParameter(f"{period!r} is not a period (YYYY-MM)") from None
        month = here.period_or_current(period)
        try:
            chosen = reopen.reopen_check(here.engine, month)
        except reopen.CannotReopen as err:
            problem = problem or str(err)
    return render(
        request,
        "billing_reopen.html",
        status_code,
        periods=reopen.closed_periods(here.engine),
        chosen=chosen,
        problem=problem,
        notice=notice,
    )


@router.post("/billing/reopen", response_class=HTMLResponse)
async def reopen_period(request: Request) -> Response:
    active, form = await form_user(request, "admin")
    month = form_period(form)
    if month is None:
        return _reopen_page(request, None, status_code=422, problem="choose the period to reopen")
    if form.get("confirm") != "yes":
        return _reopen_page(request, str(month))
    reason = str(form.get("reason") or "").strip()[:500]
    try:
        found = await run_in_threadpool(
            reopen.reopen_period, site(request).engine, month, actor=actor(active), reason=reason
        )
    except reopen.CannotReopen as err:
        return _reopen_page(request, str(month), status_code=409, problem=str(err))
    return _reopen_page(
        request,
        None,
        notice=f"{month} reopened: {found.claims} claim(s) and {found.closes} close(s) undone; "
        "its time and outreach can be changed in the field again",
    )


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
    here = site(request)
    plans = here.plans()
    group: tuple[str, ...] | None = None
    if plans.several:
        # Several plans: one payer's claims a file, the payer of the plan the form names.
        chosen = paging.choice(str(form.get("plan") or ""), list(plans))
        if chosen is None:
            return billing_page(
                request, month, status_code=422,
                problem="choose whose claims to download: each payer has its own file",
            )  # fmt: skip
        try:
            groups = claim_export.payer_groups(here.engine)
        except SettingsError as err:
            return unfit_settings(request, month, f"nothing was written: {FIX_SETTINGS}", err)
        found = next(g for g in groups if chosen in g.plans)
        group = found.plans
        name = payer_file_name(name, found.plans, found.settings.payer_id)
    with tempfile.TemporaryDirectory(prefix="ecmbill-") as folder:
        target = Path(folder) / name
        try:
            await run_in_threadpool(
                partial(claim_export.export_claims, actor=actor(active), plans=group, now=moment),
                here.engine,
                month,
                fmt,
                target,
            )
        except claim_export.NothingToExport as err:
            return billing_page(
                request, month, status_code=409,
                problem=f"{err} (every file produced can be downloaded again from the file "
                "history below)",
            )  # fmt: skip
        except SettingsError as err:
            return unfit_settings(request, month, f"nothing was written: {FIX_SETTINGS}", err)
        content = target.read_bytes()
    accounts.log_access(here.engine, active.account, "download", file=name)
    return attachment(content, name, media_type)


@router.get("/billing/files/{kind}", response_class=HTMLResponse)
def exchange_file(
    request: Request, kind: str, period: str | None = None, plan: str | None = None
) -> Response:
    """The plan's Outreach Tracker or Return Transmission File for the period (XLSX), made
    anew from what the store holds and kept in the file history, as with
    ``ecmbill exchange otf|rtf``. With several plans each plan has its own files, of its own
    members (``plan``, required then: a file of one plan's members sent as if it were
    another's would report the wrong members to that plan)."""
    active = page_user(request, "billing")
    if kind not in EXCHANGE_FILES:
        return not_found(request, "no such page")
    here = site(request)
    month = here.period_or_current(period, previous=True)
    plans = here.plans()
    chosen = plans.first
    name = download_name(month, kind, "xlsx")
    if plans.several:
        found = paging.choice(plan or "", list(plans))
        if found is None:
            return billing_page(
                request, month, status_code=422,
                problem=f"choose whose {EXCHANGE_FILES[kind]} to download: each plan has its own",
            )  # fmt: skip
        chosen = found
        name = plan_file_name(name, chosen)
    with tempfile.TemporaryDirectory(prefix="ecmbill-") as folder:
        target = Path(folder) / name
        try:
            if kind == "otf":
                written = write_otf(here.engine, month, target, actor=actor(active), plan=chosen)
            else:
                written = write_rtf(
                    here.engine, month, plans[chosen], target, produced_on=here.today(),
                    actor=actor(active), plan=chosen,
                )  # fmt: skip
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


@router.get("/billing/history", response_class=HTMLResponse)
def history_page(
    request: Request, period: str | None = None, kind: str | None = None, page: str | None = None
) -> Response:
    """Every file produced (837P, invoice, OTF, RTF; by the CLI or the web), newest first,
    20 a page, of one period or all, of one kind or all."""
    page_user(request, "billing")
    here = site(request)
    month = here.period_or_current(period) if period else None
    chosen = paging.choice(kind, tuple(FILE_KINDS))
    number = paging.page_number(page)
    files, total = file_history(here.engine, month, (chosen,) if chosen else (), page=number)
    found = paging.pager("page", number, total, 20)
    if found.page != number:
        files, total = file_history(
            here.engine, month, (chosen,) if chosen else (), page=found.page
        )
    return render(
        request,
        "billing_history.html",
        period=month,
        kind=chosen,
        kinds=FILE_KINDS,
        files=files,
        pager=found,
        link=lambda anchor="", **changes: paging.link(request, anchor, **changes),
    )


@router.get("/billing/history/{file_id}")
def history_file(request: Request, file_id: str) -> Response:
    """A file from the history, byte for byte as first produced. Nothing is recorded as sent;
    the download is in the access log and the audit trail."""
    active = page_user(request, "billing")
    if not file_id.isdigit() or len(file_id) > 12:
        return not_found(request, "no such file in the history")
    here = site(request)
    found = take_again(here.engine, int(file_id), actor=actor(active))
    if found is None:
        return not_found(request, "no such file in the history")
    kept, content = found
    accounts.log_access(
        here.engine, active.account, "download", file=kept.file_name, again="file history"
    )
    media = {"837p": "application/edi-x12", "csv": "text/csv; charset=utf-8"}
    return attachment(content, kept.file_name, media.get(kept.kind, XLSX))


@router.get("/billing/not-billed.{fmt}")
def not_billed_export(
    request: Request,
    fmt: str,
    period: str | None = None,
    n_reason: str | None = None,
    n_source: str | None = None,
    plan: str | None = None,
) -> Response:
    """The not-billed list (with the list's filters) as CSV or XLSX, formula-safe."""
    active = page_user(request, "billing")
    if fmt not in ("csv", "xlsx"):
        return not_found(request, "no such download")
    here = site(request)
    month = here.period_or_current(period, previous=True)
    plans = here.plans()
    rating = rate_recent(here.engine, month, plans)
    reason = paging.choice(n_reason, sorted({item.reason for item in rating.not_billed}))
    source = paging.choice(n_source, [s.value for s in Source])
    chosen = paging.choice(plan, list(plans)) if plans.several else None
    items = _not_billed(rating.not_billed, reason, source, "date", False, chosen)
    rows = not_billed_rows(items, member_names(here.engine, {i.member_id for i in items}))
    name = download_name(month, "not-billed", fmt)
    with tempfile.TemporaryDirectory(prefix="ecmbill-") as folder:
        target = Path(folder) / name
        write_table(target, NOT_BILLED_HEADER, rows, sheet="Not billed")
        content = target.read_bytes()
    accounts.log_access(here.engine, active.account, "download", file=name)
    return attachment(content, name, XLSX if fmt == "xlsx" else "text/csv; charset=utf-8")


@router.get("/billing/chart.svg")
def billing_chart(request: Request, period: str | None = None, plan: str | None = None) -> Response:
    """The minutes-per-unit chart (hours worked vs units billed) as an SVG image; with
    ``plan``, of that plan's lines only."""
    page_user(request, "billing")
    here = site(request)
    month = here.period_or_current(period, previous=True)
    plans = here.plans()
    chosen = paging.choice(plan, list(plans)) if plans.several else None
    if chosen is None:
        report = honesty(here.engine, month, plans)
    else:
        rating = rate_recent(here.engine, month, plans)
        report = honesty_report(rating.period, rating.lines, rating.not_billed, plan=chosen)
    return Response(
        honesty_chart(report),
        media_type="image/svg+xml",
        headers={"Cache-Control": "no-store"},
    )
