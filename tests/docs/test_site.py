"""The guide builds with --strict, and has a place for every command and every web page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from fastapi.responses import HTMLResponse

from ecmbill.cli import app as cli_app
from ecmbill.store.db import open_store
from ecmbill.web import create_app
from tests.docs.conftest import DOCS, ROOT, guide_sources
from tests.web.routes import app_routes


def every_command() -> Iterator[str]:
    """Every command of ``ecmbill``, walking the command tree Typer builds."""

    def walk(name: str, command: Any) -> Iterator[str]:
        yield name
        if not hasattr(command, "list_commands"):
            return
        # Through the group's methods: ``ecmbill`` builds a command when first asked for it.
        context = command.context_class(command, info_name=name)
        for child in command.list_commands(context):
            sub = command.get_command(context, child)
            if not sub.hidden:
                yield from walk(f"{name} {child}", sub)

    yield from walk("ecmbill", typer.main.get_command(cli_app))


def html_pages(tmp_path: Path) -> list[str]:
    """The paths of the web app's pages: GET routes answering HTML."""
    engine = open_store(f"sqlite:///{tmp_path / 'pages.db'}")
    try:
        web = create_app(engine)
    finally:
        engine.dispose()
    return sorted(
        route.path
        for route in app_routes(web)
        if "GET" in (route.methods or ()) and route.response_class is HTMLResponse
    )


def test_the_guide_builds_with_strict_and_has_every_page_of_the_nav(site: Path) -> None:
    nav = re.findall(r":\s*([\w/-]+)\.md\s*$", (ROOT / "mkdocs.yml").read_text(), re.M)
    assert "decisions" in nav and "reference/cli" in nav and "reference/api" in nav
    for page in nav:
        built = site / ("index.html" if page == "index" else f"{page}/index.html")
        assert built.exists(), page


def test_every_command_has_a_section_in_the_command_reference(site: Path) -> None:
    html = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    commands = list(every_command())
    assert {"ecmbill demo", "ecmbill claims export", "ecmbill users add"} <= set(commands)
    missing = [c for c in commands if f'id="{c.replace(" ", "-")}"' not in html]
    assert missing == []
    assert "--with-users" in html  # options are there too, with their help


def test_every_api_endpoint_has_a_section_in_the_api_reference(site: Path, tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'api.db'}")
    try:
        schema = create_app(engine).openapi()
    finally:
        engine.dispose()
    html = (site / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    operations = [
        f"{method.upper()} {path}"
        for path, methods in schema["paths"].items()
        if path.startswith("/api/")
        for method in methods
    ]
    assert "POST /api/time-entries" in operations
    assert [op for op in operations if op not in html] == []


def test_every_web_page_is_described_in_a_guide_page(tmp_path: Path) -> None:
    pages = html_pages(tmp_path)
    assert {"/time", "/billing", "/remittances", "/admin", "/members/{member_id}"} <= set(pages)
    text = "\n".join(guide_sources().values())
    assert [page for page in pages if f"`{page}`" not in text] == []


def test_the_guide_and_readme_point_at_nothing_outside_the_repository() -> None:
    outside = "shared" + "/"
    texts = {"README.md": (ROOT / "README.md").read_text(encoding="utf-8")}
    for folder in ("docs", "ecmbill", "tests", "bench"):
        for path in (ROOT / folder).rglob("*"):
            if "data" in path.parts or not path.is_file():
                continue  # bench/data holds generated benchmark files
            if path.suffix in {".md", ".py", ".toml", ".html", ".txt"}:
                texts[str(path.relative_to(ROOT))] = path.read_text(encoding="utf-8")
    assert [name for name, text in texts.items() if outside in text] == []


def test_every_picture_the_guide_shows_is_committed_and_small() -> None:
    shown = set()
    for text in guide_sources().values():
        shown |= set(re.findall(r"\(images/([\w.-]+\.png)\)", text))
    assert shown, "the guide shows no screenshot"
    kept = (DOCS / "images" / ".gitignore").read_text(encoding="utf-8")
    for name in shown:
        assert (DOCS / "images" / name).stat().st_size < 300_000, name
        assert f"!{name}" in kept, f"{name} is shown but ignored by docs/images/.gitignore"
