"""Every route of the app, including those of included routers. FastAPI keeps an included
router's routes inside it (``app.routes`` lists the router, not its routes), so a test that only
looked at ``app.routes`` would check nothing."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute


def app_routes(app: Any) -> list[APIRoute]:
    found: list[APIRoute] = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif (router := getattr(route, "original_router", None)) is not None:
            found.extend(app_routes(router))
    return found
