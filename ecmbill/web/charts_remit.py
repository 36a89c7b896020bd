"""The Remittances page's charts: denials by reason, and billed against paid month over month,
drawn with the shared chart functions (ecmbill.web.chart) and shown inline."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from ecmbill.remit.reconcile import DenialGroup, MoneyTotals
from ecmbill.web.chart import bar_chart, money, month_over_month_chart

# A reason's words are cut to this many characters next to its code: the table below the
# chart has them in full.
LABEL_WORDS = 40


def _label(group: DenialGroup) -> str:
    words = group.description
    if len(words) > LABEL_WORDS:
        words = words[: LABEL_WORDS - 1].rstrip() + "…"
    return f"{group.carc} {words}"


def denials_by_reason_chart(denials: Sequence[DenialGroup], shown: int = 8) -> Markup:
    """The amount denied per reason, largest first (the rest summed as "other reasons")."""
    bars = [(_label(group), float(group.amount)) for group in denials[:shown]]
    rest = sum(float(group.amount) for group in denials[shown:])
    if rest:
        bars.append(("other reasons", rest))
    return Markup(
        bar_chart(
            "Denied amount by reason",
            bars,
            series="amount denied or cut",
            empty="No denial yet: every claim answered so far was paid in full.",
            value_format=money,
        )
    )


def billed_vs_paid_chart(periods: Sequence[MoneyTotals]) -> Markup:
    """Billed and paid for each period, oldest first."""
    months = [str(p.period) for p in periods]
    return Markup(
        month_over_month_chart(
            "Billed vs paid, month over month",
            months,
            ("billed", [float(p.billed) for p in periods]),
            ("paid", [float(p.paid) for p in periods]),
            empty="No claim yet: close a period on the Billing page.",
            value_format=money,
        )
    )
