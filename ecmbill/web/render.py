"""Turning a page's values into a response: the templates with what every page shows (who is
logged in, the menu their role may open, the CSRF field), error pages and downloads."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from ecmbill import installed_version
from ecmbill.domain.period import Period
from ecmbill.domain.vocabulary import in_words
from ecmbill.web.accounts import ActiveSession, pending_step
from ecmbill.web.security import ACCESS, CSRF_FIELD

HERE = Path(str(resources.files("ecmbill.web")))
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["version"] = installed_version()
# Stored values in plain words ("in_person" → "In person"), dollars as "$1,234.50".
templates.env.filters["words"] = in_words
templates.env.filters["dollars"] = lambda amount: f"${amount:,.2f}"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NAV = (
    ("time", "/time", "My time"),
    ("time", "/field", "In the field"),
    ("team", "/team", "My team"),
    ("outreach", "/outreach", "Outreach"),
    ("members", "/members", "Members"),
    ("imports", "/imports", "Imports"),
    ("billing", "/billing", "Billing"),
    ("remittances", "/remittances", "Remittances"),
    ("remittances", "/remittances/denials", "Denials"),
    ("corrections", "/corrections", "Corrections"),
    ("audit", "/audit", "Audit"),
    ("admin", "/admin", "Admin"),
    ("settings", "/settings", "Settings"),
    ("account", "/account", "Account"),
)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    active: ActiveSession | None = getattr(request.state, "active", None)
    nav = []
    if active is not None:
        # Before a pending step (a new password, MFA set-up) only the account page opens.
        pending = pending_step(active.account) is not None
        nav = [
            (href, label)
            for area, href, label in NAV
            if active.account.role in ACCESS[area] and (area == "account" or not pending)
        ]
    return templates.TemplateResponse(
        request,
        name,
        {"active": active, "nav": nav, "csrf_field": CSRF_FIELD, **context},
        status_code=status_code,
    )


def error_page(request: Request, status_code: int, title: str, message: str) -> HTMLResponse:
    return render(request, "error.html", status_code, title=title, message=message)


def not_found(request: Request, message: str) -> HTMLResponse:
    return error_page(request, 404, "Not found", message)


def download_name(period: Period, kind: str, extension: str, moment: datetime | None = None) -> str:
    """Built only from a parsed period and our own words: safe in a header and on disk.
    ``moment`` is when the file was made (now by default)."""
    return f"ecmbill-{period}-{kind}-{moment or datetime.now(UTC):%Y%m%dT%H%M%S}.{extension}"


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
