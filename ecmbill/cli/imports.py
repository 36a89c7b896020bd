"""``ecmbill import``: the provider's own files (staff, members, eligibility, enrollments, time,
outreach), each row checked, the rejected ones listed with their reasons."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from ecmbill.cli.app import (
    ContractOption,
    DatabaseOption,
    app,
    console,
    contract_for,
    errors,
    store,
)
from ecmbill.imports.batch import ImportResult, Rejection
from ecmbill.imports.kinds import KINDS
from ecmbill.imports.service import import_file
from ecmbill.store.audit import cli_actor

ImportKind = StrEnum("ImportKind", {name: name for name in KINDS})  # type: ignore[misc]


@app.command("import")
def import_command(
    kind: Annotated[ImportKind, typer.Argument(help="What the file holds.")],
    file: Annotated[Path, typer.Argument(help="A .csv or .xlsx file.")],
    database: DatabaseOption = None,
    contract: ContractOption = None,
) -> None:
    """Import staff, members, eligibility, enrollments, time or outreach from CSV or XLSX.

    Exit status: 0 every row accepted, 1 some rows rejected (the rest imported), 2 the file
    could not be read (nothing imported). Rejected rows go to NAME.rejects.csv beside the file.
    """
    engine = store(database)
    terms = contract_for(engine, contract)
    with Progress(
        TextColumn("importing {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=errors,
        transient=True,
    ) as bar:
        task = bar.add_task(file.name, total=None)
        result = import_file(
            engine,
            kind.value,
            file,
            terms,
            actor=cli_actor(),
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    show_import(result)
    raise typer.Exit(result.exit_code)


def show_import(result: ImportResult) -> None:
    if result.file_problem:
        errors.print(
            f"[bold red]{result.file.name}: nothing imported[/]: {result.file_problem}",
            highlight=False,
        )
        return
    console.print(
        f"{result.file.name} ({result.kind}): {result.rows_read} rows read, "
        f"[green]{result.accepted} accepted[/] ({result.changed} records added or changed), "
        f"[{'red' if result.rejected else 'green'}]{result.rejected} rejected[/]",
        highlight=False,
    )
    if result.rejections:
        console.print(
            rejections_table(result.rejections[:20], ("line", "column"), "Rejected rows (first 20)")
        )
        console.print(f"All rejected rows, with their reasons: {result.rejects_file}")


def rejections_table(rejections: Sequence[Rejection], where: tuple[str, str], title: str) -> Table:
    """Rejected rows (or loops) with where each was found and why."""
    table = Table(*where, "reason", title=title)
    for rejection in rejections:
        table.add_row(str(rejection.line), rejection.column or "", rejection.reason)
    return table
