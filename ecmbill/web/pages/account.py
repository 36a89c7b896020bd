"""One's own account: change the password, enrol in MFA (TOTP with recovery codes). These
pages open before any pending step, since they are where it is done."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ecmbill.web import accounts
from ecmbill.web.accounts import AccountError
from ecmbill.web.render import render
from ecmbill.web.security import SESSION_COOKIE, account_user, form_user
from ecmbill.web.site import site

router = APIRouter()


def account_page(
    request: Request, *, error: str | None = None, status_code: int = 200, done: str = ""
) -> HTMLResponse:
    active = account_user(request)
    account = active.account
    return render(
        request,
        "account.html",
        status_code,
        account=account,
        must_change=account.must_change_password,
        mfa_required=accounts.mfa_required(account.role),
        codes_left=(
            accounts.recovery_codes_left(site(request).engine, account)
            if account.mfa_enrolled
            else 0
        ),
        error=error,
        done=done,
        min_length=accounts.MIN_PASSWORD_LENGTH,
    )


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, done: str = "") -> Response:
    return account_page(request, done=done if done in ("password", "mfa") else "")


@router.get("/account/password", response_class=HTMLResponse)
def password_form(request: Request) -> Response:
    return account_page(request)


@router.post("/account/password", response_class=HTMLResponse)
async def change_password(request: Request) -> Response:
    active, form = await form_user(request, None)
    current = str(form.get("current") or "")
    new = str(form.get("new") or "")
    if new != str(form.get("again") or ""):
        return account_page(request, error="the two new passwords differ", status_code=422)
    try:
        await run_in_threadpool(
            accounts.change_password,
            site(request).engine,
            active.account,
            current,
            new,
            session_token=request.cookies.get(SESSION_COOKIE),
        )
    except AccountError as err:
        return account_page(request, error=str(err), status_code=422)
    if active.account.must_change_password:
        # The reset's temporary password is gone: on to the next step or the start page.
        return RedirectResponse("/", status_code=303)
    return RedirectResponse("/account?done=password", status_code=303)


def enrol_page(
    request: Request, secret: str, *, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    active = account_user(request)
    return render(
        request,
        "mfa_enrol.html",
        status_code,
        secret=secret,
        uri=accounts.mfa_uri(active.account.username, secret),
        required=accounts.mfa_required(active.account.role),
        enrolled=active.account.mfa_enrolled,
        error=error,
    )


@router.get("/account/mfa", response_class=HTMLResponse)
def mfa_form(request: Request) -> Response:
    account_user(request)
    # A new secret each time the page opens; it is kept only once a code made from it is
    # typed back (the form carries it, under the session's CSRF token).
    return enrol_page(request, accounts.new_mfa_secret())


@router.post("/account/mfa", response_class=HTMLResponse)
async def enrol(request: Request) -> Response:
    active, form = await form_user(request, None)
    secret = str(form.get("secret") or "")[:64]
    code = str(form.get("code") or "")[:16]
    try:
        codes = await run_in_threadpool(
            accounts.enrol_mfa, site(request).engine, active.account, secret, code
        )
    except AccountError as err:
        fresh = secret if secret.isalnum() and 16 <= len(secret) <= 64 else None
        return enrol_page(
            request, fresh or accounts.new_mfa_secret(), error=str(err), status_code=422
        )
    return render(request, "mfa_codes.html", codes=codes)
