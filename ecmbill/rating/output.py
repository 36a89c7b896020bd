"""Writing a rating to files: the claim lines to ``--out`` and the entries that do not bill,
with their reasons, beside it.

The month is classified once, kept by the engine (``engines.kept``: a temporary table in
DuckDB; Spark classifies again for each query), and both files are taken from it by queries
that do the rest in the engine too: source ids and modifiers split into sorted lists (or
joined with spaces for CSV), the reason sentence joined on from the few distinct values it
depends on, the rows put in order. What comes back is Arrow, written as it is: no Python
object per entry. Columns pass through by name, so a column the rating gains is written
without a change here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from ibis.backends import BaseBackend

from ecmbill.contract import Contract
from ecmbill.contract.plans import PlanContracts, as_plans
from ecmbill.domain.period import Period
from ecmbill.domain.reasons import ReasonCode, explain
from ecmbill.domain.vocabulary import Kind
from ecmbill.rating.engines import kept
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

# The order of each file's rows (every key is never null in a rated month).
LINE_ORDER = ("member_id", "plan", "kind", "code", "modifiers", "first_date")
NOT_BILLED_ORDER = ("member_id", "date", "source", "id")
# Columns of a classified entry the not-billed file keeps, before the reason sentence.
NOT_BILLED_COLUMNS = ("source", "id", "member_id", "date", "reason_code")
# The parts of an entry a reason's sentence reads, and the reasons that read each: a part the
# sentence does not use is left out of its key, so that, e.g., every "not eligible in 2026-10"
# shares one sentence whoever the staff member was.
SENTENCE_PARTS: dict[str, tuple[ReasonCode, ...]] = {
    "date": (ReasonCode.NOT_ELIGIBLE, ReasonCode.NOT_ENROLLED, ReasonCode.NO_ROLE),
    "staff_id": (ReasonCode.NO_ROLE,),
    "activity": (ReasonCode.NOT_REIMBURSABLE,),
    "method": (ReasonCode.MASS_COMMUNICATION, ReasonCode.NOT_REIMBURSABLE),
    # An activity is described as the plan of the day describes it (the first plan's words
    # when there is no plan).
    "plan": (ReasonCode.NOT_REIMBURSABLE,),
}


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
    with their reasons, to ``NAME.not_billed.EXT`` beside it."""
    if out.suffix not in SUFFIXES:
        raise SourceProblem(f"--out must end in .parquet or .csv, not {out.suffix or 'nothing'}")
    if not out.parent.is_dir():
        raise SourceProblem(f"--out: the folder {out.parent} does not exist")
    say = status or (lambda _: None)
    return rate_checked(
        folder,
        period,
        contract,
        lambda con, inputs: write_rating(con, inputs, period, contract, out, say),
        engine=engine,
        spark_master=spark_master,
        status=status,
    )


def write_rating(
    con: BaseBackend,
    inputs: RatingInputs,
    period: Period,
    contract: Contract | PlanContracts,
    out: Path,
    say: Status,
) -> Written:
    """Classify the month once, keep it in the engine, and write both files from it."""
    with kept(con, classify(inputs, period.start, period.end, contract)) as classified:
        lines = lines_for_output(
            billable_lines(classified),
            period,
            flat=out.suffix == ".csv",
            lists_after_order=con.name == "duckdb",
        )
        lines_table = lines.to_pyarrow()
        refused = not_billed_for_output(classified, contract).to_pyarrow()
    say("writing the results")
    _write_atomically(lines_table, out)
    _write_atomically(refused, not_billed_path(out))
    return Written(
        lines=out,
        not_billed=not_billed_path(out),
        line_count=lines_table.num_rows,
        units=int(pc.sum(lines_table["units"]).as_py() or 0),
        not_billed_count=refused.num_rows,
    )


def lines_for_output(
    lines: ir.Table, period: Period, *, flat: bool, lists_after_order: bool = False
) -> ir.Table:
    """The period first, then every column of the lines; modifiers and source ids as lists
    (Parquet) or space-separated text (CSV), the ids sorted (group_concat gathers them in no
    particular order). Ordered by member, kind, code, modifiers as written, first date, ids.

    ``lists_after_order`` (DuckDB): the lists are made from the ordered rows rather than
    carried through the sort (DuckDB keeps a subquery's order through a projection; sorting
    rows that hold the lists cost it about half a CPU-second more at 5 M entries)."""
    # Last, an outreach line's id: only outreach lines can tie on the keys before (a service
    # line is one per member, plan, kind, code and modifiers), and each holds one id. Service
    # lines sort on no id at all (ordering by their gathered ids cost DuckDB a sort key as
    # long as the ids; by the sorted list, a second more).
    tie = (lines.kind == Kind.OUTREACH.value).ifelse(lines.source_ids, ibis.null("string"))
    keys = [*(lines[name] for name in LINE_ORDER), tie]
    ordered = lines.order_by([ibis.asc(key, nulls_first=False) for key in keys])
    if lists_after_order:
        ordered = ordered.view()
    ids = ordered.source_ids.split(ID_SEPARATOR).sort()
    modifiers = (ordered.modifiers == "").ifelse(
        ibis.literal([], type="array<string>"), ordered.modifiers.split(MODIFIER_SEPARATOR)
    )
    listed = {"modifiers": modifiers, "source_ids": ids}
    if flat:
        listed = {name: value.join(" ") for name, value in listed.items()}
    return ordered.select(
        period=ibis.literal(str(period)),
        **{name: listed.get(name, ordered[name]) for name in lines.columns},
    )


def not_billed_for_output(classified: ir.Table, contract: Contract | PlanContracts) -> ir.Table:
    """The entries that do not bill, with the reason sentence, in order. A sentence is worked
    out once per distinct set of the values it reads (a few thousand at most), in Python, and
    joined on by the engine."""
    refused = classified.filter(classified.reason_code.notnull())
    keyed = refused.select(
        *NOT_BILLED_COLUMNS,
        **{f"k_{part}": _part(refused, part) for part in SENTENCE_PARTS},
    )
    key_names = ["reason_code", *(f"k_{part}" for part in SENTENCE_PARTS)]
    distinct = keyed.select(*key_names).distinct().to_pyarrow().to_pylist()
    sentences = ibis.memtable(
        {
            **{f"s_{name}": [row[name] for row in distinct] for name in key_names},
            "reason": [_sentence(row, contract) for row in distinct],
        },
        schema={**{f"s_{name}": "string" for name in key_names}, "reason": "string"},
    )
    joined = keyed.left_join(
        sentences, [keyed[name] == sentences[f"s_{name}"] for name in key_names]
    )
    ordered = joined.order_by([ibis.asc(joined[n], nulls_first=False) for n in NOT_BILLED_ORDER])
    return ordered.select(*NOT_BILLED_COLUMNS, "reason")


def _part(refused: ir.Table, part: str) -> ir.StringValue:
    """The part as text when the entry's reason reads it, else empty (never null: the
    sentences are joined on these)."""
    reads = refused.reason_code.isin([reason.value for reason in SENTENCE_PARTS[part]])
    return reads.ifelse(refused[part].cast("string"), "").fill_null("")


def _sentence(key: dict[str, str], contracts: Contract | PlanContracts) -> str:
    plans = as_plans(contracts)
    plan = key["k_plan"]
    contract = plans[plan] if plan in plans.contracts else plans[plans.first]
    activity = key["k_activity"]
    described = contract.activities.get(activity) if activity else None
    on = key["k_date"]
    return explain(
        ReasonCode(key["reason_code"]),
        # explain() reads the date only for the reasons whose key holds one.
        on=date.fromisoformat(on) if on else date.min,
        staff_id=key["k_staff_id"],
        activity=activity or None,
        activity_description=described.description if described else None,
        method=key["k_method"] or None,
    )


def _plain(table: pa.Table) -> pa.Table:
    """Every column nullable and lists of ``item`` (the layout the files always had, whatever
    field names and nullability the engine reports)."""
    fields = []
    for field in table.schema:
        kind = field.type
        if pa.types.is_list(kind) or pa.types.is_large_list(kind):
            kind = pa.list_(kind.value_type)
        fields.append(pa.field(field.name, kind))
    return table.cast(pa.schema(fields))


def _write_atomically(table: pa.Table, target: Path) -> None:
    """Never half a file, and a CSV formula-safe: see ``ecmbill.store.files``."""
    table = _plain(table)
    if target.suffix == ".parquet":
        write: Callable[[Path], None] = lambda temporary: pq.write_table(table, temporary)  # noqa: E731
        write_atomically(target, write)
    else:
        write_arrow_csv(table, target)
