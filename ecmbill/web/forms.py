"""Reading what a form sent, and the one way the time and outreach forms record a row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from ecmbill.domain.period import Period
from ecmbill.fieldwork.verdict import form_problems
from ecmbill.imports.kinds import RowReject
from ecmbill.web.accounts import visible_members
from ecmbill.web.security import CSRF_FIELD, Forbidden, actor, form_user
from ecmbill.web.site import site


def form_values(form: Any) -> dict[str, str]:
    return {
        key: str(value)
        for key, value in form.items()
        if key != CSRF_FIELD and isinstance(value, str)
    }


def field_of(reject: RowReject) -> str:
    return reject.column or "form"


def form_period(form: Any) -> Period | None:
    try:
        return Period.parse(str(form.get("period") or ""))
    except ValueError:
        return None


# What a page shows again with the values typed and the refusals next to their fields.
FormPage = Callable[..., Response]


async def record_from_form(
    request: Request,
    area: str,
    record: Callable[..., dict[str, Any]],
    page: FormPage,
    done: Callable[[dict[str, Any]], str],
    remember: Callable[[dict[str, Any], Response], None] | None = None,
) -> Response:
    """Time and outreach forms alike: the import's checks decide, every refused value is
    shown next to its field (all at once) with what the user typed, a saved one redirects
    (``remember`` may set a cookie on the way). A member typed by name is looked for only
    among the members the user may see."""
    active, form = await form_user(request, area)
    values = form_values(form)
    staff_id = active.account.staff_id
    if not staff_id:
        raise Forbidden("your account is not linked to a staff member: ask an admin")
    here = site(request)
    within = visible_members(here.engine, active.account, here.today())
    try:
        saved = record(
            here.engine,
            here.contract(),
            values,
            actor=actor(active),
            staff_id=staff_id,
            today=here.today(),
            within=within,
        )
    except RowReject as reject:
        errors = {field_of(reject): reject.reason}
        for field, reason in form_problems(
            here.engine, here.contract(), area, values,
            staff_id=staff_id, today=here.today(), within=within,
        ).items():  # fmt: skip
            errors.setdefault(field, reason)
        return page(request, active, values=values, errors=errors, status_code=422)
    response = RedirectResponse(done(saved), status_code=303)
    if remember is not None:
        remember(saved, response)
    return response
