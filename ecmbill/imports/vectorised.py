"""The row rules of ``ecmbill.domain.checks`` applied to a batch of rows column by column, for
the rows that keep every rule: the import's hot path. A row any rule might refuse is left to
the one-row reader (``checks.row_reader``), so a refused row is refused, with its column and
reason, by the declaration alone; this module only says which rows need not go there.

How a column is read over the batch, in the declaration's order:

- an exactly empty cell of an optional column is None (what the row reader gives it);
- a cell that is plain ASCII and matches the pattern of a value the parser keeps as typed
  (``values.IDENTIFIER_PATTERN`` for an identifier, ``LOWER_IDENTIFIER_PATTERN`` for an
  activity, ``CIN_PATTERN`` for a CIN) is that text, by one match of the whole text: a
  million distinct entry ids are not parsed one by one. ASCII only, to stay clear of what
  the parser's ``strip`` does with Unicode spaces. (Plain ``re``, not Arrow: ``ecmbill
  import`` does not load pyarrow, which would cost an import's bounded memory ~50 MiB);
- any other cell is read by the column's own parser from ``checks.parser``, once per
  distinct text of the batch (dates, activities, choices: a few dozen per file, kept for
  the next batches);
- what must be on file (``Known``) is looked up in what the file is read against.

The rules between columns (``BothOrNeither``, ``InOrder``, ``Duration``, ``Within``) are
the declaration's own steps (``checks.across_columns``), run on each row whose every column
was read here. A row is taken here only when every rule holds; any doubt sends it to the row
reader."""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Mapping, Sequence
from datetime import date
from typing import Any

from ecmbill.domain import values as value_rules
from ecmbill.domain.checks import Column, Known, RowRules, Value, across_columns, parser
from ecmbill.domain.identifiers import CIN_PATTERN
from ecmbill.domain.values import FieldError

# Patterns whose ASCII matches each value's parser returns unchanged (see the module's text).
_KEPT_AS_TYPED: dict[Value, str] = {
    Value.IDENTIFIER: value_rules.IDENTIFIER_PATTERN,
    Value.ACTIVITY: value_rules.LOWER_IDENTIFIER_PATTERN,
    Value.CIN: CIN_PATTERN,
}
# Distinct texts of one column whose parsed value is kept for the next batches.
_REMEMBERED = 10_000
_FAILED = object()

# For each row of a batch: its values by the declaration, or None (to be read alone).
BatchReader = Callable[
    [Sequence[str], Sequence[Sequence[str]], Mapping[Known, Container[str]]],
    list[dict[str, Any] | None],
]


class _ColumnReader:
    def __init__(self, column: Column, today: date) -> None:
        self.column = column
        self.parse = parser(column, today)
        kept = _KEPT_AS_TYPED.get(column.value)
        self.pattern = re.compile(kept) if kept is not None else None
        self.parsed: dict[str, Any] = {}

    def read(
        self, texts: Sequence[str], known: Mapping[Known, Container[str]]
    ) -> tuple[list[Any], list[bool]]:
        """The column's values over the batch, and which rows hold one for certain."""
        column, must_know = self.column, self.column.known
        known_here = known[must_know] if must_know is not None else None
        if self.pattern is not None:
            fits = self.pattern.fullmatch  # whole text: "$" would also match before a last "\n"
            sure = [text.isascii() and fits(text) is not None for text in texts]
            if known_here is not None:
                # Looked up here, not by Arrow's is_in, which hashes the whole roster (tens of
                # thousands of members) again for every batch.
                sure = [kept and text in known_here for kept, text in zip(sure, texts, strict=True)]
            found: list[Any] = list(texts)
        else:
            sure = [False] * len(texts)
            found = [None] * len(texts)
        parse, parsed, optional = self.parse, self.parsed, not column.required
        for index, text in enumerate(texts):
            if sure[index]:
                continue
            if not text:
                if optional:
                    found[index], sure[index] = None, True
                continue
            value = parsed.get(text, _FAILED)
            if value is _FAILED and text not in parsed:
                value = _parse(parse, text)
                if len(parsed) < _REMEMBERED:
                    parsed[text] = value
            if value is _FAILED or (known_here is not None and value not in known_here):
                continue
            found[index], sure[index] = value, True
        return found, sure


def _parse(parse: Callable[[str], Any], text: str) -> Any:
    try:
        return parse(text)
    except FieldError:
        return _FAILED


def batch_reader(rules: RowRules, today: date) -> BatchReader:
    """The rules of one kind, on one day, as a reader of batches (see the module's text)."""
    readers = {rule.name: _ColumnReader(rule, today) for rule in rules.columns}
    keeps = across_columns(rules)

    def read(
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        known: Mapping[Known, Container[str]],
    ) -> list[dict[str, Any] | None]:
        count = len(rows)
        if not count:
            return []
        position = {name: index for index, name in enumerate(header)}
        by_column = list(zip(*rows, strict=True))
        found: dict[str, list[Any]] = {}
        ok = [True] * count
        for rule in rules.columns:
            where = position.get(rule.name)
            texts = by_column[where] if where is not None else ("",) * count
            column_values, sure = readers[rule.name].read(texts, known)
            found[rule.name] = column_values
            ok = [a and b for a, b in zip(ok, sure, strict=True)]
        # The values in the order the row reader gives them (the declaration's), each row then
        # held to the rules between its columns by the declaration's own steps.
        names = list(found)
        columns = [found[name] for name in names]
        rows_read: list[dict[str, Any] | None] = []
        for keep, row_values in zip(ok, zip(*columns, strict=True), strict=True):
            values = dict(zip(names, row_values, strict=True)) if keep else None
            rows_read.append(values if values is not None and keeps(values) else None)
        return rows_read

    return read
