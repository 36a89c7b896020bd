"""``ecmbill backup`` and ``ecmbill restore``: the whole database to one file and back, with a
check that the restored database rates a period exactly as the original did.

The backup writes the rating of one period (by default the month of the newest time entry)
beside the file as ``FILE.check.json``: the period, the number of claim lines and entries not
billed, and a SHA-256 of the whole rating. The restore rates the same period and compares.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from ecmbill.cli.app import (
    ContractOption,
    DatabaseOption,
    app,
    console,
    fail,
    parse_period,
    plans_for,
    store,
)
from ecmbill.domain.period import Period
from ecmbill.rating import service
from ecmbill.store import backup as backups
from ecmbill.store.db import Engine, database_url


def check_file(file: Path) -> Path:
    return file.with_name(file.name + ".check.json")


def rating_check(engine: Engine, period: Period, contract_file: Path | None) -> dict[str, object]:
    """What a restore must reproduce: a period's rating, summed up and hashed."""
    rating = service.rate(engine, period, plans_for(engine, contract_file))
    whole = json.dumps(rating.as_json(), sort_keys=True, default=str).encode()
    return {
        "period": str(period),
        "claim_lines": len(rating.lines),
        "not_billed": len(rating.not_billed),
        "sha256": hashlib.sha256(whole).hexdigest(),
    }


def _shown(check: dict[str, object]) -> str:
    return (
        f"{check['period']}: {check['claim_lines']} claim lines, "
        f"{check['not_billed']} not billed, sha256 {str(check['sha256'])[:16]}"
    )


@app.command("backup")
def backup_command(
    out: Annotated[Path, typer.Option("--out", help="The backup file to write.", dir_okay=False)],
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            help="Period whose rating the restore checks (default: the month of the newest "
            "time entry).",
        ),
    ] = None,
    database: DatabaseOption = None,
    contract: ContractOption = None,
) -> None:
    """Back the database up to one file (SQLite: online backup; PostgreSQL: pg_dump), and
    FILE.check.json beside it with the rating a restore must reproduce."""
    engine = store(database)
    if period is not None:
        month = parse_period(period)
    else:
        newest = backups.latest_work_day(engine)
        month = Period.of(newest or date.today())
    try:
        done = backups.backup(engine, out)
    except backups.BackupError as err:
        fail(str(err))
    check = rating_check(engine, month, contract)
    check_file(out).write_text(json.dumps(check, indent=2) + "\n", encoding="utf-8")
    console.print(f"Backed up the {done.kind} database to {out}.")
    console.print(f"Rating to check on restore: {_shown(check)}.")


@app.command("restore")
def restore_command(
    file: Annotated[
        Path, typer.Argument(help="A file made by ecmbill backup.", exists=True, dir_okay=False)
    ],
    database: DatabaseOption = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace a database that already holds data."),
    ] = False,
    contract: ContractOption = None,
) -> None:
    """Restore a backup into a database (refused when it holds data, unless --force), then
    rate the period of FILE.check.json and compare: exit code 1 if it differs."""
    url = database or database_url()
    try:
        done = backups.restore(file, url, force=force)
    except backups.BackupError as err:
        fail(str(err))
    console.print(f"Restored the {done.kind} backup {file.name}.")
    expected_file = check_file(file)
    if not expected_file.exists():
        fail(f"restored, but not checked: {expected_file.name} is missing", code=1)
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    engine = store(url)
    got = rating_check(engine, parse_period(str(expected["period"])), contract)
    if got != expected:
        fail(f"the restored database rates differently: {_shown(got)}, "
             f"backed up {_shown(expected)}", code=1)  # fmt: skip
    console.print(f"Rating check: identical ({_shown(got)}).")
