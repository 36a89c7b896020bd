"""Pages of a list: which page the address asks for, how many there are, and the links to the
others that keep every other choice on the page (the other lists' pages, filters, sorting)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

from fastapi import Request

from ecmbill.web.site import BadParameter

T = TypeVar("T")
PAGE_SIZE = 25


@dataclass(frozen=True)
class Pager:
    """Where a list's page is: its parameter (``c_page``), the page shown, how many."""

    parameter: str
    page: int
    total: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def first(self) -> int:
        """The number of the page's first item (1-based), 0 on an empty list."""
        return self.offset + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.offset + self.size, self.total)


def page_number(text: str | None) -> int:
    if text is None or text == "":
        return 1
    if not text.isdigit() or not 1 <= int(text) <= 1_000_000:
        raise BadParameter(f"page {text!r} is not a page number")
    return int(text)


def choice(text: str | None, allowed: Sequence[str], default: str | None = None) -> str | None:
    """A value the page offers (a sort, a filter), else ``BadParameter``; empty is the default."""
    if text is None or text == "":
        return default
    if text not in allowed:
        raise BadParameter(f"{text!r} is not one of {', '.join(allowed)}")
    return text


def pager(parameter: str, page: int, total: int, size: int = PAGE_SIZE) -> Pager:
    """A page past the end shows the last page."""
    found = Pager(parameter, page, total, size)
    return found if page <= found.pages else Pager(parameter, found.pages, total, size)


def page_of(items: Sequence[T], found: Pager) -> list[T]:
    return list(items[found.offset : found.offset + found.size])


def link(request: Request, anchor: str = "", **changes: object) -> str:
    """This page's address with some parameters changed (None removes one), and an anchor."""
    values = {key: value for key, value in request.query_params.items()}
    for key, value in changes.items():
        if value is None or value == "":
            values.pop(key, None)
        else:
            values[key] = str(value)
    query = urlencode(values)
    return f"{request.url.path}{'?' + query if query else ''}{'#' + anchor if anchor else ''}"
