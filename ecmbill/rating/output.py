"""Writing a rating to files: the claim lines to ``--out`` and the entries that do not bill,
with their reasons, beside it. Stays in Arrow all the way: at plan scale, a Python object per
entry would cost more than the rating."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ecmbill.contract import Contract
from ecmbill.contract.plans import PlanContracts, as_plans
from ecmbill.domain.period import Period
from ecmbill.domain.reasons import ReasonCode, explain
from ecmbill.rating.expression import (
    ID_SEPARATOR,
    MODIFIER_SEPARATOR,
    RatingInputs,
    billable_lines,
    classify,
)
from ecmbill.rating.file_checks import SourceProblem
from ecmbill.rating.files import SUFFIXES, Status, rate_checked
from ecmbill.store.files import write_arrow_csv, write_atomically


@dataclass(frozen=True)
class Written:
    lines: Path
    not_billed: Path
    line_count: int
    units: int
    not_billed_count: int


def not_billed_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}.not_billed{out.suffix}")


def rate_folder_to_file(
    folder: Path,
    period: Period,
    contract: Contract | PlanContracts,
    out: Path,
    *,
    engine: str = "duckdb",
    spark_master: str | None = None,
    status: Status | None = None,
) -> Written:
    """Rate ``period`` and write the claim lines to ``out`` and the entries that do not bill,
    with their reasons, to ``NAME.not_billed.EXT`` beside it. Stays in Arrow all the way: at
    plan scale, a Python object per entry would cost more than the rating."""
    if out.suffix not in SUFFIXES:
        raise SourceProblem(f"--out must end in .parquet or .csv, not {out.suffix or 'nothing'}")
    if not out.parent.is_dir():
        raise SourceProblem(f"--out: the folder {out.parent} does not exist")
    lines, refused = rate_checked(
        folder,
        period,
        contract,
        lambda inputs: rate_to_arrow(inputs, period, contract),
        engine=engine,
        spark_master=spark_master,
        status=status,
    )
    (status or (lambda _: None))("writing the results")
    csv = out.suffix == ".csv"
    _write_atomically(_lines_for_output(lines, period, flat=csv), out)
    _write_atomically(refused, not_billed_path(out))
    return Written(
        lines=out,
        not_billed=not_billed_path(out),
        line_count=lines.num_rows,
        units=int(pc.sum(lines["units"]).as_py() or 0),
        not_billed_count=refused.num_rows,
    )


def rate_to_arrow(
    inputs: RatingInputs, period: Period, contract: Contract | PlanContracts
) -> tuple[pa.Table, pa.Table]:
    """Claim lines and not-billed entries as Arrow tables (the rows ``rate_period`` turns into
    domain values), the not-billed ones with the reason in words."""
    classified = classify(inputs, period.start, period.end, contract)
    lines = billable_lines(classified).to_pyarrow()
    refused = (
        classified.filter(classified.reason_code.notnull())
        .select(
            "source",
            "id",
            "member_id",
            "date",
            "reason_code",
            "staff_id",
            "activity",
            "method",
            "plan",
        )
        .to_pyarrow()
    )
    return lines, _with_reasons(refused, contract)


def _with_reasons(refused: pa.Table, contracts: Contract | PlanContracts) -> pa.Table:
    """The reason sentence of each refused entry, computed once per distinct set of the values
    it depends on (a few thousand at most), not once per entry."""
    reason = refused["reason_code"]

    def only_for(name: str, *reasons: ReasonCode) -> pa.ChunkedArray:
        # A part the reason's sentence does not use is left out of the key, so that, e.g.,
        # every "not eligible in 2026-10" shares one sentence whoever the staff member was.
        text = pc.fill_null(refused[name].cast(pa.string()), "")
        return pc.if_else(pc.is_in(reason, pa.array([r.value for r in reasons])), text, "")

    parts = [
        reason,
        only_for("date", ReasonCode.NOT_ELIGIBLE, ReasonCode.NOT_ENROLLED, ReasonCode.NO_ROLE),
        only_for("staff_id", ReasonCode.NO_ROLE),
        only_for("activity", ReasonCode.NOT_REIMBURSABLE),
        only_for("method", ReasonCode.MASS_COMMUNICATION, ReasonCode.NOT_REIMBURSABLE),
        # The activity is described as the plan of the day describes it (the first plan's
        # words when there is no plan).
        only_for("plan", ReasonCode.NOT_REIMBURSABLE),
    ]
    plans = as_plans(contracts)
    key = pc.binary_join_element_wise(*parts, ID_SEPARATOR)
    distinct = pc.unique(key)
    sentences = []
    for text in distinct.to_pylist():
        code, on, staff_id, activity, method, plan = text.split(ID_SEPARATOR)
        contract = plans[plan] if plan in plans.contracts else plans[plans.first]
        described = contract.activities.get(activity) if activity else None
        sentences.append(
            explain(
                ReasonCode(code),
                # explain() reads the date only for the reasons whose key holds one.
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


def _lines_for_output(lines: pa.Table, period: Period, *, flat: bool) -> pa.Table:
    """Modifiers and source ids as lists (Parquet) or space-separated text (CSV)."""
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
    ids = _sorted_lists(pc.split_pattern(lines["source_ids"], ID_SEPARATOR))
    if flat:
        modifiers = pc.binary_join(modifiers, " ")
        ids = pc.binary_join(ids, " ")
    return pa.table(
        {
            "period": pa.array([str(period)] * lines.num_rows, pa.string()),
            "member_id": lines["member_id"],
            "kind": lines["kind"],
            "code": lines["code"],
            "modifiers": modifiers,
            "minutes": lines["minutes"],
            "units": lines["units"],
            "first_date": lines["first_date"],
            "last_date": lines["last_date"],
            "source_ids": ids,
        }
    )


def _sorted_lists(lists: pa.ChunkedArray) -> pa.ListArray:
    """Each list's items in order (group_concat gathers them in no particular order), sorted
    all at once rather than list by list."""
    combined = lists.combine_chunks()
    items = pc.list_flatten(combined)
    order = pc.sort_indices(
        pa.table({"list": pc.list_parent_indices(combined), "item": items}),
        sort_keys=[("list", "ascending"), ("item", "ascending")],
    )
    return pa.ListArray.from_arrays(combined.offsets, items.take(order))


def _write_atomically(table: pa.Table, target: Path) -> None:
    """Never half a file, and a CSV formula-safe: see ``ecmbill.store.files``."""
    if target.suffix == ".parquet":
        write_atomically(target, lambda temporary: pq.write_table(table, temporary))
    else:
        write_arrow_csv(table, target)
