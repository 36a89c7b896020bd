from datetime import date

from ecmbill.domain.honesty import honesty_report
from ecmbill.domain.lines import ClaimLine, NotBilled
from ecmbill.domain.reasons import ReasonCode
from ecmbill.domain.vocabulary import Kind, Source

DAY = date(2026, 10, 5)


def line(
    member: str, code: str, mods: tuple[str, ...], kind: Kind, minutes: int, units: int
) -> ClaimLine:
    return ClaimLine(member, code, mods, kind, minutes, units, DAY, DAY, ("x",))


def refused(reason: ReasonCode) -> NotBilled:
    return NotBilled(Source.TIME, "x", "10000001A", DAY, reason, "why")


def test_honesty_report_shows_minutes_worked_units_billed_and_minutes_per_unit() -> None:
    report = honesty_report(
        "2026-10",
        [
            line("10000001A", "G9008", ("U1",), Kind.SERVICE, 75, 2),  # rounding added 45
            line("10000002B", "G9008", ("U1",), Kind.SERVICE, 61, 2),  # rounding added 59
            line("10000003C", "G9008", ("U1",), Kind.SERVICE, 120, 2),
            line("10000001A", "G9012", ("U2", "GQ"), Kind.SERVICE, 44, 1),  # added 16
            line("10000004D", "G9008", ("U8",), Kind.OUTREACH, 10, 1),
            line("10000004D", "G9008", ("U8",), Kind.OUTREACH, 0, 1),
        ],
        [
            refused(ReasonCode.NOT_ELIGIBLE),
            refused(ReasonCode.NOT_ELIGIBLE),
            refused(ReasonCode.NO_ROLE),
        ],
    )
    assert report.service_minutes == 75 + 61 + 120 + 44
    assert report.service_units == 7
    assert report.service_minutes_per_unit == 42.9
    assert report.outreach_attempts == 2
    totals = {(t.code, t.modifiers, t.kind): t for t in report.by_code}
    g9008 = totals[("G9008", ("U1",), Kind.SERVICE)]
    assert (g9008.lines, g9008.minutes, g9008.units, g9008.minutes_per_unit) == (3, 256, 6, 42.7)
    outreach = totals[("G9008", ("U8",), Kind.OUTREACH)]
    assert (outreach.lines, outreach.minutes, outreach.units) == (2, 10, 2)
    # Most rounding first; 45 minutes added is listed, 16 is not, outreach never is.
    assert [(x.member_id, x.minutes) for x in report.heavy_rounding] == [
        ("10000002B", 61),
        ("10000001A", 75),
    ]
    assert report.not_billed_by_reason == (("NOT_ELIGIBLE", 2), ("NO_ROLE", 1))


def test_an_empty_period_reports_no_minutes_per_unit_rather_than_dividing_by_zero() -> None:
    report = honesty_report("2026-10", [], [])
    assert report.service_minutes_per_unit is None
    assert report.by_code == ()
    assert report.heavy_rounding == ()
