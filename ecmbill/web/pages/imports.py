"""Imports: the provider's own files (staff, members, eligibility, enrollments, time,
outreach), the plan's Member Information File and its 834, uploaded and imported by the same
services as ``ecmbill import``, ``ecmbill exchange import-mif`` and ``import-834``.

An upload is streamed by the form parser into a temporary file (never held whole in memory),
bounded by the size limits of ``ecmbill.imports.reading``, and imported in a worker thread:
a million-row file does not hold up the server, and the page shows the rows read so far.
An import is one transaction, so a file is imported whole (with its rejected rows left out)
or, if it cannot be read, not at all. The rejected rows are kept in the same
``NAME.rejects.csv`` the CLI writes, downloadable by the user who uploaded the file."""

from __future__ import annotations

import atexit
import logging
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ecmbill.contract.plans import PlanContracts
from ecmbill.domain import values as checked
from ecmbill.domain.period import Period
from ecmbill.fieldwork import plans as field_plans
from ecmbill.imports.batch import ImportResult
from ecmbill.imports.kinds import IMPORT_KINDS, Options
from ecmbill.imports.mif import import_mif
from ecmbill.imports.reading import MAX_FILE_BYTES, MAX_X12_BYTES
from ecmbill.imports.service import import_file
from ecmbill.imports.x834 import X834Result, import_834
from ecmbill.store.files import Cell, write_table
from ecmbill.web.accounts import ActiveSession
from ecmbill.web.render import render, safe_file_name
from ecmbill.web.security import actor, form_user, page_user
from ecmbill.web.site import Site, site

router = APIRouter()
log = logging.getLogger("ecmbill.web")

# What each kind of file holds, in the biller's words; the order of a month's imports.
CHOICES: dict[str, str] = {
    "staff": "Staff (roles, NPIs)",
    "members": "Members (roster, addresses)",
    "eligibility": "Eligibility (by month)",
    "enrollments": "Enrollments (ECM spans)",
    "time": "Time entries",
    "outreach": "Outreach attempts",
    "mif": "Plan's member file (MIF)",
    "834": "Plan's 834 (X12)",
    "plan_assignments": "Plan assignments (each member's plan by dates)",
}
assert set(IMPORT_KINDS) <= set(CHOICES), "every import kind has a choice on the page"
WORK_KINDS = ("time", "outreach")
# A plan's own files: with several plans the biller says whose they are.
PLAN_FILE_KINDS = ("mif", "834")
# Only an office of several plans has plans to assign.
SEVERAL_PLANS_KINDS = ("plan_assignments",)
# The form's other fields are a few words; the multipart framing adds a few hundred bytes.
FORM_OVERHEAD = 64 * 1024
# Rejected rows shown on the page; all of them are in the rejects CSV.
SHOWN_REJECTS = 200
# How long an import's result (and its rejects file) is kept, and how many are kept at most.
KEPT_FOR = 12 * 3600
KEPT_MOST = 50


def limit_of(kind: str) -> int:
    return MAX_X12_BYTES if kind == "834" else MAX_FILE_BYTES


Outcome = ImportResult | X834Result


@dataclass
class ImportJob:
    """One uploaded file being imported, or imported: what the status page shows."""

    id: str
    owner: str
    kind: str
    name: str
    folder: Path
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    total: int | None = None
    outcome: Outcome | None = None
    failed: bool = False
    rejects: Path | None = None

    @property
    def running(self) -> bool:
        return self.outcome is None and not self.failed

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total


class ImportJobs:
    """The imports of this server process, by id. One import runs at a time (they write the
    same tables; a second waits its turn), in a thread of its own, never on the event loop."""

    def __init__(self) -> None:
        self._jobs: dict[str, ImportJob] = {}
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ecmbill-import")
        # The rejected rows hold PHI: their files go when the server stops, not only on expiry.
        atexit.register(self.drop_all)

    def new(self, owner: str, kind: str, name: str) -> ImportJob:
        self._forget_old()
        folder = Path(tempfile.mkdtemp(prefix="ecmbill-import-"))  # mode 0700: PHI inside
        job = ImportJob(secrets.token_urlsafe(16), owner, kind, name, folder)
        with self._lock:
            self._jobs[job.id] = job
        return job

    def start(self, job: ImportJob, run: Callable[[ImportJob], None]) -> None:
        self._worker.submit(_guarded, job, run)

    def of(self, job_id: str, owner: str) -> ImportJob | None:
        """The job, only for the user who uploaded its file (its rejected rows hold PHI)."""
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.owner == owner else None

    def drop(self, job: ImportJob) -> None:
        with self._lock:
            self._jobs.pop(job.id, None)
        shutil.rmtree(job.folder, ignore_errors=True)

    def drop_all(self) -> None:
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            self.drop(job)

    def _forget_old(self) -> None:
        now = time.monotonic()
        with self._lock:
            finished = [job for job in self._jobs.values() if not job.running]
        finished.sort(key=lambda job: job.started)
        too_many = max(0, len(self._jobs) - KEPT_MOST + 1)
        for number, job in enumerate(finished):
            if number < too_many or now - job.started > KEPT_FOR:
                self.drop(job)


def _guarded(job: ImportJob, run: Callable[[ImportJob], None]) -> None:
    try:
        run(job)
    except Exception as err:
        # The service rolled its transaction back: nothing was imported. The message may hold
        # PHI, so only the kind of error is logged; the page says what happened.
        log.error("import of a %s file failed: %s", job.kind, type(err).__name__)
        job.failed = True


def jobs_of(request: Request) -> ImportJobs:
    app = request.app
    with _APP_LOCK:
        if not hasattr(app.state, "import_jobs"):
            app.state.import_jobs = ImportJobs()
    found: ImportJobs = app.state.import_jobs
    return found


_APP_LOCK = threading.Lock()


def imports_page(
    request: Request,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    plans = site(request).plans()
    names = field_plans.plan_names(site(request).engine) if plans.several else {}
    return render(
        request,
        "imports.html",
        status_code,
        choices={
            kind: label
            for kind, label in CHOICES.items()
            if plans.several or kind not in SEVERAL_PLANS_KINDS
        },
        plans=[(key, names.get(key, key)) for key in plans] if plans.several else [],
        work_kinds=WORK_KINDS,
        values=values or {},
        errors=errors or {},
        limit_mb=MAX_FILE_BYTES // (1024 * 1024),
        x12_limit_mb=MAX_X12_BYTES // (1024 * 1024),
    )


@router.get("/imports", response_class=HTMLResponse)
def imports(request: Request) -> Response:
    page_user(request, "imports")
    return imports_page(request)


@router.post("/imports", response_class=HTMLResponse)
async def upload(request: Request) -> Response:
    """Check the choices, keep the upload in a temporary file, start the import and send the
    browser to its status page. A file too large is refused before it is read."""
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > MAX_FILE_BYTES + FORM_OVERHEAD:
        # Refused before the body is read: a body without a declared length (chunked) could
        # fill the disk. Who may not import is told so, not that the file is large.
        page_user(request, "imports")
        return imports_page(
            request,
            status_code=413 if declared.isdigit() else 411,
            errors={"file": f"the file is larger than {MAX_FILE_BYTES // 2**20} MB: split it"}
            if declared.isdigit()
            else {"file": "the upload did not say its length: upload it from the form"},
        )
    active, form = await form_user(request, "imports")
    values = {
        name: str(form.get(name) or "").strip() for name in ("kind", "period", "source", "plan")
    }
    values["distinct_rows"] = "yes" if form.get("distinct_rows") else ""
    errors, options = _options(values)
    plan = _plan(values, site(request).plans(), errors)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = "choose the file to import"
    if errors:
        return imports_page(request, status_code=422, values=values, errors=errors)
    assert isinstance(upload, UploadFile) and upload.filename
    kind = values["kind"]
    jobs = jobs_of(request)
    job = jobs.new(active.account.username, kind, safe_file_name(upload.filename))
    path = job.folder / job.name
    size = await run_in_threadpool(_keep, upload, path, limit_of(kind))
    if size is None or size == 0:
        jobs.drop(job)
        problem = (
            "the file is empty"
            if size == 0
            else f"the file is larger than {limit_of(kind) // 2**20} MB: split it"
        )
        return imports_page(
            request, status_code=422 if size == 0 else 413, values=values, errors={"file": problem}
        )
    jobs.start(
        job, partial(_run, here=site(request), who=actor(active), options=options, plan=plan)
    )
    return RedirectResponse(f"/imports/{job.id}", status_code=303)


def _options(values: dict[str, str]) -> tuple[dict[str, str], Options]:
    """The form's choices as the CLI's options, each bad one named next to its field."""
    errors: dict[str, str] = {}
    kind = values["kind"]
    if kind not in CHOICES:
        errors["kind"] = "choose what the file holds"
    replace_period = None
    if values["period"]:
        if kind not in WORK_KINDS:
            errors["period"] = "only a time or outreach file replaces a month"
        else:
            try:
                replace_period = Period.parse(values["period"])
            except ValueError:
                errors["period"] = "a month, as YYYY-MM"
    source = None
    if values["source"]:
        try:
            source = checked.identifier(values["source"])
        except checked.FieldError as err:
            errors["source"] = str(err)
    options = Options(
        source=source, distinct_rows=bool(values["distinct_rows"]), replace_period=replace_period
    )
    return errors, options


def _plan(values: dict[str, str], plans: PlanContracts, errors: dict[str, str]) -> str | None:
    """Whose MIF or 834 the file is: asked only with several plans (one plan: its own), and
    only for a plan's own files. A refusal is added to ``errors`` beside the plan field."""
    kind, chosen = values["kind"], values["plan"]
    if not plans.several:
        if kind in SEVERAL_PLANS_KINDS:
            errors["kind"] = "the office bills one plan: there is no plan to assign"
        return None
    if kind not in PLAN_FILE_KINDS:
        if chosen:
            errors["plan"] = "only the plan's member file (MIF) or 834 is imported for a plan"
        return None
    if chosen not in list(plans):
        errors["plan"] = "choose the plan that sent the file"
        return None
    return chosen


def _keep(upload: UploadFile, path: Path, limit: int) -> int | None:
    """Copy the spooled upload to ``path`` in pieces; None (and nothing kept) past ``limit``."""
    size = 0
    upload.file.seek(0)
    with path.open("wb") as out:
        while piece := upload.file.read(1024 * 1024):
            size += len(piece)
            if size > limit:
                break
            out.write(piece)
    if size > limit:
        path.unlink(missing_ok=True)
        return None
    return size


def _run(
    job: ImportJob, *, here: Site, who: str, options: Options, plan: str | None = None
) -> None:
    path = job.folder / job.name
    try:
        outcome: Outcome
        if job.kind == "834":
            outcome = import_834(here.engine, path, actor=who, today=here.today(), plan=plan)
            job.rejects = _rejects_of_834(outcome, path)
        elif job.kind == "mif":
            outcome = import_mif(here.engine, path, actor=who, today=here.today(), plan=plan)
            job.rejects = outcome.rejects_file
        else:
            outcome = import_file(
                here.engine, job.kind, path, here.contract(), actor=who,
                today=here.today(), progress=job.progress, options=options,
            )  # fmt: skip
            job.rejects = outcome.rejects_file
        job.outcome = outcome
    finally:
        # The rejected rows are in the rejects file; the upload itself is not kept.
        path.unlink(missing_ok=True)


def _rejects_of_834(outcome: X834Result, source: Path) -> Path | None:
    """The 834's refused member loops as a CSV like the tables' rejects file (the service
    writes none: its rejections are segments, not rows)."""
    if not outcome.rejections:
        return None
    target = source.with_name(f"{source.stem}.rejects.csv")
    rows: list[list[Cell]] = [[r.line, r.column or "", r.reason] for r in outcome.rejections]
    return write_table(target, ["segment", "element", "reason"], rows, kind="csv")


def _job(request: Request, active: ActiveSession, job_id: str) -> ImportJob | None:
    return jobs_of(request).of(job_id, active.account.username)


@router.get("/imports/{job_id}", response_class=HTMLResponse)
def import_status(request: Request, job_id: str, fragment: bool = False) -> Response:
    """The import's progress while it runs (the page asks again every second), then what it
    did: rows accepted, and the rejected rows with line, column and reason."""
    active = page_user(request, "imports")
    job = _job(request, active, job_id)
    if job is None:
        return render(
            request, "error.html", 404, title="Not found",
            message="no such import: its result is kept for 12 hours, for who uploaded it",
        )  # fmt: skip
    return render(
        request,
        "import_status.html" if fragment else "import_job.html",
        job=job,
        choices=CHOICES,
        shown=SHOWN_REJECTS,
        x834=isinstance(job.outcome, X834Result),
    )


@router.get("/imports/{job_id}/rejects.csv")
def import_rejects(request: Request, job_id: str) -> Response:
    active = page_user(request, "imports")
    job = _job(request, active, job_id)
    if job is None or job.rejects is None or not job.rejects.exists():
        return render(
            request, "error.html", 404, title="Not found", message="no rejected rows to download"
        )
    return FileResponse(
        job.rejects, media_type="text/csv", filename=job.rejects.name,
        headers={"Cache-Control": "no-store"},
    )  # fmt: skip
