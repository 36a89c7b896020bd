"""``ecmbill serve`` (the web app) and ``ecmbill users`` (web accounts)."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.table import Table

from ecmbill.cli.app import ContractOption, DatabaseOption, app, console, contract_for, fail, store
from ecmbill.store.audit import cli_actor
from ecmbill.web import accounts
from ecmbill.web.accounts import AccountError, UserRole

users_app = typer.Typer(help="Web app accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    database: DatabaseOption = None,
    contract: ContractOption = None,
) -> None:
    """Start the web app. Put it behind an https proxy before letting anyone log in from
    another machine: cookies are marked Secure only on https."""
    import uvicorn

    from ecmbill.web import create_app

    try:
        idle = accounts.idle_limit()
    except AccountError as err:
        fail(str(err))
    engine = store(database)
    terms = contract_for(engine, contract) if contract else None
    console.print(f"ecmbill web app on http://{host}:{port}/  (Ctrl+C stops it)")
    console.print(f"Sessions end after {int(idle.total_seconds() // 60)} idle minutes.")
    # No access log: page addresses hold member CINs and search words (PHI).
    uvicorn.run(create_app(engine, terms), host=host, port=port, access_log=False)


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[UserRole, typer.Option("--role", help="What the user may do.")],
    staff_id: Annotated[
        str | None, typer.Option("--staff-id", help="Staff member whose time they record.")
    ] = None,
    team: Annotated[str | None, typer.Option("--team", help="Team (supervisors).")] = None,
    database: DatabaseOption = None,
) -> None:
    """Add a web user. The password is read from ECMBILL_NEW_PASSWORD, or asked for (hidden):
    at least 12 characters, not the username, not a common password."""
    password = os.environ.get("ECMBILL_NEW_PASSWORD")
    if not password:
        # Without a terminal the prompt would only print "Aborted.": say what to do instead.
        if not sys.stdin.isatty():
            fail("no password given: set ECMBILL_NEW_PASSWORD, or run this in a terminal")
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    engine = store(database)
    try:
        account = accounts.add_user(
            engine,
            username=username,
            password=password,
            role=role,
            actor=cli_actor(),
            staff_id=staff_id,
            team=team,
        )
    except AccountError as err:
        fail(str(err))
    console.print(f"User {account.username} added ({account.role.value}).")


@users_app.command("list")
def users_list(database: DatabaseOption = None) -> None:
    """List web users and their roles."""
    table = Table("username", "role", "staff_id", "team", "active", "mfa", title="Web users")
    for user in accounts.list_users(store(database)):
        table.add_row(
            user.username,
            user.role,
            user.staff_id or "",
            user.team or "",
            "yes" if user.active else "no",
            "on" if user.mfa_enrolled else "off",
        )
    console.print(table)


@users_app.command("set")
def users_set(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[UserRole | None, typer.Option("--role", help="New role.")] = None,
    staff_id: Annotated[
        str | None,
        typer.Option("--staff-id", help="Staff member whose time they record ('' for none)."),
    ] = None,
    team: Annotated[str | None, typer.Option("--team", help="Team ('' for none).")] = None,
    database: DatabaseOption = None,
) -> None:
    """Change a web user's role, staff member or team; what is not given stays (audited)."""
    engine = store(database)
    try:
        user = accounts.find_user(engine, username)
        changed = accounts.set_user(
            engine,
            user.username,
            role=role or user.role,
            staff_id=user.staff_id if staff_id is None else staff_id,
            team=user.team if team is None else team,
            actor=cli_actor(),
        )
    except AccountError as err:
        fail(str(err))
    console.print(
        f"User {changed.username}: {changed.role.value}, staff {changed.staff_id or '-'}, "
        f"team {changed.team or '-'}."
    )


@users_app.command("reset-password")
def users_reset_password(
    username: Annotated[str, typer.Argument(help="Login name.")],
    database: DatabaseOption = None,
) -> None:
    """Give a user a temporary password (printed once) that they must change when they log
    in with it; their sessions end now (audited)."""
    try:
        password = accounts.reset_password(store(database), username, actor=cli_actor())
    except AccountError as err:
        fail(str(err))
    console.print(f"Temporary password of {username.strip().lower()} (shown only now):")
    # Plain print: no markup, so the password is printed exactly.
    print(password)


@users_app.command("reset-mfa")
def users_reset_mfa(
    username: Annotated[str, typer.Argument(help="Login name.")],
    database: DatabaseOption = None,
) -> None:
    """Clear a user's MFA (a lost phone and lost recovery codes): a biller or admin sets it
    up again at the next login; their sessions end now (audited)."""
    try:
        accounts.reset_mfa(store(database), username, actor=cli_actor())
    except AccountError as err:
        fail(str(err))
    console.print(f"MFA of {username.strip().lower()} reset.")
