"""A progress bar per step of a long command (rating, writing claims, ...), on standard error so
that what a command prints for a script stays clean; gone once the command is done."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from ecmbill.cli.app import errors

# (step in words, done, total): a step with a total of 0 is one of unknown length.
StepProgress = Callable[[str, int, int], None]


@contextmanager
def steps() -> Iterator[StepProgress]:
    """A bar for each step named; a step's bar completes when the next one starts."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=errors,
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def show(step: str, done: int, total: int) -> None:
            if step not in tasks:
                for task in tasks.values():
                    bar.update(
                        task, completed=bar.tasks[task].total or 1, total=bar.tasks[task].total or 1
                    )
                tasks[step] = bar.add_task(step, total=total or None)
            bar.update(tasks[step], completed=done, total=total or None)

        yield show
