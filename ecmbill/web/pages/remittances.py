"""Remittances: upload a payer's 835, and reconcile what was paid against what was claimed."""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ecmbill.domain.period import Period
from ecmbill.remit.model import AGEING_BUCKETS, Status
from ecmbill.remit.post import ImportOutcome, import_835, warned_remittances
from ecmbill.remit.reader import RemitFileError
from ecmbill.remit.reconcile import reconcile
from ecmbill.store.lookups import member_names
from ecmbill.web.render import render, safe_file_name
from ecmbill.web.security import actor, form_user, page_user
from ecmbill.web.site import site

router = APIRouter()
# An 835 for one provider's month is a few hundred kilobytes; refuse anything far larger.
MAX_835_BYTES = 20 * 1024 * 1024


def remittances_page(
    request: Request,
    period: str | None,
    *,
    status_code: int = 200,
    outcome: ImportOutcome | None = None,
    problem: str | None = None,
    problem_items: list[str] | None = None,
) -> HTMLResponse:
    here = site(request)
    month = None
    if period:
        try:
            month = Period.parse(period)
        except ValueError:
            month = None
    result = reconcile(here.engine, month, here.today())
    return render(
        request,
        "remittances.html",
        status_code,
        period=month,
        result=result,
        statuses=list(Status),
        buckets=AGEING_BUCKETS,
        names=member_names(here.engine, {claim.member_id for claim in result.claims}),
        outcome=outcome,
        warned=warned_remittances(here.engine),
        problem=problem,
        problem_items=problem_items or [],
    )


@router.get("/remittances", response_class=HTMLResponse)
def remittances(request: Request, period: str | None = None) -> Response:
    page_user(request, "remittances")
    return remittances_page(request, period)


@router.post("/remittances", response_class=HTMLResponse)
async def upload_835(request: Request) -> Response:
    """Import an uploaded 835 through the same service as ``ecmbill remit import``: all of
    it or nothing, the same 835 twice changes nothing, a refused file names each fault with
    its transaction and segment, warnings are shown and kept; an optional payee id does what
    ``--accept-payee`` does."""
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
                None,
                status_code=422,
                problem=f"{name} was not imported; nothing was posted",
                problem_items=err.problems,
            )
    return remittances_page(request, None, outcome=outcome)
