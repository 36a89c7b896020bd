"""The charts drawn on the server: every label inside the image and clear of every other,
every series in the legend, an empty chart a sentence. Text boxes are measured with the same
per-character estimate the layout uses (ecmbill.web.chart.text_width)."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import date

from ecmbill.domain.honesty import honesty_report
from ecmbill.domain.lines import ClaimLine
from ecmbill.domain.vocabulary import Kind
from ecmbill.web.chart import (
    bar_chart,
    grouped_bar_chart,
    honesty_chart,
    money,
    month_over_month_chart,
    text_width,
)

NS = "{http://www.w3.org/2000/svg}"


def boxes(svg: str) -> tuple[float, float, list[tuple[str, float, float, float, float]]]:
    root = ET.fromstring(svg)
    _, _, width, height = (float(v) for v in root.attrib["viewBox"].split())
    found = []
    for node in root.iter(f"{NS}text"):
        size = int(node.attrib["font-size"])
        x, y = float(node.attrib["x"]), float(node.attrib["y"])
        text = node.text or ""
        found.append((text, x, y - size, x + text_width(text, size), y + size * 0.25))
    return width, height, found


def assert_readable(svg: str) -> list[str]:
    width, height, found = boxes(svg)
    for text, left, top, right, bottom in found:
        assert left >= 0 and right <= width + 0.5, f"{text!r} is cut off at the side"
        assert top >= 0 and bottom <= height, f"{text!r} is cut off at the top or bottom"
    for a, b in itertools.combinations(found, 2):
        apart = a[3] <= b[1] or b[3] <= a[1] or a[4] <= b[2] or b[4] <= a[2]
        assert apart, f"{a[0]!r} overlaps {b[0]!r}"
    return [text for text, *_ in found]


def test_a_chart_of_many_long_codes_keeps_every_label_clear_and_every_value_written() -> None:
    codes = [f"G9008 U{i} GQ U8 (outreach, telephonic)" for i in range(1, 9)]
    hours = [0.5, 12.3, 140.0, 7.0, 33.3, 1.0, 99.9, 60.0]
    units = [1, 13, 141, 8, 34, 1, 100, 61]
    svg = grouped_bar_chart(
        "Hours worked vs units billed, 2026-10",
        codes,
        [("hours worked", hours), ("units billed", units)],
        empty="nothing",
    )
    texts = assert_readable(svg)
    assert "hours worked" in texts and "units billed" in texts  # the whole legend
    assert "140" in texts and "141" in texts and "12.3" in texts  # every value at its bar
    assert svg.count("<rect") == 1 + 2 + 2 * len(codes)  # background, legend keys, bars


def test_ticks_are_spaced_by_their_labels_width_so_dollar_amounts_do_not_collide() -> None:
    svg = bar_chart(
        "Denials by reason",
        [("CO-16 Claim lacks information", 123456.78), ("CO-29 Time limit expired", 999.0)],
        series="denied dollars",
        empty="No denial.",
        value_format=money,
    )
    texts = assert_readable(svg)
    assert "$123,457" in texts and "$999" in texts
    ticks = [t for t in texts if t.startswith("$") and t.endswith("000")]
    assert "$0" in texts and len(ticks) >= 2


def test_month_over_month_puts_both_series_under_each_month() -> None:
    svg = month_over_month_chart(
        "Billed vs paid",
        ["2026-08", "2026-09", "2026-10"],
        ("billed", [1000.0, 1200.5, 900.0]),
        ("paid", [950.0, 0.0, 400.0]),
        empty="Nothing billed yet.",
        value_format=money,
    )
    texts = assert_readable(svg)
    assert texts.count("2026-09") == 1 and "billed" in texts and "paid" in texts
    assert "$1,200" in texts and "$0" in texts


def test_an_empty_chart_is_a_short_sentence_not_a_giant_no_data() -> None:
    svg = bar_chart("Denials by reason", [], series="denials", empty="No denial in 2026-10.")
    texts = assert_readable(svg)
    assert "No denial in 2026-10." in texts and "No data" not in svg
    _, height, _ = boxes(svg)
    assert height < 80
    zero = bar_chart("Denials", [("CO-16", 0.0)], series="denials", empty="None denied.")
    assert "None denied." in zero


def test_a_category_name_longer_than_the_image_wraps_onto_lines_of_its_own() -> None:
    reason = "CO-16 Claim/service lacks information or has submission/billing error(s) " * 2
    texts = assert_readable(bar_chart("Denials", [(reason, 3)], series="lines", empty="-"))
    assert sum(1 for t in texts if t.startswith(("CO-16", "Claim", "information"))) >= 1
    assert len([t for t in texts if t not in ("Denials", "lines", "3")]) >= 3


def test_the_hours_vs_units_chart_draws_each_code_and_says_so_when_a_month_is_empty() -> None:
    day = date(2026, 10, 5)
    lines = [
        ClaimLine("M1", "G9008", ("U1",), Kind.SERVICE, 50, 1, day, day, ("E1",)),
        ClaimLine("M2", "G9012", ("U8", "GQ"), Kind.OUTREACH, 20, 1, day, day, ("O1",)),
    ]
    texts = assert_readable(honesty_chart(honesty_report("2026-10", lines, [])))
    assert "G9008 U1" in texts and "G9012 U8 GQ (outreach)" in texts
    assert "0.8" in texts  # 50 minutes as hours
    empty = honesty_chart(honesty_report("2026-11", [], []))
    assert " ".join(assert_readable(empty)).endswith(
        " Nothing was billed in 2026-11: no hours or units to compare."
    )
