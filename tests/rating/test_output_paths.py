"""The files ``rate --source --out`` writes are the same, byte for byte in CSV and table for
table in Parquet, as the path they replaced wrote (kept below as it was, only made to pass
every column of the lines through, as the fast path does): lines with sorted source ids and
modifiers, not-billed entries with every reason code and its sentence, in the same order.

The previous path fetched the classified month twice into Arrow and did the splitting,
sorting and sentences there; the fast path classifies once, keeps it in the engine and does
the rest in the engine too (``ecmbill.rating.output``)."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import date
from pathlib import Path

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from ecmbill.contract import Contract, default_contract
from ecmbill.demo.plan_scale import PlanMonth, generate, write
from ecmbill.domain.period import Period
from ecmbill.domain.reasons import ReasonCode, explain
from ecmbill.rating import file_checks
from ecmbill.rating.expression import (
    ID_SEPARATOR,
    MODIFIER_SEPARATOR,
    RatingInputs,
    billable_lines,
    classify,
)
from ecmbill.rating.file_checks import SourceProblem
from ecmbill.rating.files import rate_checked
from ecmbill.rating.output import not_billed_path, rate_folder_to_file
from ecmbill.store.files import write_arrow_csv

PERIOD = Period(2026, 10)
APPROVING = default_contract().model_copy(update={"require_approval": True})


# -- the previous path, as it was ---------------------------------------------------------------


def previous_rate_to_arrow(
    inputs: RatingInputs, period: Period, contract: Contract
) -> tuple[pa.Table, pa.Table]:
    classified = classify(inputs, period.start, period.end, contract)
    lines = billable_lines(classified).to_pyarrow()
    refused = (
        classified.filter(classified.reason_code.notnull())
        .select(
            "source", "id", "member_id", "date", "reason_code", "staff_id", "activity", "method"
        )
        .to_pyarrow()
    )
    return lines, previous_with_reasons(refused, contract)


def previous_with_reasons(refused: pa.Table, contract: Contract) -> pa.Table:
    reason = refused["reason_code"]

    def only_for(name: str, *reasons: ReasonCode) -> pa.ChunkedArray:
        text = pc.fill_null(refused[name].cast(pa.string()), "")
        return pc.if_else(pc.is_in(reason, pa.array([r.value for r in reasons])), text, "")

    parts = [
        reason,
        only_for("date", ReasonCode.NOT_ELIGIBLE, ReasonCode.NOT_ENROLLED, ReasonCode.NO_ROLE),
        only_for("staff_id", ReasonCode.NO_ROLE),
        only_for("activity", ReasonCode.NOT_REIMBURSABLE),
        only_for("method", ReasonCode.MASS_COMMUNICATION, ReasonCode.NOT_REIMBURSABLE),
    ]
    key = pc.binary_join_element_wise(*parts, ID_SEPARATOR)
    distinct = pc.unique(key)
    sentences = []
    for text in distinct.to_pylist():
        code, on, staff_id, activity, method = text.split(ID_SEPARATOR)
        described = contract.activities.get(activity) if activity else None
        sentences.append(
            explain(
                ReasonCode(code),
                on=date.fromisoformat(on) if on else date.min,
                staff_id=staff_id,
                activity=activity or None,
                activity_description=described.description if described else None,
                method=method or None,
            )
        )
    sentence = pc.take(pa.array(sentences, pa.string()), pc.index_in(key, value_set=distinct))
    table = refused.select(["source", "id", "member_id", "date", "reason_code"]).append_column(
        "reason", sentence
    )
    return table.sort_by([(name, "ascending") for name in ("member_id", "date", "source", "id")])


def previous_lines_for_output(lines: pa.Table, period: Period, *, flat: bool) -> pa.Table:
    lines = lines.sort_by(
        [
            (name, "ascending")
            for name in ("member_id", "kind", "code", "modifiers", "first_date", "source_ids")
        ]
    )
    modifiers = pc.if_else(
        pc.equal(lines["modifiers"], ""),
        pa.scalar([], pa.list_(pa.string())),
        pc.split_pattern(lines["modifiers"], MODIFIER_SEPARATOR),
    )
    ids = previous_sorted_lists(pc.split_pattern(lines["source_ids"], ID_SEPARATOR))
    if flat:
        modifiers = pc.binary_join(modifiers, " ")
        ids = pc.binary_join(ids, " ")
    listed = {"modifiers": modifiers, "source_ids": ids}
    columns = {"period": pa.array([str(period)] * lines.num_rows, pa.string())}
    columns.update({name: listed.get(name, lines[name]) for name in lines.column_names})
    return pa.table(columns)


def previous_sorted_lists(lists: pa.ChunkedArray) -> pa.ListArray:
    combined = lists.combine_chunks()
    items = pc.list_flatten(combined)
    order = pc.sort_indices(
        pa.table({"list": pc.list_parent_indices(combined), "item": items}),
        sort_keys=[("list", "ascending"), ("item", "ascending")],
    )
    return pa.ListArray.from_arrays(combined.offsets, items.take(order))


def previous_files(folder: Path, contract: Contract, out: Path) -> None:
    lines, refused = rate_checked(
        folder,
        PERIOD,
        contract,
        lambda _, inputs: previous_rate_to_arrow(inputs, PERIOD, contract),
        engine="duckdb",
        spark_master=None,
        status=None,
    )
    shaped = previous_lines_for_output(lines, PERIOD, flat=out.suffix == ".csv")
    for table, target in ((shaped, out), (refused, not_billed_path(out))):
        if target.suffix == ".parquet":
            pq.write_table(table, target)
        else:
            write_arrow_csv(table, target)


# -- the comparison -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def month() -> PlanMonth:
    """A small month with every reason not to bill, nine entries in ten approved."""
    generated = generate(3_000, PERIOD, seed=19)
    approved = np.random.default_rng(19).random(generated.time.num_rows) < 0.9
    return dataclasses.replace(
        generated,
        time=generated.time.append_column("approved", pa.array(approved, pa.bool_())),
    )


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("contract", [default_contract(), APPROVING], ids=["plain", "approving"])
def test_the_fast_path_writes_the_files_the_previous_path_wrote(
    month: PlanMonth, fmt: str, contract: Contract, tmp_path: Path
) -> None:
    folder = tmp_path / "source"
    write(month, folder, fmt=fmt)
    before, after = tmp_path / f"before.{fmt}", tmp_path / f"after.{fmt}"
    previous_files(folder, contract, before)
    written = rate_folder_to_file(folder, PERIOD, contract, after)

    for old, new in ((before, after), (not_billed_path(before), not_billed_path(after))):
        if fmt == "csv":
            assert new.read_bytes() == old.read_bytes()
        else:
            expected, actual = pq.read_table(old), pq.read_table(new)
            assert actual.schema == expected.schema
            assert actual.equals(expected)
    refused = pq.read_table(not_billed_path(after)) if fmt == "parquet" else None
    # NO_PLAN only in an office with several plans, NOT_APPROVED only under require_approval.
    expected_reasons = (
        set(ReasonCode)
        - {ReasonCode.NO_PLAN}
        - (set() if contract.require_approval else {ReasonCode.NOT_APPROVED})
    )
    if refused is not None:
        assert set(refused["reason_code"].to_pylist()) == {r.value for r in expected_reasons}
        lines = pq.read_table(after)
        assert written.line_count == lines.num_rows > 0
        assert written.units == pc.sum(lines["units"]).as_py()
        assert written.not_billed_count == refused.num_rows
        # Ids of a line are sorted, and some line has several.
        assert any(len(ids) > 1 for ids in lines["source_ids"].to_pylist())


def test_outreach_lines_tie_on_every_key_but_the_id_in_the_month_compared() -> None:
    """The lines are ordered by an outreach line's id only after every other key: the month
    compared above must hold such ties, or the last key would go untested."""
    generated = generate(3_000, PERIOD, seed=19)
    outreach = generated.outreach.group_by(["staff_id", "member_id", "date"]).aggregate(
        [("attempt_id", "count")]
    )
    assert pc.max(outreach["attempt_id_count"]).as_py() > 1


# -- the file checks refuse a folder with the words of the previous checks ------------------------
#
# Some checks changed how they look, not what they find: repeated ids are grouped by a hash
# first (then by the id, among the rows whose hash is shared), and on DuckDB not at all when
# the hashes, sorted, all differ; the clock-time overlap is left out of a time file without
# both clock columns; a staff id the staff file holds (fine by its own check) and an activity
# of the contract's catalogue are not matched against the identifier pattern again. The
# previous checks are restated here (plain grouping by the id, always; the overlap always
# checked; every cell matched against its pattern) and must refuse each folder with the same
# message: the same files, counts, problems, columns and example ids.

TIME_HEADER = "entry_id,staff_id,member_id,date,minutes,activity,modality"
CLOCK_HEADER = "entry_id,staff_id,member_id,date,start_time,end_time,activity,modality"


def _previous_repeated_ids(path: Path, read: ir.Table, column: str, what: str) -> ir.Table:
    ids = file_checks._text(read[column])
    return file_checks._repeated(path, read, {column: ids}, what, quote=True)


def _refusal(folder: Path, tmp_path: Path) -> str:
    """The whole message with which rating ``folder`` is refused."""
    with pytest.raises(SourceProblem) as refused:
        rate_folder_to_file(folder, PERIOD, default_contract(), tmp_path / "x.parquet")
    return str(refused.value)


def _bad_month(
    fmt: str, tmp_path: Path, time: str, outreach_ids: list[str], staff_ids: tuple[str, ...] = ()
) -> Path:
    """A small clean folder (the generated month's other files) with ``time`` as the time file,
    the outreach file's attempt ids replaced by ``outreach_ids`` and the staff file's staff ids
    by ``staff_ids`` (first rows)."""
    month = generate(300, PERIOD, seed=7)
    staff = month.staff["staff_id"].to_pylist()
    staff[: len(staff_ids)] = staff_ids
    month = dataclasses.replace(
        month,
        staff=month.staff.set_column(
            month.staff.schema.get_field_index("staff_id"), "staff_id", pa.array(staff, pa.string())
        ),
    )
    attempts = month.outreach["attempt_id"].to_pylist()
    attempts[: len(outreach_ids)] = outreach_ids
    month = dataclasses.replace(
        month,
        outreach=month.outreach.set_column(
            month.outreach.schema.get_field_index("attempt_id"),
            "attempt_id",
            pa.array(attempts, pa.string()),
        ),
    )
    folder = tmp_path / f"bad-{fmt}-{len(list(tmp_path.iterdir()))}"
    write(month, folder, fmt=fmt)
    (folder / f"time.{fmt}").unlink()
    rows = list(csv.reader(io.StringIO(time)))
    if fmt == "csv":
        (folder / "time.csv").write_text(time, encoding="utf-8")
    else:
        table = pa.table(
            {name: [row[i] or None for row in rows[1:]] for i, name in enumerate(rows[0])}
        )
        if "minutes" in table.column_names:
            table = table.set_column(
                table.schema.get_field_index("minutes"), "minutes", table["minutes"].cast("int64")
            )
        pq.write_table(table, folder / "time.parquet")
    return folder


# The staff file's first staff ids, replaced.
BAD_STAFF = {"bad staff ids and activities, in the other file and not": ("S 9", "S000002")}

BAD_TIME = {
    "repeated ids, blank ids": (
        f"{TIME_HEADER}\n"
        "T1,S000001,91234567A,2026-10-02,25,assessment,in_person\n"
        "T1,S000001,91234567A,2026-10-03,25,assessment,in_person\n"
        "T1,S000001,91234567A,2026-10-04,25,assessment,in_person\n"
        "T2,S000001,91234567A,2026-10-04,25,assessment,in_person\n"
        "T2,S000002,91234567A,2026-10-05,25,assessment,in_person\n"
        ",S000001,91234567A,2026-10-05,25,assessment,in_person\n"
        ",S000001,91234567A,2026-10-06,25,assessment,in_person\n"
        "T3,S000001,91234567A,2026-10-06,25,assessment,in_person\n"
    ),
    "many entries of one staff member's day, no clock times": (
        f"{TIME_HEADER}\n"
        + "".join(
            f"T{n},S000001,91234567A,2026-10-02,{n + 5},assessment,in_person\n" for n in range(1, 9)
        )
        + "T3,S000001,91234567A,2026-10-02,7,assessment,in_person\n"
    ),
    "overlapping clock times": (
        f"{CLOCK_HEADER}\n"
        "T1,S000001,91234567A,2026-10-02,09:00,10:00,assessment,in_person\n"
        "T2,S000001,91234567A,2026-10-02,09:30,09:45,assessment,in_person\n"
        "T3,S000001,91234567A,2026-10-02,10:00,10:30,assessment,in_person\n"
        "T4,S000002,91234567A,2026-10-02,09:00,10:00,assessment,in_person\n"
        "T4,S000002,91234567A,2026-10-03,09:00,10:00,assessment,in_person\n"
    ),
    # "S 9" is bad in the staff file too (so not known), "S 8" is in no other file, "S000001"
    # and "S000003" are staff ids of the staff file, "S999999" is fine but of nobody. Activities:
    # of the catalogue, not of it but fine (not reimbursable, no problem), and badly written.
    "bad staff ids and activities, in the other file and not": (
        f"{TIME_HEADER}\n"
        "T1,S 9,91234567A,2026-10-02,25,assessment,in_person\n"
        "T2,S 8,91234567A,2026-10-03,25,Assessment,in_person\n"
        "T3,S000001,91234567A,2026-10-04,25,assessment ,in_person\n"
        "T4,S999999,91234567A,2026-10-04,25,not_in_the_catalogue,in_person\n"
        "T5,=S1,91234567A,2026-10-05,25,travel,in_person\n"
        "T6,S000003,91234567A,2026-10-05,25,=travel,in_person\n"
        "T7,S000003,91234567A,2026-10-05,25, travel,in_person\n"
        "T8,S000001,91234567A,2026-10-05,25,TRAVEL,in_person\n"
    ),
    "a clock column without the other": (
        "entry_id,staff_id,member_id,date,minutes,start_time,activity,modality\n"
        "T1,S000001,91234567A,2026-10-02,60,09:00,assessment,in_person\n"
        "T2,S000001,91234567A,2026-10-02,60,09:30,assessment,in_person\n"
    ),
}


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("case", sorted(BAD_TIME))
def test_the_checks_refuse_a_folder_with_the_previous_checks_words(
    case: str, fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _bad_month(
        fmt, tmp_path, BAD_TIME[case], ["O1", "O1", "O2", "O2", "O2", "O3"], BAD_STAFF.get(case, ())
    )

    now = _refusal(folder, tmp_path)
    with monkeypatch.context() as previous:
        previous.setattr(file_checks, "_repeated_ids", _previous_repeated_ids)
        previous.setattr(file_checks, "_has_clock_times", lambda _: True)
        previous.setattr(file_checks, "_ids_distinct", lambda *_: False)
        previous.setattr(file_checks, "_known_values", lambda *_: {})
        before = _refusal(folder, tmp_path)
    assert now == before
    assert f"outreach.{fmt}: 2 row(s): attempt_id(s) used more than once" in now
    if case == "repeated ids, blank ids":
        # T1, T2 and the blank ids.
        assert f"time.{fmt}: 3 row(s): entry_id(s) used more than once (e.g. T1)" in now
    if case == "overlapping clock times":
        assert "time entries with " in now
    if case == "bad staff ids and activities, in the other file and not":
        # A row's first problem counts: T2's staff id, not its activity.
        assert f"staff.{fmt}: 1 row(s): staff_id must not contain spaces (e.g. S 9)" in now
        assert f"time.{fmt}: 2 row(s): staff_id must not contain spaces (e.g. T1)" in now
        assert f"time.{fmt}: 1 row(s): staff_id looks like a spreadsheet formula" in now
        assert f"time.{fmt}: 1 row(s): activity looks like a spreadsheet formula" in now
        assert (
            f"time.{fmt}: 3 row(s): activity must be written in lower case without spaces "
            "in a file to rate (e.g. T3)"
        ) in now


def test_repeated_ids_found_through_the_hash_are_those_grouping_by_the_id_finds(
    tmp_path: Path,
) -> None:
    """On many ids, some repeated, a few blank, as text and as numbers."""
    rng = np.random.default_rng(3)
    numbers = rng.integers(0, 40_000, 50_000)
    texts = pa.array([f"T{n}" if n % 97 else None for n in numbers], pa.string())
    for ids in (texts, pa.array(numbers, pa.int64())):
        pq.write_table(pa.table({"entry_id": ids}), tmp_path / "ids.parquet")
        con = ibis.duckdb.connect()
        read = con.read_parquet(str(tmp_path / "ids.parquet"))
        path = Path("time.parquet")
        found = file_checks._repeated_ids(path, read, "entry_id", "again").to_pyarrow()
        expected = _previous_repeated_ids(path, read, "entry_id", "again").to_pyarrow()
        assert found.equals(expected)
        assert found["rows"][0].as_py() > 1000
        assert not file_checks._ids_distinct(read, "entry_id")
        con.disconnect()


@pytest.mark.parametrize("kind", ["text", "number"])
def test_ids_are_proven_distinct_only_when_no_id_repeats(kind: str, tmp_path: Path) -> None:
    """``_ids_distinct`` says yes only when grouping by the id finds no repeat: on 50,000
    distinct ids (one blank among the text), and on the same with one id, or one more
    blank, repeated."""
    numbers = list(np.random.default_rng(5).permutation(50_000))
    con = ibis.duckdb.connect()

    def distinct(ids: list[object]) -> bool:
        values = [(f"T{n}" if n is not None else None) for n in ids] if kind == "text" else ids
        path = tmp_path / f"ids-{len(list(tmp_path.iterdir()))}.parquet"
        pq.write_table(pa.table({"entry_id": values}), path)
        read = con.read_parquet(str(path))
        previous = _previous_repeated_ids(Path("t"), read, "entry_id", "again").to_pyarrow()
        assert file_checks._ids_distinct(read, "entry_id") == (previous["rows"][0].as_py() == 0)
        return file_checks._ids_distinct(read, "entry_id")

    blank: list[object] = [None] if kind == "text" else []
    assert distinct([*numbers, *blank])
    assert not distinct([*numbers, numbers[123], *blank])
    if kind == "text":
        assert not distinct([*numbers, None, None])
    con.disconnect()


def _previous_conflicting(path: Path, table: ir.Table) -> ir.Table:
    keys = [key for key in ("member_id", "month", "plan") if key in table.columns]
    grouped = table.group_by(*keys).aggregate(values=table.eligible.nunique())
    clash = grouped.filter(grouped["values"] > 1)
    return file_checks._finding(
        path,
        "member-month(s) both eligible and not eligible",
        clash.aggregate(rows=clash.count(), example=file_checks._no_example()),
    )


@pytest.mark.parametrize("with_plan", [False, True])
def test_conflicting_eligibility_is_found_as_counting_distinct_values_found_it(
    with_plan: bool,
) -> None:
    """Member-months given as eligible and as not eligible: "some true and not all true"
    finds the groups that counting the distinct values found, blanks aside, with and without
    a plan column."""
    rng = np.random.default_rng(11)
    size = 20_000
    columns: dict[str, object] = {
        "member_id": [f"9{n:07d}A" for n in rng.integers(0, 800, size)],
        "month": [f"2026-{m:02d}" for m in rng.integers(8, 11, size)],
        "eligible": pa.array(
            [(None if n == 2 else bool(n)) for n in rng.integers(0, 3, size)], pa.bool_()
        ),
    }
    if with_plan:
        columns["plan"] = [("a", "b")[n] for n in rng.integers(0, 2, size)]
    table = ibis.memtable(pa.table(columns))
    path = Path("eligibility.parquet")
    found = file_checks._conflicting(path, table).to_pyarrow()
    expected = _previous_conflicting(path, table).to_pyarrow()
    assert found.equals(expected)
    assert 0 < found["rows"][0].as_py() < 800 * 3 * 2


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_folder_with_conflicting_eligibility_is_refused_with_the_previous_words(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    month = generate(300, PERIOD, seed=7)
    rows = month.eligibility.slice(0, 4).to_pylist()
    flipped = [{**row, "eligible": not row["eligible"]} for row in rows[:3]]
    blank = [{**rows[3], "eligible": None}]
    eligibility = pa.concat_tables(
        [month.eligibility, pa.Table.from_pylist(flipped + blank, month.eligibility.schema)]
    )
    folder = tmp_path / fmt
    write(dataclasses.replace(month, eligibility=eligibility), folder, fmt=fmt)

    now = _refusal(folder, tmp_path)
    with monkeypatch.context() as previous:
        previous.setattr(file_checks, "_conflicting", _previous_conflicting)
        before = _refusal(folder, tmp_path)
    assert now == before
    assert f"eligibility.{fmt}: 3 row(s): member-month(s) both eligible and not eligible" in now


# -- the rating's inputs, read without the checks' problem column --------------------------------


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("plans", [1, 2], ids=["one-plan", "two-plans"])
def test_the_rating_reads_the_checked_values_without_the_problem_column(
    fmt: str, plans: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rating's inputs are each file's ``Checked.values``; before, they were its checked
    table (with ``problem``) less that column. Both readings give the same rows, the plan
    filled in as the checks fill it, for every file of a folder of one plan and of two."""
    from ecmbill.demo.plan_scale import two_plan_contracts

    folder = tmp_path / "source"
    generated = generate(2_000, PERIOD, seed=23, two_plans=plans == 2)
    if plans == 2:
        # Some eligibility rows of the first plan say no plan (the checks fill it in).
        eligibility = generated.eligibility
        plan = eligibility["plan"]
        blank = pc.and_(pc.equal(plan, "default"), pa.array(np.arange(len(plan)) % 3 == 0))
        generated = dataclasses.replace(
            generated,
            eligibility=eligibility.set_column(
                eligibility.schema.get_field_index("plan"),
                "plan",
                pc.if_else(blank, pa.scalar(None, pa.string()), plan),
            ),
        )
    write(generated, folder, fmt=fmt)
    contracts = two_plan_contracts() if plans == 2 else default_contract()
    seen: dict[str, file_checks.Checked] = {}
    known_plans = file_checks._known_plans

    def spy(checked: dict[str, file_checks.Checked], keys: list[str]) -> None:
        known_plans(checked, keys)
        seen.update(checked)

    def compare(_: object, inputs: RatingInputs) -> None:
        assert set(seen) == {"time", "outreach", "staff", "eligibility", "enrollments"} | (
            {"plan_assignments"} if plans == 2 else set()
        )
        for checked in seen.values():
            before = checked.table.drop("problem").to_pyarrow()
            after = checked.values.to_pyarrow()
            assert after.schema == before.schema
            keys = [(name, "ascending") for name in before.column_names]
            assert after.sort_by(keys).equals(before.sort_by(keys))
            assert after.num_rows > 0
        assert inputs.time_entries.count().to_pyarrow().as_py() == generated.time.num_rows

    monkeypatch.setattr(file_checks, "_known_plans", spy)
    rate_checked(
        folder, PERIOD, contracts, compare, engine="duckdb", spark_master=None, status=None
    )
