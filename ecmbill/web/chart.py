"""Charts a biller reads on a phone or a desktop, drawn on the server as small SVG images.

Why our own SVG and not a chart library: the charts are horizontal bars, which a phone's
narrow screen shows best (a long label such as "G9008 U1 GQ (outreach)" gets a line of its
own above its bars instead of colliding with its neighbours under a column); every label's
place is computed here, so a test can prove no two labels overlap and nothing is cut off,
and the image needs no script, loads nothing from elsewhere and shows through ``<img>``.

Text widths are estimated from the number of characters (``CHAR_WIDTH`` of the font size,
generous for the system sans-serif fonts), which is what the layout and the tests share.

The functions other pages use:

- ``bar_chart(title, bars, *, series, empty, value_format)``: one bar per category.
- ``month_over_month_chart(title, months, first, second, *, empty, value_format)``: two
  series side by side for each month (billed against paid, say).
- ``grouped_bar_chart(title, categories, series, *, empty, value_format)``: the general
  form both use.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

from ecmbill.domain.honesty import HonestyReport

WIDTH = 380  # the viewBox width; the image scales to its box, so font sizes are relative
FONT = 15
SMALL = 13
CHAR_WIDTH = 0.62  # of the font size: a generous average for sans-serif digits and letters
PAD = 8
BAR = 18
BAR_GAP = 3
GROUP_GAP = 14
COLORS = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1")
INK = "#222"
SUBTLE = "#666"

ValueFormat = Callable[[float], str]


def number(value: float) -> str:
    """Whole numbers as they are, others with one decimal: 12, 12.5."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def money(value: float) -> str:
    """Dollars without cents, as a chart has room for: $1,234."""
    return f"${value:,.0f}"


def text_width(text: str, size: int = FONT) -> float:
    return len(text) * size * CHAR_WIDTH


def grouped_bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    empty: str,
    value_format: ValueFormat = number,
) -> str:
    """Per category, one horizontal bar per series, its value written at its end. The
    category's label has its own line above its bars; the legend names every series on a
    line of its own; the scale's ticks are spaced by the width of their labels. With no
    category, or nothing above zero, the image is the ``empty`` sentence."""
    for name, values in series:
        if len(values) != len(categories):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(categories)}")
    top = max((v for _, values in series for v in values), default=0)
    if not categories or top <= 0:
        return _sentence(title, empty)
    value_room = max(text_width(value_format(v), SMALL) for _, vs in series for v in vs) + PAD
    plot_left, plot_right = PAD, WIDTH - PAD - value_room
    ticks = _ticks(top, plot_right - plot_left, value_format)
    scale_top = ticks[-1] if ticks[-1] > 0 else 1
    parts: list[str] = []
    y = PAD
    for line in _wrap(title, WIDTH - 2 * PAD, FONT + 1):
        y += FONT + 6
        parts.append(_text(PAD, y, line, FONT + 1, weight="bold"))
    y += 6
    for index, (name, _) in enumerate(series):
        parts.append(
            f'<rect x="{PAD}" y="{y + 6}" width="14" height="14" '
            f'fill="{COLORS[index % len(COLORS)]}"/>'
        )
        y += FONT + 4
        parts.append(_text(PAD + 20, y, name, FONT))
    y += GROUP_GAP - 4
    grid_top = y
    for number_, category in enumerate(categories):
        for line in _wrap(category, WIDTH - 2 * PAD, FONT):
            y += FONT + 5
            parts.append(_text(PAD, y, line, FONT))
        y += 5
        for index, (name, values) in enumerate(series):
            value = values[number_]
            length = max(0.0, (plot_right - plot_left) * value / scale_top)
            parts.append(
                f'<rect x="{plot_left}" y="{y:.1f}" width="{length:.1f}" height="{BAR}" '
                f'fill="{COLORS[index % len(COLORS)]}"><title>{escape(name)}: '
                f"{escape(value_format(value))}</title></rect>"
            )
            parts.append(
                _text(plot_left + length + 4, y + BAR - 4, value_format(value), SMALL, INK)
            )
            y += BAR + BAR_GAP
        y += GROUP_GAP - BAR_GAP
    grid_bottom = y
    grid = []
    for tick in ticks:
        x = plot_left + (plot_right - plot_left) * tick / scale_top
        grid.append(
            f'<line x1="{x:.1f}" y1="{grid_top}" x2="{x:.1f}" y2="{grid_bottom}" '
            f'stroke="#ddd" stroke-width="1"/>'
        )
        label = value_format(tick)
        left = min(max(x - text_width(label, SMALL) / 2, 0), WIDTH - text_width(label, SMALL))
        grid.append(_text(left, grid_bottom + SMALL + 4, label, SMALL, SUBTLE))
    height = grid_bottom + SMALL + 4 + PAD
    return _svg(title, height, [*grid, *parts])


def bar_chart(
    title: str,
    bars: Sequence[tuple[str, float]],
    *,
    series: str,
    empty: str,
    value_format: ValueFormat = number,
) -> str:
    """One bar per category (denials by reason, say), ``series`` naming what is measured."""
    return grouped_bar_chart(
        title,
        [label for label, _ in bars],
        [(series, [value for _, value in bars])],
        empty=empty,
        value_format=value_format,
    )


def month_over_month_chart(
    title: str,
    months: Sequence[str],
    first: tuple[str, Sequence[float]],
    second: tuple[str, Sequence[float]],
    *,
    empty: str,
    value_format: ValueFormat = number,
) -> str:
    """Two series for each month, oldest month first (billed against paid, say)."""
    return grouped_bar_chart(
        title, list(months), [first, second], empty=empty, value_format=value_format
    )


def honesty_chart(report: HonestyReport) -> str:
    """Minutes per unit: per code and modifiers, hours worked and units billed (one unit is
    one hour), so a bar pair of equal length is billing exactly one hour per unit."""
    return grouped_bar_chart(
        f"Hours worked vs units billed, {report.period}",
        [
            " ".join((t.code, *t.modifiers)) + (" (outreach)" if t.kind.value == "outreach" else "")
            for t in report.by_code
        ],
        [
            ("hours worked", [round(t.minutes / 60, 1) for t in report.by_code]),
            ("units billed", [t.units for t in report.by_code]),
        ],
        empty=f"Nothing was billed in {report.period}: no hours or units to compare.",
    )


# Drawing ----------------------------------------------------------------------------------


def _ticks(top: float, width: float, value_format: ValueFormat) -> list[float]:
    """0, step, 2·step … reaching ``top``: the step is 1, 2, 2.5 or 5 times a power of ten,
    the smallest whose labels all fit side by side with room between them."""
    exponent = math.floor(math.log10(top)) - 1 if top > 0 else 0
    while True:
        for factor in (1, 2, 2.5, 5):
            step = factor * 10.0**exponent
            if step < 1 and float(top).is_integer():
                continue  # counts have no fractional ticks
            count = math.ceil(top / step)
            ticks = [step * i for i in range(count + 1)]
            labels = [value_format(t) for t in ticks]
            if len(set(labels)) < len(labels):
                continue  # a step finer than the labels show
            room = max(text_width(value_format(t), SMALL) for t in ticks) + 12
            if width / max(count, 1) >= room:
                return ticks
        exponent += 1


def _wrap(text: str, width: float, size: int) -> list[str]:
    """Words on lines no wider than ``width``; a word too long alone is cut with an ellipsis."""
    most = max(4, int(width / (size * CHAR_WIDTH)))
    lines: list[str] = []
    current = ""
    for word in text.split():
        if len(word) > most:
            word = word[: most - 1] + "…"
        candidate = f"{current} {word}".strip()
        if len(candidate) <= most:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current or not lines:
        lines.append(current)
    return lines


def _text(
    x: float, y: float, text: str, size: int, fill: str = INK, *, weight: str | None = None
) -> str:
    bold = f' font-weight="{weight}"' if weight else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}"{bold}>'
        f"{escape(text)}</text>"
    )


def _svg(title: str, height: float, parts: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'width="{WIDTH}" height="{height:.0f}" role="img" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif">'
        f"<title>{escape(title)}</title>"
        f'<rect width="100%" height="100%" fill="white"/>' + "".join(parts) + "</svg>"
    )


def _sentence(title: str, sentence: str) -> str:
    """An empty chart is a sentence in ordinary type, as small as the words need."""
    parts = []
    y = PAD
    for line in _wrap(title, WIDTH - 2 * PAD, FONT + 1):
        y += FONT + 6
        parts.append(_text(PAD, y, line, FONT + 1, weight="bold"))
    y += 4
    for line in _wrap(sentence, WIDTH - 2 * PAD, FONT):
        y += FONT + 4
        parts.append(_text(PAD, y, line, FONT, SUBTLE))
    return _svg(title, y + PAD, parts)
