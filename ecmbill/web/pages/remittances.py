"""Remittances: upload a payer's 835, see the money (billed, paid, adjusted, patient
responsibility, outstanding) and the reconciliation page by page, and work the denials."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ecmbill.claims.settings import SettingsError
from ecmbill.domain.period import Period
from ecmbill.fieldwork import plans as field_plans
from ecmbill.remit.codes import default_codes
from ecmbill.remit.denials import (
    AGES,
    STATUS_WORDS,
    DenialQuery,
    DenialWorkError,
    WorkStatus,
    denial_detail,
    denial_list,
    resubmit,
    set_status,
)
from ecmbill.remit.exports import export_denials, export_reconciliation
from ecmbill.remit.model import AGEING_BUCKETS, Status
from ecmbill.remit.post import ImportOutcome, import_835, warned_remittances
from ecmbill.remit.reader import RemitFileError
from ecmbill.remit.reconcile import ReconciliationQuery, reconciliation_page
from ecmbill.store.files import OutputProblem
from ecmbill.store.lookups import member_names
from ecmbill.web import accounts, paging
from ecmbill.web.charts_remit import billed_vs_paid_chart, denials_by_reason_chart
from ecmbill.web.forms import UploadRefused, read_upload, upload_on_disk
from ecmbill.web.render import XLSX, attachment, not_found, render
from ecmbill.web.security import actor, form_user, page_user
from ecmbill.web.site import BadParameter, site

router = APIRouter()
# An 835 for one provider's month is a few hundred kilobytes; refuse anything far larger.
MAX_835_BYTES = 20 * 1024 * 1024
MAX_PAGE = 1_000_000
ReconciliationSort = Literal["claim", "period", "member", "billed", "paid", "outstanding", "status"]
DenialSort = Literal["age", "amount", "claim", "member", "status"]
Direction = Literal["asc", "desc"]
ExportKind = Literal["csv", "xlsx"]
MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX}


def _period(text: str | None) -> Period | None:
    if not text:
        return None
    try:
        return Period.parse(text)
    except ValueError as err:
        raise BadParameter("the period must be a month, YYYY-MM") from err


def _status(text: str | None) -> Status | None:
    if not text:
        return None
    try:
        return Status(text)
    except ValueError as err:
        raise BadParameter("no such claim status") from err


def _work_status(text: str | None) -> WorkStatus | None:
    if not text or text == "all":
        return None
    try:
        return WorkStatus(text)
    except ValueError as err:
        raise BadParameter("no such denial status") from err


def _plan(request: Request, text: str | None) -> tuple[str | None, dict[str, str]]:
    """The plan the address asks for (an unknown plan: 400) and, with several plans, every
    plan's name for the choice; an office with one plan has no choice and no filter."""
    here = site(request)
    plans = here.plans()
    chosen = paging.choice(text, list(plans))
    if not plans.several:
        return None, {}
    return chosen, field_plans.plan_names(here.engine)


def _link(base: str, **values: object) -> str:
    kept = {key: value for key, value in values.items() if value not in (None, "", 1)}
    return f"{base}?{urlencode(kept)}" if kept else base


def remittances_page(
    request: Request,
    query: ReconciliationQuery,
    *,
    status_code: int = 200,
    outcome: ImportOutcome | None = None,
    problem: str | None = None,
    problem_items: list[str] | None = None,
    plan_names: dict[str, str] | None = None,
) -> HTMLResponse:
    here = site(request)
    result = reconciliation_page(here.engine, query, here.today())
    if plan_names is None:
        plan_names = _plan(request, None)[1]
    period = str(query.period) if query.period else None
    status = query.status.value if query.status else None

    def link(**changes: object) -> str:
        values: dict[str, object] = {
            "period": period, "status": status, "plan": query.plan, "sort": query.sort,
            "dir": "desc" if query.descending else "asc", "page": query.page,
        }  # fmt: skip
        values.update(changes)
        if values["sort"] == "claim" and values["dir"] == "asc":
            values.pop("sort"), values.pop("dir")
        return _link("/remittances", **values)

    return render(
        request,
        "remittances.html",
        status_code,
        period=query.period,
        query=query,
        result=result,
        statuses=list(Status),
        buckets=AGEING_BUCKETS,
        names=member_names(here.engine, {claim.member_id for claim in result.claims}),
        outcome=outcome,
        warned=warned_remittances(here.engine),
        problem=problem,
        problem_items=problem_items or [],
        link=link,
        plan_names=plan_names,
        export_query=urlencode(
            {k: v for k, v in {"period": period, "status": status, "plan": query.plan}.items() if v}
        ),
        reasons_chart=denials_by_reason_chart(result.denials),
        money_chart=billed_vs_paid_chart(list(reversed(result.by_period))),
    )


@router.get("/remittances", response_class=HTMLResponse)
def remittances(
    request: Request,
    period: str | None = None,
    status: str | None = None,
    sort: ReconciliationSort = "claim",
    dir: Direction = "asc",
    page: int = Query(1, ge=1, le=MAX_PAGE),
    plan: str | None = None,
) -> Response:
    page_user(request, "remittances")
    chosen, plan_names = _plan(request, plan)
    query = ReconciliationQuery(
        _period(period), _status(status), sort, dir == "desc", page, plan=chosen
    )
    return remittances_page(request, query, plan_names=plan_names)


@router.post("/remittances", response_class=HTMLResponse)
async def upload_835(request: Request) -> Response:
    """Import an uploaded 835 through the same service as ``ecmbill remit import``: all of
    it or nothing, the same 835 twice changes nothing, a refused file names each fault with
    its transaction and segment, warnings are shown and kept; an optional payee id does what
    ``--accept-payee`` does."""
    active, form = await form_user(request, "remittances")
    everything = ReconciliationQuery()
    try:
        name, content = await read_upload(
            form, limit=MAX_835_BYTES, missing="choose an 835 file to upload",
            too_large="the file is too large for an 835",
        )  # fmt: skip
    except UploadRefused as refused:
        return remittances_page(
            request, everything, status_code=refused.status_code, problem=refused.problem
        )
    with upload_on_disk(name, content) as path:
        try:
            accepted = str(form.get("accept_payee") or "").split()
            outcome = await run_in_threadpool(
                partial(import_835, accept_payee=accepted),
                site(request).engine,
                path,
                actor=actor(active),
            )
        except RemitFileError as err:
            return remittances_page(
                request,
                everything,
                status_code=422,
                problem=f"{name} was not imported; nothing was posted",
                problem_items=err.problems,
            )
    return remittances_page(request, everything, outcome=outcome)


def _download(request: Request, kind: str, stem: str, write: Callable[[Path], object]) -> Response:
    here = site(request)
    name = f"ecmbill-{stem}-{here.today():%Y%m%d}.{kind}"
    with tempfile.TemporaryDirectory(prefix="ecmbill-") as folder:
        target = Path(folder) / name
        try:
            write(target)
        except OutputProblem as err:
            raise BadParameter(str(err)) from err
        content = target.read_bytes()
    return attachment(content, name, MEDIA[kind])


@router.get("/remittances/export.{kind}")
def reconciliation_export(
    request: Request,
    kind: ExportKind,
    period: str | None = None,
    status: str | None = None,
    plan: str | None = None,
) -> Response:
    """The reconciliation, every claim the filters keep, as CSV or XLSX (formula-safe)."""
    active = page_user(request, "remittances")
    query = ReconciliationQuery(_period(period), _status(status), plan=_plan(request, plan)[0])
    here = site(request)
    response = _download(
        request, kind, "reconciliation",
        lambda target: export_reconciliation(here.engine, query, target),
    )  # fmt: skip
    accounts.log_access(here.engine, active.account, "download", file=f"reconciliation.{kind}")
    return response


# The denial work list ---------------------------------------------------------------------


def _denial_query(
    reason: str | None,
    status: str | None,
    age: str | None,
    sort: str,
    dir: str,
    page: int,
    plan: str | None = None,
) -> DenialQuery:
    if age and age not in AGES:
        raise BadParameter("no such age: 0-30, 31-60, 61-90 or 90+ days")
    code = (reason or "").strip().upper() or None
    if code is not None and (len(code) > 5 or not code.isalnum()):
        raise BadParameter("a reason is a CARC code such as 16 or CO 177's 177")
    return DenialQuery(
        code, _work_status(status), age or None, sort, dir == "desc", page, plan=plan
    )


@router.get("/remittances/denials", response_class=HTMLResponse)
def denials(
    request: Request,
    reason: str | None = None,
    status: str | None = "open",
    age: str | None = None,
    sort: DenialSort = "age",
    dir: Direction = "asc",
    page: int = Query(1, ge=1, le=MAX_PAGE),
    plan: str | None = None,
) -> Response:
    page_user(request, "remittances")
    chosen, plan_names = _plan(request, plan)
    query = _denial_query(reason, status, age, sort, dir, page, chosen)
    here = site(request)
    found = denial_list(here.engine, query, here.today())

    def link(**changes: object) -> str:
        values: dict[str, object] = {
            "reason": query.reason, "status": status or "all", "age": query.age,
            "plan": query.plan, "sort": query.sort,
            "dir": "desc" if query.descending else "asc", "page": query.page,
        }  # fmt: skip
        values.update(changes)
        if values["status"] == "open":
            values.pop("status")
        if values["sort"] == "age" and values["dir"] == "asc":
            values.pop("sort"), values.pop("dir")
        return _link("/remittances/denials", **values)

    codes = default_codes()
    filters = {"reason": query.reason, "status": status, "age": query.age, "plan": query.plan}
    return render(
        request,
        "denials.html",
        found=found,
        query=query,
        status_filter=status or "all",
        names=member_names(here.engine, {d.item.member_id for d in found.denials}),
        link=link,
        ages=list(AGES),
        work_statuses=STATUS_WORDS,
        reason_words={r.code: codes.describe_carc(r.code) for r in found.by_reason},
        plan_names=plan_names,
        export_query=urlencode({k: v for k, v in filters.items() if v}),
    )


@router.get("/remittances/denials/export.{kind}")
def denials_export(
    request: Request,
    kind: ExportKind,
    reason: str | None = None,
    status: str | None = None,
    age: str | None = None,
    plan: str | None = None,
) -> Response:
    """The work list, every item the filters keep, as CSV or XLSX (formula-safe)."""
    active = page_user(request, "remittances")
    here = site(request)
    query = _denial_query(reason, status, age, "age", "asc", 1, _plan(request, plan)[0])
    response = _download(
        request, kind, "denials",
        lambda target: export_denials(here.engine, query, target, here.today()),
    )  # fmt: skip
    accounts.log_access(here.engine, active.account, "download", file=f"denials.{kind}")
    return response


def _item_key(text: str) -> str:
    if len(text) > 20 or text[:1] not in ("L", "C") or not text[1:].isdigit():
        raise BadParameter("no such denial")
    return text


def denial_page(
    request: Request,
    key: str,
    *,
    status_code: int = 200,
    problem: str | None = None,
    done: str | None = None,
) -> Response:
    here = site(request)
    detail = denial_detail(here.engine, key, here.today())
    if detail is None:
        return not_found(request, "no such denial: the payer may have paid it since")
    member = detail.denial.item.member_id
    return render(
        request,
        "denial.html",
        status_code,
        detail=detail,
        member_name=member_names(here.engine, {member}).get(member, member),
        work_statuses=STATUS_WORDS,
        problem=problem,
        done=done,
    )


@router.get("/remittances/denials/{item_key}", response_class=HTMLResponse)
def denial(request: Request, item_key: str, saved: str | None = None) -> Response:
    page_user(request, "remittances")
    return denial_page(request, _item_key(item_key), done="the status was saved" if saved else None)


@router.post("/remittances/denials/{item_key}/status", response_class=HTMLResponse)
async def denial_status(request: Request, item_key: str) -> Response:
    """Mark a denial appealed, written off, corrected or open again, with a note: audited."""
    active, form = await form_user(request, "remittances")
    key = _item_key(item_key)
    try:
        status = WorkStatus(str(form.get("status") or ""))
    except ValueError:
        return denial_page(request, key, status_code=422, problem="choose a status")
    try:
        await run_in_threadpool(
            partial(set_status, actor=actor(active)), site(request).engine, key, status,
            str(form.get("note") or ""),
        )  # fmt: skip
    except DenialWorkError as err:
        return denial_page(request, key, status_code=422, problem=str(err))
    return RedirectResponse(f"/remittances/denials/{key}?saved=1", status_code=303)


@router.post("/remittances/denials/{item_key}/resubmit", response_class=HTMLResponse)
async def denial_resubmit(request: Request, item_key: str) -> Response:
    """Send the corrected claim: the period is closed again (the same close as the Billing
    page and ``ecmbill close``), the new claim is linked and the denial marked corrected."""
    active, form = await form_user(request, "remittances")
    key = _item_key(item_key)
    here = site(request)
    try:
        sent = await run_in_threadpool(
            partial(resubmit, actor=actor(active), today=here.today()), here.engine, key,
            here.plans(), str(form.get("note") or ""),
        )  # fmt: skip
    except DenialWorkError as err:
        return denial_page(request, key, status_code=409, problem=str(err))
    except SettingsError as err:
        return denial_page(request, key, status_code=409, problem=f"nothing was sent: {err}")
    kind = {"7": "replacement", "1": "new original"}.get(sent.frequency, "claim")
    return denial_page(
        request, key,
        done=f"{sent.patient_control_number} was made ({kind}); download it from the Billing "
        "page's 837P with the period's other claims not yet sent",
    )  # fmt: skip
