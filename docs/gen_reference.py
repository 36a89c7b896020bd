"""The guide's reference pages, written from the code at every build so they cannot go stale.

An MkDocs hook (``hooks:`` in mkdocs.yml): ``on_files`` adds three generated pages,
``reference/cli.md`` from the Typer app's click command tree, ``reference/api.md`` from the
web app's OpenAPI schema, and ``changelog.md`` from CHANGELOG.md. Run as a script it prints one
of them: ``python docs/gen_reference.py cli`` (or ``api``, ``changelog``).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The guide documents the code of this checkout, whatever ecmbill pip installed elsewhere.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import typer  # noqa: E402

CLI_PAGE = "reference/cli.md"
API_PAGE = "reference/api.md"
CHANGELOG_PAGE = "changelog.md"


# --- the command line -----------------------------------------------------------------------
# Typer builds a click-style tree of commands (its own copy of click, in recent versions):
# read through the methods both share, never through click's classes.


def cli_commands() -> Iterator[tuple[str, Any]]:
    """Every command and group of ``ecmbill``, depth first, as ("ecmbill claims export", cmd)."""
    from ecmbill.cli import app

    def walk(name: str, command: Any) -> Iterator[tuple[str, Any]]:
        yield name, command
        if is_group(command):
            for child in command.list_commands(context_of(name, command)):
                sub = command.get_command(context_of(name, command), child)
                if sub is not None and not sub.hidden:
                    yield from walk(f"{name} {child}", sub)

    yield from walk("ecmbill", typer.main.get_command(app))


def is_group(command: Any) -> bool:
    return hasattr(command, "list_commands")


def context_of(name: str, command: Any) -> Any:
    return command.context_class(command, info_name=name)


def cell(text: object) -> str:
    """A value made safe for one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def default_of(param: Any) -> str:
    value = param.default
    if value is None or value is False or callable(value) or param.required:
        return ""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, list | tuple):
        return " ".join(f"`{v}`" for v in value)
    return f"`{value}`"


def kind_of(param: Any, context: Any) -> str:
    if getattr(param, "is_flag", False):
        return "flag"
    shown = str(param.display_type(context)).strip("<>")
    if "|" in shown:
        return " / ".join(f"`{choice}`" for choice in shown.split("|"))
    return shown


def command_section(name: str, command: Any) -> str:
    depth = name.count(" ")
    heading = "#" * min(depth + 2, 5)
    context = context_of(name, command)
    usage = " ".join([name, *command.collect_usage_pieces(context)])
    lines = [f"{heading} {name}", "", f"```\n{usage}\n```", ""]
    if command.help:
        lines += [command.help.strip(), ""]
    params = [p for p in command.get_params(context) if p.name != "help"]
    if params:
        lines += ["| argument or option | type | default | description |", "| --- " * 4 + "|"]
        for p in params:
            if p.param_type_name == "argument":
                names = f"`{p.name.upper()}`"
            else:
                names = ", ".join(f"`{n}`" for n in [*p.opts, *p.secondary_opts])
            help_text = p.help or ""
            if p.required:
                help_text = f"**Required.** {help_text}"
            if p.envvar:
                help_text += f" Environment variable: `{p.envvar}`."
            lines.append(
                f"| {names} | {cell(kind_of(p, context))} | {cell(default_of(p))} "
                f"| {cell(help_text)} |"
            )
        lines.append("")
    if is_group(command):
        children = command.list_commands(context)
        links = ", ".join(f"[{c}](#{'-'.join([*name.split(), c])})" for c in children)
        lines += [f"Commands: {links}", ""]
    return "\n".join(lines)


def cli_reference() -> str:
    sections = [command_section(name, command) for name, command in cli_commands()]
    intro = (
        "# Command reference\n\n"
        "Written from the `ecmbill` program itself each time this guide is built, so it "
        "matches the version you have; `ecmbill COMMAND --help` prints the same. Every command "
        "that touches the database takes `--database URL` (or `ECMBILL_DATABASE_URL`); the "
        "default is `sqlite:///ecmbill.db` in the current folder.\n\n"
    )
    return intro + "\n".join(sections)


# --- the JSON API ---------------------------------------------------------------------------


def openapi_schema() -> dict[str, Any]:
    from ecmbill.store.db import open_store
    from ecmbill.web import create_app

    with tempfile.TemporaryDirectory() as folder:
        engine = open_store(f"sqlite:///{folder}/schema.db")
        try:
            return create_app(engine).openapi()
        finally:
            engine.dispose()


def type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in schema:
        kinds = [type_of(s) for s in schema["anyOf"] if s.get("type") != "null"]
        nullable = any(s.get("type") == "null" for s in schema["anyOf"])
        return " or ".join(kinds) + (" (optional)" if nullable else "")
    if schema.get("type") == "array":
        return f"list of {type_of(schema.get('items', {}))}"
    if "enum" in schema:
        return " / ".join(f"`{v}`" for v in schema["enum"])
    kind = schema.get("type", "any")
    return f"{kind} ({schema['format']})" if "format" in schema else str(kind)


def operation_section(method: str, path: str, operation: dict[str, Any]) -> str:
    lines = [f"### {method.upper()} {path}", ""]
    if operation.get("description"):
        lines += [operation["description"].strip(), ""]
    params = operation.get("parameters", [])
    if params:
        lines += ["| parameter | in | type | required |", "| --- | --- | --- | --- |"]
        for p in params:
            lines.append(
                f"| `{p['name']}` | {p['in']} | {cell(type_of(p.get('schema', {})))} | "
                f"{'yes' if p.get('required') else 'no'} |"
            )
        lines.append("")
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        lines += [f"Request body (JSON): {type_of(body['schema'])}.", ""]
    answers = []
    for code, response in operation.get("responses", {}).items():
        content = response.get("content", {}).get("application/json", {}).get("schema")
        typed = content and ("$ref" in content or "type" in content)
        shape = f": {type_of(content)}" if typed else ""
        answers.append(f"`{code}` {response.get('description', '')}{shape}")
    lines += ["Answers: " + "; ".join(answers) + ".", ""]
    return "\n".join(lines)


def schema_section(name: str, schema: dict[str, Any]) -> str:
    lines = [f"### {name}", ""]
    if schema.get("description"):
        lines += [schema["description"].strip(), ""]
    required = set(schema.get("required", []))
    properties = schema.get("properties", {})
    if properties:
        lines += ["| field | type | required | description |", "| --- | --- | --- | --- |"]
        for field, spec in properties.items():
            lines.append(
                f"| `{field}` | {cell(type_of(spec))} | {'yes' if field in required else 'no'} | "
                f"{cell(spec.get('description', ''))} |"
            )
        lines.append("")
    return "\n".join(lines)


def api_reference(schema: dict[str, Any] | None = None) -> str:
    schema = schema or openapi_schema()
    lines = [
        "# JSON API reference",
        "",
        "Written from the web app's OpenAPI schema each time this guide is built. The running "
        "app serves the same schema at `/api/openapi.json`. The API uses the web app's session "
        "and roles: log in through `/login` first (the session cookie), and send the "
        "`X-CSRF-Token` header that `GET /api/me` returns with every POST. An anonymous call "
        "answers 401, a call your role may not make 403.",
        "",
        "## Endpoints",
        "",
    ]
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/"):
            continue  # the HTML pages are described in the role guides
        for method, operation in operations.items():
            lines.append(operation_section(method, path, operation))
    lines += ["## Schemas", ""]
    for name, spec in schema.get("components", {}).get("schemas", {}).items():
        lines.append(schema_section(name, spec))
    return "\n".join(lines)


# --- the MkDocs hook ------------------------------------------------------------------------


def changelog() -> str:
    return (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


PAGES = {CLI_PAGE: cli_reference, API_PAGE: api_reference, CHANGELOG_PAGE: changelog}


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for page, write in PAGES.items():
        files.append(File.generated(config, page, content=write()))
    return files


if __name__ == "__main__":
    choice = sys.argv[1] if len(sys.argv) > 1 else "cli"
    print({"cli": cli_reference, "api": api_reference, "changelog": changelog}[choice]())
