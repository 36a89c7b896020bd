"""``ecmbill import``: the provider's own files (staff, members, eligibility, enrollments, time,
outreach, members' plans), each row checked, the rejected ones listed with their reasons."""

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
    fail,
    parse_period,
    store,
)
from ecmbill.domain import values
from ecmbill.imports.batch import ImportResult, Rejection
from ecmbill.imports.kinds import IMPORT_KINDS, Options
from ecmbill.imports.service import import_file
from ecmbill.store.audit import cli_actor

ImportKind = StrEnum("ImportKind", {name: name for name in IMPORT_KINDS})  # type: ignore[misc]


@app.command("import")
def import_command(
    kind: Annotated[ImportKind, typer.Argument(help="What the file holds.")],
    file: Annotated[Path, typer.Argument(help="A .csv or .xlsx file.")],
    replace_period: Annotated[
        str | None,
        typer.Option(
            "--replace-period",
            help="YYYY-MM: the file is the complete record of that month for the staff it "
            "covers (time, outreach): their entries of the month not in the file are deleted.",
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="The system the file's ids come from (time, outreach): entry 1 of one system "
            "is then not entry 1 of another. A source column overrides it row by row.",
        ),
    ] = None,
    distinct_rows: Annotated[
        bool,
        typer.Option(
            "--distinct-rows",
            help="Identical rows without ids are separate entries or attempts (each one counts).",
        ),
    ] = False,
    database: DatabaseOption = None,
    contract: ContractOption = None,
) -> None:
    """Import staff, members, eligibility, enrollments, time, outreach or members' plans
    (plan_assignments) from CSV or XLSX.

    Exit status: 0 every row accepted, 1 some rows rejected (the rest imported), 2 the file
    could not be read (nothing imported). Rejected rows go to NAME.rejects.csv beside the file.
    """
    if replace_period is not None and kind.value not in ("time", "outreach"):
        fail("--replace-period is for time and outreach files")
    if source is not None:
        try:
            source = values.identifier(source)
        except values.FieldError as err:
            fail(f"--source {err}")
    options = Options(
        source=source,
        distinct_rows=distinct_rows,
        replace_period=None if replace_period is None else parse_period(replace_period),
    )
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
            options=options,
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
    counts = result.counts
    if result.incomplete:
        done = "[bold red]nothing imported[/]"
    elif counts is None:
        done = f"{result.changed} records added or changed"
    else:
        done = (
            f"{counts.added} added, {counts.updated} updated, {counts.unchanged} unchanged, "
            f"{counts.deleted} deleted"
        )
    console.print(
        f"{result.file.name} ({result.kind}): {result.rows_read} rows read, "
        f"[green]{result.accepted} accepted[/] ({done}), "
        f"[{'red' if result.rejected else 'green'}]{result.rejected} rejected[/]",
        highlight=False,
    )
    if result.incomplete:
        errors.print(f"[bold red]nothing imported:[/] {result.incomplete}", highlight=False)
    if result.notes:
        console.print(rejections_table(result.notes, ("line", "column"), "Notes on rows", "note"))
    if result.rejections:
        console.print(
            rejections_table(result.rejections[:20], ("line", "column"), "Rejected rows (first 20)")
        )
        console.print(f"All rejected rows, with their reasons: {result.rejects_file}")


def rejections_table(
    rejections: Sequence[Rejection], where: tuple[str, str], title: str, what: str = "reason"
) -> Table:
    """Rejected rows (or loops) with where each was found and why."""
    table = Table(*where, what, title=title)
    for rejection in rejections:
        table.add_row(str(rejection.line), rejection.column or "", rejection.reason)
    return table
