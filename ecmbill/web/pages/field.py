"""In the field: one page to record visits and outreach attempts that works with no network.

The page is a shell the service worker keeps on the phone; its script keeps each entry in the
phone's storage (IndexedDB) with a key of its own, and sends it through the JSON API when the
network is there, once per key (``Idempotency-Key``). The manifest makes it installable."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from ecmbill.domain.vocabulary import Modality, OutreachMethod, OutreachOutcome
from ecmbill.store.lookups import member_names
from ecmbill.web.accounts import visible_members
from ecmbill.web.render import HERE, render
from ecmbill.web.security import page_user
from ecmbill.web.site import site

router = APIRouter()

THEME = "#1f4e79"
# Served from the site's root so that it may look after every page of the site (a worker's
# reach is the folder it is served from), not only /static/.
SERVICE_WORKER = HERE / "static" / "sw.js"


@router.get("/field", response_class=HTMLResponse)
def field(request: Request) -> Response:
    active = page_user(request, "time")
    here = site(request)
    caseload = visible_members(here.engine, active.account, here.today()) or frozenset()
    names = member_names(here.engine, set(caseload))
    contract = here.contract()
    return render(
        request,
        "field.html",
        today=here.today().isoformat(),
        members=sorted(names.items(), key=lambda item: item[1]),
        activities=sorted(
            contract.activities.items(), key=lambda item: item[1].description.lower()
        ),
        modalities=list(Modality),
        methods=list(OutreachMethod),
        outcomes=list(OutreachOutcome),
    )


@router.get("/sw.js", include_in_schema=False)
def service_worker() -> Response:
    return FileResponse(
        SERVICE_WORKER,
        media_type="text/javascript",
        # A new version of the worker is picked up at the next visit, not an hour later.
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


@router.get("/manifest.webmanifest", include_in_schema=False)
def manifest() -> Response:
    return JSONResponse(
        {
            "name": "ecmbill — time in the field",
            "short_name": "ecmbill",
            "description": "Record ECM visits and outreach attempts, with or without signal.",
            "start_url": "/field",
            "scope": "/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": THEME,
            "icons": [
                {"src": "/static/icon-192.png", "sizes": "192x192", "type": "image/png"},
                {"src": "/static/icon-512.png", "sizes": "512x512", "type": "image/png"},
                {"src": "/static/icon.svg", "sizes": "any", "type": "image/svg+xml"},
            ],
        },
        media_type="application/manifest+json",
        headers={"Cache-Control": "no-cache"},
    )
