"""The web app (``ecmbill serve``): FastAPI, server-rendered templates, htmx."""

from ecmbill.web.app import create_app

__all__ = ["create_app"]
