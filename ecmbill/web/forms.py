"""Reading what a form sent, and the one way the time and outreach forms record a row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from ecmbill.domain.period import Period
from ecmbill.imports.kinds import RowReject
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
) -> Response:
    """Time and outreach forms alike: the import's checks decide, a refused value is shown
    next to its field with what the user typed, a saved one redirects."""
    active, form = await form_user(request, area)
    values = form_values(form)
    if not active.account.staff_id:
        raise Forbidden("your account is not linked to a staff member: ask an admin")
    here = site(request)
    try:
        saved = record(
            here.engine,
            here.contract(),
            values,
            actor=actor(active),
            staff_id=active.account.staff_id,
            today=here.today(),
        )
    except RowReject as reject:
        return page(
            request,
            active,
            values=values,
            errors={field_of(reject): reject.reason},
            status_code=422,
        )
    return RedirectResponse(done(saved), status_code=303)
