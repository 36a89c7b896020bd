"""835s in the shapes real payers send, each with its level: posted (with or without warnings,
kept with the remittance) or refused with nothing posted.

Which fault falls in which level is the table of ``ecmbill.remit.levels``; these tests show
the table at work on files of our own made after the shapes found in public sample 835s
(missing PER*BL, no BPR16, a bare ST..SE, other delimiters, line ends, lower-case ids...).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from ecmbill.cli import app
from ecmbill.remit.levels import RULES, Fault, Level
from ecmbill.remit.model import Status
from ecmbill.remit.post import ImportOutcome, import_835
from ecmbill.remit.reader import RemitFileError
from ecmbill.remit.reconcile import reconcile
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.claims.world import OCTOBER
from tests.conftest import TODAY
from tests.remit.shapes import (
    envelope,
    fixture,
    recount,
    replaced,
    segments_of,
    transaction,
    without,
    written,
)

FULL = segments_of(fixture("full_payment.835"))
PARTIAL = segments_of(fixture("partial_payment.835"))


def post(engine: Engine, tmp_path: Path, text: str, **options: object) -> ImportOutcome:
    path = tmp_path / "payer.835"
    path.write_bytes(text.encode("latin-1"))
    return import_835(engine, path, actor="test", **options)  # type: ignore[arg-type]


def refused(engine: Engine, tmp_path: Path, text: str) -> list[str]:
    """The problems of a refused file, after checking that nothing of it was posted."""
    with pytest.raises(RemitFileError) as caught:
        post(engine, tmp_path, text)
    assert nothing_posted(engine)
    return caught.value.problems


def nothing_posted(engine: Engine) -> bool:
    with unit_of_work(engine) as session:
        return all(
            session.scalar(select(func.count()).select_from(table)) == 0
            for table in (models.Remittance, models.RemitClaim, models.RemitLine,
                          models.RemittanceWarning)
        )  # fmt: skip


def stored_warnings(engine: Engine) -> list[str]:
    with unit_of_work(engine) as session:
        return list(session.scalars(select(models.RemittanceWarning.message)))


def paid(engine: Engine, pcn: str) -> Decimal:
    result = reconcile(engine, OCTOBER, TODAY)
    return next(c for c in result.claims if c.patient_control_number == pcn).balance.paid


# -- posted, no warning ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("element", "component", "terminator", "repetition"),
    [("|", ">", "~", "^"), ("*", ">", "~", "^"), ("^", ":", "~", "{"), ("|", "^", "\\", "{")],
    ids=["pipe-gt", "star-gt", "caret-elements", "pipe-caret-backslash"],
)
def test_other_delimiters_are_read_from_the_isa_and_posted(
    closed: Engine, tmp_path: Path, element: str, component: str, terminator: str,
    repetition: str,
) -> None:  # fmt: skip
    text = written(FULL, element=element, component=component, terminator=terminator,
                   repetition=repetition)  # fmt: skip
    outcome = post(closed, tmp_path, text)
    assert outcome.posted[0].exact_lines == 1 and outcome.posted[0].warnings == []
    assert paid(closed, "ECM000000001") == Decimal("100.00")


def test_crlf_line_ends_are_posted_without_warning(closed: Engine, tmp_path: Path) -> None:
    outcome = post(closed, tmp_path, written(PARTIAL, line_end="\r\n"))
    assert outcome.posted[0].warnings == [] and outcome.posted[0].exact_lines == 2


def test_a_one_line_file_is_posted_without_warning(closed: Engine, tmp_path: Path) -> None:
    outcome = post(closed, tmp_path, written(PARTIAL, line_end=""))
    assert outcome.posted[0].warnings == [] and paid(closed, "ECM000000003") == Decimal("215.00")


def test_segments_ended_by_line_ends_alone_are_posted(closed: Engine, tmp_path: Path) -> None:
    outcome = post(closed, tmp_path, written(FULL, terminator="\r\n", line_end=""))
    assert outcome.posted[0].exact_lines == 1


def test_several_interchanges_and_transactions_in_one_file_are_all_posted(
    closed: Engine, tmp_path: Path
) -> None:
    first = envelope([transaction(FULL), transaction(PARTIAL)], control=201, group=201)
    denial = transaction(segments_of(fixture("denial.835")))
    second = envelope([denial], control=202, group=202)
    outcome = post(closed, tmp_path, written(first + second))
    assert [p.trace_number for p in outcome.posted] == ["CHK-1001", "EFT-1002", "NOPAY-1003"]
    assert all(p.warnings == [] for p in outcome.posted)
    statuses = {c.patient_control_number: c.balance.status
                for c in reconcile(closed, OCTOBER, TODAY).claims}  # fmt: skip
    assert (statuses["ECM000000001"], statuses["ECM000000002"], statuses["ECM000000003"]) == (
        Status.PAID, Status.DENIED, Status.PARTIAL,
    )  # fmt: skip


# -- posted with warnings -------------------------------------------------------------------


def test_missing_per_bl_is_posted_with_a_warning_kept_with_the_remittance(
    closed: Engine, tmp_path: Path
) -> None:
    outcome = post(closed, tmp_path, written(without(FULL, "PER*BL")))
    expected = (
        "ST 0001 (TRN CHK-1001), segment 6 (N1): the payer's technical contact (PER*BL) is missing"
    )
    assert outcome.posted[0].warnings == [expected]
    assert stored_warnings(closed) == [expected]
    assert paid(closed, "ECM000000001") == Decimal("100.00")
    assert RULES[Fault.NO_PAYER_CONTACT].level is Level.WARN


def test_missing_bpr16_is_posted_with_the_group_date_standing_in(
    closed: Engine, tmp_path: Path
) -> None:
    segments = replaced(FULL, "BPR*I*100*C*CHK************20261120", "BPR*I*100*C*CHK")
    outcome = post(closed, tmp_path, written(segments))
    assert outcome.posted[0].warnings == [
        "ST 0001 (TRN CHK-1001), segment 4 (BPR): BPR16 (payment date) is missing or not a "
        "date: the group's date (GS04) 2026-11-20 stands in"
    ]
    with unit_of_work(closed) as session:
        assert str(session.scalars(select(models.Remittance.payment_date)).one()) == "2026-11-20"


def test_a_bare_transaction_without_envelope_is_posted_with_a_warning(
    closed: Engine, tmp_path: Path
) -> None:
    outcome = post(closed, tmp_path, written(transaction(FULL)))
    assert outcome.posted[0].warnings == [
        "ST 0001 (TRN CHK-1001), segment 1 (ST): the transaction has no ISA/GS envelope: read "
        "from its ST to its SE"
    ]
    assert stored_warnings(closed) == outcome.posted[0].warnings
    assert paid(closed, "ECM000000001") == Decimal("100.00")


def test_a_bare_transaction_with_pipes_and_carets_is_read(closed: Engine, tmp_path: Path) -> None:
    text = written(transaction(FULL), element="|", component="^")
    outcome = post(closed, tmp_path, text)
    assert outcome.posted[0].exact_lines == 1


def test_lower_case_segment_ids_are_read_and_posted_with_a_warning(
    closed: Engine, tmp_path: Path
) -> None:
    lower = [s[:3].lower() + s[3:] if not s.startswith("ISA") else s for s in FULL]
    outcome = post(closed, tmp_path, written(lower))
    assert outcome.posted[0].warnings == [
        "segment 2 (GS): segment ids are in lower case: read as upper case"
    ]
    assert paid(closed, "ECM000000001") == Decimal("100.00")


def test_an_unknown_qualifier_is_posted_with_a_warning(closed: Engine, tmp_path: Path) -> None:
    segments = replaced(PARTIAL, "DTM*472*20261012", "DTM*472*20261012~DTM*ZZZ*20261012")
    outcome = post(closed, tmp_path, written(recount(segments_of("~".join(segments)))))
    assert outcome.posted[0].warnings == [
        "ST 0001 (TRN EFT-1002), segment 19 (DTM): DTM01 is not a qualifier the 835 uses here"
    ]
    assert outcome.posted[0].exact_lines == 2


# -- refused, nothing posted ----------------------------------------------------------------


def test_an_unbalanced_transaction_is_refused_and_nothing_posted(
    closed: Engine, tmp_path: Path
) -> None:
    segments = replaced(FULL, "BPR*I*100*", "BPR*I*150*")
    assert refused(closed, tmp_path, written(segments)) == [
        "ST 0001 (TRN CHK-1001), segment 17 (SE): the payment does not balance: BPR02 150.00 "
        "is not the claims' payments 100.00 less provider adjustments 0.00 (100.00)"
    ]


def test_a_claim_paying_more_than_it_charges_is_refused(closed: Engine, tmp_path: Path) -> None:
    segments = replaced(FULL, "CLP*ECM000000001*1*100*100", "CLP*ECM000000001*1*100*160")
    segments = replaced(segments, "SVC*HC:G9008:U1*100*100", "SVC*HC:G9008:U1*100*160")
    segments = replaced(segments, "BPR*I*100*", "BPR*I*160*")
    problems = refused(closed, tmp_path, written(segments))
    assert problems == [
        "ST 0001 (TRN CHK-1001), segment 14 (SVC): the line does not balance: charge 100.00 - "
        "adjustments 0.00 is not the payment 160.00",
        "ST 0001 (TRN CHK-1001), segment 12 (CLP): claim ECM000000001 does not balance: charge "
        "100.00 - payment 160.00 is not the adjustments 0.00",
    ]
    assert RULES[Fault.UNBALANCED_CLAIM].level is Level.REFUSE


def test_another_payee_is_refused_unless_accepted(closed: Engine, tmp_path: Path) -> None:
    other = written(replaced(FULL, "*XX*1245319599", "*XX*1003000126"))
    assert refused(closed, tmp_path, other) == [
        "ST 0001 (TRN CHK-1001), segment 10 (N1): the payee is NPI 1003000126, not us (NPI "
        "1245319599, TIN 123456789): if this payment is yours, import it with --accept-payee "
        "1003000126"
    ]
    outcome = post(closed, tmp_path, other, accept_payee=["1003000126"])
    assert outcome.posted[0].warnings == [
        "ST 0001 (TRN CHK-1001), segment 10 (N1): the payee is NPI 1003000126, accepted with "
        "--accept-payee"
    ]


def test_a_payee_named_by_our_tin_is_ours(closed: Engine, tmp_path: Path) -> None:
    outcome = post(closed, tmp_path, written(replaced(FULL, "*XX*1245319599", "*FI*123456789")))
    assert outcome.posted[0].warnings == []


def test_a_trace_number_repeated_in_the_file_is_refused_whole(
    closed: Engine, tmp_path: Path
) -> None:
    again = replaced(transaction(PARTIAL), "TRN*1*EFT-1002", "TRN*1*CHK-1001")
    text = written(envelope([transaction(FULL), again], control=301, group=301))
    # Nothing is posted, not even the first transaction: half a file is never posted.
    assert refused(closed, tmp_path, text) == [
        "ST 0002 (TRN CHK-1001), segment 20 (TRN): TRN02 CHK-1001 was already given earlier in "
        "this file: the same payment twice"
    ]


def test_a_wrong_segment_count_is_refused(closed: Engine, tmp_path: Path) -> None:
    segments = [s.replace("SE*15*", "SE*14*") for s in FULL]
    assert refused(closed, tmp_path, written(segments)) == [
        "ST 0001 (TRN CHK-1001), segment 17 (SE): SE01 says 14 segments, the transaction has "
        "15: a segment is missing or extra"
    ]


def test_a_truncated_bare_transaction_is_refused(closed: Engine, tmp_path: Path) -> None:
    text = written(transaction(FULL)[:-3])
    assert refused(closed, tmp_path, text) == [
        "the file is truncated: it ends after segment 12",
        "ST 0001 (TRN CHK-1001): the Transaction Set Trailer (SE) is missing",
    ]


def test_an_unreadable_amount_is_refused(closed: Engine, tmp_path: Path) -> None:
    segments = replaced(FULL, "CLP*ECM000000001*1*100*100", "CLP*ECM000000001*1*100*1O0")
    problems = refused(closed, tmp_path, written(segments))
    assert problems[0] == (
        "ST 0001 (TRN CHK-1001), segment 12 (CLP): CLP04 (claim payment) is not an amount"
    )


def test_a_repetition_separator_inside_a_value_does_not_break_the_reader(
    closed: Engine, tmp_path: Path
) -> None:
    segments = replaced(FULL, "NM1*QC*1*TEST*MEMBERA", "NM1*QC*1*TEST^X*MEMBERA")
    assert post(closed, tmp_path, written(segments)).posted[0].warnings == []


def test_the_cli_exits_2_on_a_refused_file_and_lists_warnings_of_a_posted_one(
    closed: Engine, tmp_path: Path
) -> None:
    database = closed.url.render_as_string(hide_password=False)
    bad = tmp_path / "unbalanced.835"
    bad.write_text(written(replaced(FULL, "BPR*I*100*", "BPR*I*150*")))
    result = CliRunner().invoke(app, ["remit", "import", str(bad), "--database", database],
                                env={"COLUMNS": "300"})  # fmt: skip
    assert result.exit_code == 2 and "nothing was posted" in result.output
    assert "the payment does not balance" in result.output
    good = tmp_path / "no-per.835"
    good.write_text(written(without(FULL, "PER*BL")))
    result = CliRunner().invoke(app, ["remit", "import", str(good), "--database", database],
                                env={"COLUMNS": "300"})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Posted with 1 warning(s)" in result.output
    assert "the payer's technical contact (PER*BL) is missing" in result.output


def test_recount_keeps_the_fixtures_valid() -> None:
    assert recount(FULL) == FULL


def test_a_warning_repeated_on_many_segments_is_kept_three_times_then_counted(
    closed: Engine, tmp_path: Path
) -> None:
    odd = "~".join(["DTM*472*20261012", *["DTM*ZZZ*20261012"] * 5])
    segments = recount(segments_of("~".join(replaced(PARTIAL, "DTM*472*20261012", odd))))
    warnings = post(closed, tmp_path, written(segments)).posted[0].warnings
    assert len(warnings) == 4 and warnings[-1] == (
        "ST 0001 (TRN EFT-1002): DTM01 is not a qualifier the 835 uses here (and 2 more "
        "segment(s) like this)"
    )
    assert stored_warnings(closed) == warnings
