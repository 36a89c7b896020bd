"""The honesty chart: hours worked against units billed, per code, drawn server-side as SVG
with pygal (no JavaScript; pygal's tooltip script is switched off so nothing loads from the
network)."""

from __future__ import annotations

import math

import pygal
from pygal.style import Style

from ecmbill.domain.honesty import HonestyReport

_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#222",
    foreground_strong="#111",
    foreground_subtle="#666",
    colors=("#2b6cb0", "#c05621"),
    font_family="system-ui, sans-serif",
    # Sized to stay readable when a phone shrinks the chart to its screen width.
    label_font_size=18,
    major_label_font_size=18,
    legend_font_size=18,
    title_font_size=20,
    value_font_size=18,
)


def honesty_chart(report: HonestyReport) -> str:
    """Per code and modifiers: hours worked and units billed (one unit is one hour), so a bar
    pair of equal length is billing exactly one hour per unit."""
    chart = pygal.HorizontalBar(
        js=[],
        disable_xml_declaration=True,
        style=_STYLE,
        width=520,
        height=160 + 80 * max(1, len(report.by_code)),
        title=f"Hours worked vs units billed, {report.period}",
        legend_at_bottom=True,
        print_values=True,
        value_formatter=lambda v: f"{v:.1f}",
        explicit_size=False,
        truncate_label=-1,
    )
    hours = [round(t.minutes / 60, 1) for t in report.by_code]
    units = [t.units for t in report.by_code]
    top = max([*hours, *units, 1])
    step = max(1, math.ceil(top / 5))
    chart.y_labels = list(range(0, math.ceil(top) + step, step))
    chart.x_labels = [
        " ".join((t.code, *t.modifiers)) + (" (outreach)" if t.kind.value == "outreach" else "")
        for t in report.by_code
    ]
    chart.add("hours worked", hours)
    chart.add("units billed", units)
    return str(chart.render(is_unicode=True))
