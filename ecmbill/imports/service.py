"""Import one file of an import kind through the batch pipeline (``ecmbill.imports.batch``),
or one row typed in a form through exactly the same checks."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from ecmbill.contract import Contract
from ecmbill.domain.period import Period
from ecmbill.domain.plans import PlanSpan
from ecmbill.imports.batch import (
    Accepted,
    BatchReading,
    Counts,
    Importer,
    ImportResult,
    Progress,
    Row,
    RowReader,
    import_table,
)
from ecmbill.imports.kinds import (
    IMPORT_KINDS,
    KINDS,
    PLAN_ASSIGNMENTS,
    Context,
    Kind,
    Options,
    WorkKind,
    context,
)
from ecmbill.imports.reading import FileProblem, RawTable
from ecmbill.members.corrections import correction_notes
from ecmbill.store import models, records
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import Engine, Session, unit_of_work


def import_file(
    engine: Engine,
    kind_name: str,
    path: Path,
    contract: Contract,
    *,
    actor: str,
    today: date | None = None,
    progress: Progress | None = None,
    options: Options = Options(),
) -> ImportResult:
    kind = IMPORT_KINDS[kind_name]
    if options.replace_period is not None and not isinstance(kind, WorkKind):
        raise ValueError("--replace-period is for time and outreach files")
    prepared = _Prepared(kind, contract, today, options)
    complete_only = None
    if options.replace_period is not None:
        complete_only = (
            f"with --replace-period the file is the complete record of {options.replace_period}"
            ": fix the rejected rows and import it again"
        )
    importer = Importer(
        kind=kind.name,
        fields_of=lambda table: _normalise_header(table, kind),
        reader=prepared.reader,
        repeated=lambda cells: (kind.key_columns[0], kind.hint_for_duplicate(cells)),
        write=lambda session, rows, batch_id: _write(
            session, kind, rows, actor, batch_id, options, f"{path.name}"
        ),
        check=lambda session, rows: kind.check_rows(rows, session, prepared.ctx(session)),
        group=lambda row: row.values[kind.group_column],
        again=kind.again,
        distinct_rows=options.distinct_rows,
        complete_only=complete_only,
        batch=prepared.batch if _READ_IN_BATCHES else None,
    )
    with _without_gc_pauses():
        return import_table(engine, path, importer, actor=actor, progress=progress)


class _Prepared:
    """What every row of one file is read against (the roster, the contract), read once."""

    def __init__(
        self, kind: Kind, contract: Contract, today: date | None, options: Options
    ) -> None:
        self.kind, self.contract, self.today, self.options = kind, contract, today, options
        self._ctx: Context | None = None

    def ctx(self, session: Session) -> Context:
        if self._ctx is None:
            self._ctx = context(session, self.contract, self.today, self.options)
        return self._ctx

    def reader(self, session: Session) -> RowReader:
        ctx = self.ctx(session)
        return lambda cells: self.kind.parse(cells, ctx)

    def batch(self, session: Session) -> BatchReading:
        ctx = self.ctx(session)
        return BatchReading(
            check=self.kind.batch_reader(ctx),
            read=lambda cells, given: self.kind.parse(cells, ctx, given),
        )


# Whether rows are checked a batch at a time (``imports.vectorised``) before each is read;
# off, every row is read alone by the declaration: the tests compare the two.
_READ_IN_BATCHES = True


@contextmanager
def _without_gc_pauses() -> Iterator[None]:
    """A large file is millions of small objects that hold no reference cycles; the cyclic
    collector would walk all of them again and again while they pile up (a fifth of the time of
    a 200,000-row import). Reference counting frees the rows; the cycles the database
    library leaves are collected part by part (``batch._collect_cycles``). The collector is switched
    back on afterwards even if something else had switched it off: leaving it off for good
    would be the worse mistake."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def record_row(
    engine: Engine,
    kind_name: str,
    row: dict[str, str],
    contract: Contract,
    *,
    actor: str,
    today: date | None = None,
) -> Row:
    """One row typed in a form, through exactly the checks of an imported file (``parse`` and
    ``check_rows``) and written with the same audit records. Raises ``RowReject`` with the
    column and reason when the row is refused; nothing is written then."""
    kind = KINDS[kind_name]
    with unit_of_work(engine) as session:
        ctx = context(session, contract, today)
        parsed = kind.parse(row, ctx)
        for _, reject in kind.check_rows([parsed], session, ctx):
            raise reject
        _write(session, kind, Accepted.of([parsed]), actor, None, Options(), "a form")
    return parsed


def _normalise_header(table: RawTable, kind: Kind) -> tuple[str, ...]:
    header = tuple(name.strip().lower() for name in table.header)
    if any(not name for name in header):
        raise FileProblem("the header row has an empty column name")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise FileProblem(f"column(s) named twice: {', '.join(repeated)}")
    problem = kind.header_problem(set(header))
    if problem:
        raise FileProblem(f"{problem} (columns for {kind.name}: {_columns_of(kind)})")
    return header


def _columns_of(kind: Kind) -> str:
    optional = [f"{name} (optional)" for name in sorted(kind.optional)]
    return ", ".join(sorted(kind.required) + optional)


def _write(
    session: Session,
    kind: Kind,
    rows: Accepted,
    actor: str,
    batch_id: int | None,
    options: Options,
    file_name: str,
) -> Counts:
    """Delete what rows delete, correct what they correct, then insert new rows, update
    changed ones and leave identical ones alone; every change audited, a deletion or
    correction with its reason. The rows are read chunk by chunk (``Accepted``), once per
    step."""
    if kind is PLAN_ASSIGNMENTS:
        return _assign_plans(session, rows, actor)
    counts = Counts()
    if kind.name == "staff":
        people = {row.extra["staff_id"]: row.extra for chunk in rows.chunks() for row in chunk}
        records.upsert(
            session,
            models.Staff,
            ("staff_id",),
            [((sid,), values) for sid, values in people.items()],
            actor,
            "staff",
        )
    if rows.corrections:
        for chunk in rows.chunks(keep_notes=True):
            for row in chunk:
                if row.delete:
                    why = f"action delete in {file_name}, line {row.line}"
                    counts.deleted += _correct(session, kind, row.key, None, actor, why, row)
                elif row.replaces is not None:
                    why = f"{kind.replaces_column} in {file_name}, line {row.line}"
                    counts.updated += _correct(
                        session, kind, row.replaces, row.values, actor, why, row
                    )
    period = options.replace_period
    if period is not None:
        assert isinstance(kind, WorkKind)
        for record_id in _not_in_file(session, kind, rows, period):
            why = f"not in {file_name}, imported with --replace-period {period}"
            counts.deleted += _correct(session, kind, (record_id,), None, actor, why, None)
    with_batch = hasattr(kind.model, "import_batch_id")
    recorded = [0]

    def stored() -> Iterator[list[records.Record]]:
        recorded[0] = 0
        for chunk in rows.recorded({"import_batch_id": batch_id} if with_batch else None):
            recorded[0] += len(chunk)
            yield chunk

    written = records.upsert_streamed(
        session,
        kind.model,
        kind.key_columns,
        stored,
        actor,
        kind.name,
        # Every time entry or outreach attempt names the same columns (the declaration's).
        keys=rows.recorded_keys if isinstance(kind, WorkKind) else None,
    )
    counts.added = written.added
    counts.updated += len(written.updated)
    counts.unchanged = recorded[0] - written.changed
    return counts


def _assign_plans(session: Session, rows: Accepted, actor: str) -> Counts:
    """Each row gives its member that plan on its days (``store.plans.assign``: a stored span
    that said otherwise of them is cut back around it, audited). A member's rows are applied
    in date order; a row the store already says is unchanged, so a re-import changes nothing."""
    counts = Counts()
    spans = sorted(
        (
            PlanSpan(row.values["member_id"], row.values["plan"], row.values["start_date"],
                     row.values["end_date"])
            for chunk in rows.chunks()
            for row in chunk
        ),
        key=lambda span: (span.member_id, span.start),
    )  # fmt: skip
    for span in spans:
        if stored_plans.assign(session, span, actor):
            counts.added += 1
        else:
            counts.unchanged += 1
    return counts


def _correct(
    session: Session,
    kind: Kind,
    key: tuple[object, ...],
    values: dict[str, object] | None,
    actor: str,
    reason: str,
    row: Row | None,
) -> int:
    """Delete (``values`` None) or correct the stored record with ``key``; 1 when it was."""
    match = dict(zip(kind.key_columns, key, strict=True))
    before = records.correct_row(
        session, kind.model, match, values, actor=actor, entity=kind.name,
        key=kind.entity_key(key), reason=reason,
    )  # fmt: skip
    if before is None:
        return 0
    if row is not None and not isinstance(kind, WorkKind):
        row.notes.extend(correction_notes(session, kind.name, before, values))
    return 1


def _not_in_file(session: Session, kind: WorkKind, rows: Accepted, period: Period) -> list[str]:
    """The stored records of the month, of the staff the file covers, that it does not hold."""
    in_file = {row.key[0] for chunk in rows.chunks() for row in chunk}
    staff = {row.values["staff_id"] for chunk in rows.chunks() for row in chunk}
    stored = records.work_of(session, kind.model, staff, period.start, period.end)
    return sorted({record[kind.id_column] for record in stored} - in_file)
