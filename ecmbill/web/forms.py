"""Reading what a form sent, and the one way the time and outreach forms record a row."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from ecmbill.domain.period import Period
from ecmbill.fieldwork.verdict import form_problems
from ecmbill.imports.kinds import RowReject
from ecmbill.web.accounts import visible_members
from ecmbill.web.render import safe_file_name
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


# Uploaded files -----------------------------------------------------------------------


class UploadRefused(Exception):
    """An upload refused before any service saw it, with its HTTP status and why."""

    def __init__(self, status_code: int, problem: str) -> None:
        super().__init__(problem)
        self.status_code = status_code
        self.problem = problem


async def read_upload(form: Any, *, limit: int, missing: str, too_large: str) -> tuple[str, bytes]:
    """The uploaded file's safe name and content: refused when no file was chosen, when it
    is larger than ``limit`` bytes or empty. Only ``limit`` + 1 bytes are ever read."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise UploadRefused(422, missing)
    content = await upload.read(limit + 1)
    if len(content) > limit:
        raise UploadRefused(413, too_large)
    if not content.strip():
        raise UploadRefused(422, "the file is empty")
    return safe_file_name(upload.filename), content


@contextmanager
def upload_on_disk(name: str, content: bytes) -> Iterator[Path]:
    """The upload as a file in a private temporary folder, removed afterwards: the import
    services read files, as the CLI gives them."""
    with tempfile.TemporaryDirectory(prefix="ecmbill-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        yield path
