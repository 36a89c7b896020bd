"""The payer's answers on the Billing page: upload a 999, 277CA or 271, download a month's 270,
and a claim's page with its timeline (created, sent, 999, 277CA, 835)."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from ecmbill.claims.settings import SettingsError
from ecmbill.claims.views import claim_timeline
from ecmbill.contract.plans import PlanContracts
from ecmbill.fieldwork import plans as field_plans
from ecmbill.payer.acks import AckFileError
from ecmbill.payer.answers import import_answer
from ecmbill.payer.eligibility import (
    EligibilityFileError,
    NothingToAsk,
    WhosePlan,
    request_270,
)
from ecmbill.remit.denials import Denial, denials_of_claims
from ecmbill.store.lookups import member_names
from ecmbill.web import paging
from ecmbill.web.forms import UploadRefused, form_period, read_upload, upload_on_disk
from ecmbill.web.pages.billing import (
    FIX_SETTINGS,
    billing_page,
    no_period_chosen,
    plan_file_name,
    unfit_settings,
)
from ecmbill.web.render import attachment, download_name, not_found, render
from ecmbill.web.security import actor, form_user, page_user
from ecmbill.web.site import site

router = APIRouter()
# A month's 999, 277CA or 271 for one provider is far below this.
MAX_ANSWER_BYTES = 20 * 1024 * 1024


@router.post("/billing/answers", response_class=HTMLResponse)
async def upload_answer(request: Request) -> Response:
    """Post a 999 or 277CA, or apply a 271, as ``ecmbill ack import`` and ``ecmbill
    eligibility import`` do: all of it or nothing, the same file twice changes nothing."""
    active, form = await form_user(request, "billing")
    month = form_period(form) or site(request).period_or_current(None, previous=True)
    try:
        name, content = await read_upload(
            form, limit=MAX_ANSWER_BYTES, missing="choose the payer's file",
            too_large="the file is too large",
        )  # fmt: skip
    except UploadRefused as refused:
        return billing_page(
            request, month, status_code=refused.status_code, problem=refused.problem
        )
    plan = _plan_of(form, site(request).plans())
    with upload_on_disk(name, content) as path:
        try:
            outcome = await run_in_threadpool(
                partial(import_answer, actor=actor(active), plan=plan), site(request).engine, path
            )
        except (AckFileError, EligibilityFileError) as err:
            return billing_page(
                request, month, status_code=422,
                problem=f"{name} was not imported; nothing changed", problem_items=err.problems,
            )  # fmt: skip
        except WhosePlan as err:
            return billing_page(
                request, month, status_code=422,
                problem=f"{name} was not imported; nothing changed: {err} (choose whose 271 "
                "it is beside the file)",
            )  # fmt: skip
        except SettingsError as err:
            return unfit_settings(request, month, f"{name} was not read: {FIX_SETTINGS}", err)
    return billing_page(request, month, answer=outcome)


@router.post("/billing/eligibility/270", response_class=HTMLResponse)
async def download_270(request: Request) -> Response:
    """The month's 270 eligibility request, as ``ecmbill eligibility request``."""
    active, form = await form_user(request, "billing")
    month = form_period(form)
    if month is None:
        return no_period_chosen(request, "ask about (YYYY-MM)")
    moment = datetime.now(UTC)
    name = download_name(month, "270", "txt", moment)
    plans = site(request).plans()
    plan = _plan_of(form, plans)
    if plans.several:
        if plan is None:
            return billing_page(
                request, month, status_code=422,
                problem="choose whose 270 to download: each plan's payer is asked about its "
                "own members",
            )  # fmt: skip
        name = plan_file_name(name, plan)
    with tempfile.TemporaryDirectory(prefix="ecmbill-") as folder:
        target = Path(folder) / name
        try:
            await run_in_threadpool(
                partial(request_270, actor=actor(active), now=moment, plan=plan),
                site(request).engine, month, target,
            )  # fmt: skip
        except NothingToAsk as err:
            return billing_page(request, month, status_code=409, problem=str(err))
        except SettingsError as err:
            return unfit_settings(request, month, f"nothing was written: {FIX_SETTINGS}", err)
        content = target.read_bytes()
    return attachment(content, name, "application/edi-x12")


def _plan_of(form: FormData, plans: PlanContracts) -> str | None:
    """The plan the form names, with several plans (one plan: never asked)."""
    if not plans.several:
        return None
    return paging.choice(str(form.get("plan") or ""), list(plans))


@router.get("/billing/claims/{claim_ref}", response_class=HTMLResponse)
def claim_page(request: Request, claim_ref: str) -> Response:
    page_user(request, "billing")
    here = site(request)
    timelines = claim_timeline(here.engine, claim_ref)
    if not timelines:
        return not_found(request, "no such claim")
    member = timelines[0].claim.member_id
    found = denials_of_claims(here.engine, [t.claim.claim_id for t in timelines], here.today())
    denials: dict[int, list[Denial]] = {}
    for denial in found:
        denials.setdefault(denial.item.claim_id, []).append(denial)
    return render(
        request,
        "claim.html",
        timelines=timelines,
        denials=denials,
        wanted=claim_ref.upper(),
        member_name=member_names(here.engine, {member}).get(member, member),
        # With several plans the claim says whose it is (one plan: nothing to tell).
        plan_names=field_plans.plan_names(here.engine) if here.plans().several else {},
    )
