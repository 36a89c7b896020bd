"""``ecmbill demo``: a synthetic month, imported, rated and reported, from nothing."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, NamedTuple

import typer
from rich.table import Table

from ecmbill.claims.close import close_period
from ecmbill.claims.export import ExportResult, export_per_payer
from ecmbill.claims.settings import plan_settings, set_settings
from ecmbill.cli.app import app, console, errors, fail, parse_period, plans_for
from ecmbill.cli.claims import show_close
from ecmbill.cli.imports import show_import
from ecmbill.cli.payer import ack_rejected, show_ack, show_eligibility
from ecmbill.cli.progress import steps
from ecmbill.cli.rating import show_honesty
from ecmbill.cli.remit import show_import as show_remit_import
from ecmbill.cli.remit import show_report
from ecmbill.contract import default_contract
from ecmbill.demo.acks import SentFile, demo_acknowledgments, demo_eligibility
from ecmbill.demo.exchange import demo_exchange
from ecmbill.demo.month import generate, last_full_month
from ecmbill.demo.payer_835 import write_simulated_835
from ecmbill.demo.plans import DemoPlans, add_second_plan
from ecmbill.demo.provider import DEMO_SETTINGS
from ecmbill.domain.honesty import honesty_report
from ecmbill.imports.service import import_file
from ecmbill.rating.service import rate
from ecmbill.remit.model import Status
from ecmbill.remit.post import import_835
from ecmbill.remit.reconcile import reconcile
from ecmbill.store.db import Engine, open_store
from ecmbill.store.existing import holdings
from ecmbill.web import accounts
from ecmbill.web.accounts import UserRole


class DemoUser(NamedTuple):
    username: str
    role: UserRole
    staff_id: str | None = None
    team: str | None = None


# One web user per role. Ana records the time of demo staff member S001; Cleo supervises the
# team "north" that Ana is in, so her team list is not empty.
DEMO_USERS = (
    DemoUser("admin", UserRole.ADMIN),
    DemoUser("bill", UserRole.BILLER),
    DemoUser("cleo", UserRole.SUPERVISOR, "S002", "north"),
    DemoUser("ana", UserRole.STAFF, "S001", "north"),
)


DEMO_URL = "sqlite:///demo.db"


@app.command()
def demo(
    database: Annotated[
        str,
        typer.Option(
            "--database",
            help="The demo's own SQLite database, made afresh: sqlite:///PATH. Not read from "
            "ECMBILL_DATABASE_URL, so the demo never lands on a database in use.",
        ),
    ] = DEMO_URL,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Delete the database even if it holds web users or work not made by the "
            "demo (they are named before it is deleted).",
        ),
    ] = False,
    db: Annotated[
        Path | None, typer.Option("--db", hidden=True, help="Deprecated: use --database.")
    ] = None,
    period: Annotated[
        str | None, typer.Option("--period", help="Month to simulate (default: last month).")
    ] = None,
    members: Annotated[int, typer.Option("--members", min=10, max=100_000)] = 300,
    with_users: Annotated[
        bool,
        typer.Option(
            "--with-users",
            help="Also create web users admin, bill (biller), cleo (supervisor) and ana (staff), "
            "with random passwords printed at the end.",
        ),
    ] = False,
) -> None:
    """Create a realistic synthetic month for a fictional provider, run import, rating and the
    minutes-per-unit report on it, close it into claims under each of its two plans, write
    one 837P and one invoice per payer next to the database (demo-837p-PLAN-PAYER.txt,
    demo-invoice-PLAN-PAYER.xlsx) and post each payer's simulated answers. Every name and
    identifier is fake.

    An existing demo database is made afresh; one that holds web users or work not made by
    the demo is left alone unless --replace is given."""
    if db is not None:
        errors.print("[yellow]warning:[/] --db is deprecated: use --database sqlite:///PATH")
        database = f"sqlite:///{db}"
    db = demo_file(database)
    month = parse_period(period) if period else last_full_month(date.today())
    if month.end >= date.today():
        fail(f"{month} has not ended yet: pick a past month")
    if db.exists():
        make_room(db, replace)
    folder = db.with_name(f"{db.stem}-data")
    contract = default_contract()
    with steps() as bar:
        files = generate(
            folder, month, members=members, contract=contract,
            progress=lambda done, total: bar("making the month's files", done, total),
        )  # fmt: skip
    console.rule(f"ecmbill demo: {month}, a fictional provider, fake members")
    engine = open_store(f"sqlite:///{db}")
    for kind, path in files.in_import_order():
        with steps() as bar:
            show_import(
                import_file(
                    engine, kind, path, contract, actor="demo",
                    progress=lambda done, total: bar(f"importing {kind}", done, total),  # noqa: B023
                )
            )  # fmt: skip
    with steps() as bar:
        bar("a second plan, its members and two who move", 0, 0)
        plans = add_second_plan(engine, files, actor="demo")
    show_plans(plans)
    contracts = plans_for(engine, None)
    with steps() as bar:
        bar(f"rating {month}", 0, 0)
        rating = rate(engine, month, contracts)
    units = sum(line.units for line in rating.lines)
    console.rule("Rating")
    console.print(
        f"{len({line.member_id for line in rating.lines})} members billed on "
        f"{len(rating.lines)} claim lines, {units} units; {len(rating.not_billed)} entries "
        "do not bill (each with its reason: `ecmbill rate --period "
        f"{month} --database sqlite:///{db}`)."
    )
    for key in plans.names:
        lines = [line for line in rating.lines if line.plan == key]
        console.print(
            f"  plan {key}: {len(lines)} claim lines, {sum(line.units for line in lines)} "
            "units, under its own contract's codes and rates"
        )
    console.rule("Minutes per unit")
    show_honesty(honesty_report(rating.period, rating.lines, rating.not_billed), most=10)
    console.rule("Files for the plan")
    with steps() as bar:
        exchange = demo_exchange(engine, files, contract, db, progress=bar)
    for mif in exchange.mifs:
        show_import(mif)
    console.print(
        "Outreach Tracker File(s): "
        + ", ".join(f"{f.path} ({f.rows} attempts)" for f in exchange.otfs)
        + "; Return Transmission File(s): "
        + ", ".join(f"{f.path} ({f.rows} members)" for f in exchange.rtfs)
        + ". "
        "The provider and plan named in them are fictional."
    )
    set_settings(engine, DEMO_SETTINGS, actor="demo")
    console.print(
        "Provider and payer settings: a fictional provider and plan (fake NPI, tax id and "
        "payer id; the 837P is marked as a test file). See `ecmbill settings show`."
    )
    console.rule("Eligibility: each plan's 270, its payer's simulated 271")
    with steps() as bar:
        bar("270s out, simulated 271s in", 0, 0)
        answers = demo_eligibility(engine, month, db)
    for answer in answers:
        console.print(
            f"270 for {month} to plan {answer.plan}'s payer: {answer.request.members} member(s) "
            "asked about."
        )
        show_eligibility(answer.outcome)
    console.rule("Close and claims")
    with steps() as bar:
        closed = close_period(
            engine, month, contracts, actor="demo", today=date.today(), progress=bar
        )
    show_close(closed)
    x12_file = db.with_name("demo-837p.txt")
    invoice_file = db.with_name("demo-invoice.xlsx")
    with steps() as bar:
        sent = export_per_payer(engine, month, "837p", x12_file, actor="demo", progress=bar)
        invoices = export_per_payer(engine, month, "xlsx", invoice_file, actor="demo", progress=bar)
    show_exports(sent + invoices)
    to_payers = [
        SentFile(file.path, plan_settings(engine, file.plans[0]), file.plans) for file in sent
    ]
    console.rule("Acknowledgments: each payer's simulated 999 and 277CA")
    with steps() as bar:
        bar("simulated 999s and 277CAs, read and posted", 0, 0)
        acknowledgments = demo_acknowledgments(engine, month, to_payers)
    for outcome in acknowledgments:
        show_ack(outcome)
    ack_rejected(period=str(month), codes=None, database=f"sqlite:///{db}")
    console.rule("Remittance: each payer's simulated 835, imported and reconciled")
    remittances = []
    for file in to_payers:
        remittance = db.with_name(f"demo-835-{file.tag}.txt")
        with steps() as bar:
            bar(f"writing {file.settings.payer_name}'s simulated 835", 0, 0)
            write_simulated_835(
                engine, month, file.settings, remittance, datetime.now(UTC), plans=file.plans
            )
            bar(f"reading and posting {remittance.name}", 0, 0)
            posted = import_835(engine, remittance, actor="demo")
        console.print(
            f"{remittance.name}: {file.settings.payer_name} ({file.settings.payer_id}) answers "
            f"plan {', '.join(file.plans)}'s claims"
        )
        show_remit_import(posted)
        remittances.append(remittance)
    with steps() as bar:
        bar(f"reconciling {month}", 0, 0)
        reconciled = reconcile(engine, month, date.today())
        by_plan = {key: reconcile(engine, month, date.today(), plan=key) for key in plans.names}
    show_report(reconciled, most=4)
    for key, report in by_plan.items():
        billed = sum((claim.balance.billed for claim in report.claims), Decimal("0.00"))
        paid = sum((claim.balance.paid for claim in report.claims), Decimal("0.00"))
        counts = ", ".join(f"{report.count(status)} {status.value}" for status in Status)
        console.print(
            f"plan {key}: {len(report.claims)} claim(s) billed {billed:.2f}, paid {paid:.2f} "
            f"by its payer's 835 ({counts})"
        )
    console.print(f"\nDatabase: {db}   Input files: {folder}/   (all identifiers are fake)")
    for made in sent:
        console.print(f"837P claims file: {made.path.resolve()}")
    for made in invoices:
        console.print(f"Invoice file:     {made.path.resolve()}")
    for remittance in remittances:
        console.print(f"Simulated 835:    {remittance.resolve()}")
    console.print(f"270, 271, 999, 277CA: {db.with_name('demo-270.txt').resolve()} and beside it")
    if with_users:
        show_demo_users(engine, f"sqlite:///{db}")


def show_exports(made: list[ExportResult]) -> None:
    """Each file written for a payer: one 837P and one invoice per payer."""
    for file in made:
        what = "837P" if file.format == "837p" else f"invoice ({file.format})"
        console.print(
            f"{what} for plan {', '.join(file.plans)} (payer {file.payer_id}): {file.path.name}, "
            f"{file.claims} claim(s), {file.lines} line(s), {file.total_charge:.2f}"
        )


def show_plans(plans: DemoPlans) -> None:
    """The plans the demo office bills, their members, and who moves between them."""
    console.rule("Plans")
    for key, name in plans.names.items():
        console.print(f"{key} ({name}): {plans.members[key]} members at the end of the month")
    for move in plans.moves:
        console.print(
            f"{move.member_id} moves from {move.old_plan} to {move.new_plan} on "
            f"{move.on.isoformat()}: each plan bills its own days"
        )


def demo_file(url: str) -> Path:
    """The SQLite file of a ``sqlite:///PATH`` URL: the demo deletes and writes files beside
    it, which only a file database has."""
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    if not url.startswith("sqlite:///") or not path or path == ":memory:":
        fail(f"the demo makes a SQLite file of its own: --database sqlite:///PATH, not {url}")
    return Path(path)


def make_room(db: Path, replace: bool) -> None:
    """Delete the earlier demo's file; one holding web users or anyone's work only with
    ``--replace``, after saying what goes."""
    held = holdings(db)
    if held.unreadable:
        lost = f"{db} is not a database the demo made"
    else:
        parts = []
        if held.usernames:
            parts.append(f"{len(held.usernames)} web user(s) ({', '.join(held.usernames)})")
        if held.changed_by_others:
            parts.append(f"{held.changed_by_others} change(s) made by people, not the demo")
        if held.members:
            parts.append(f"{held.members} member(s)")
        lost = f"{db} holds " + ", ".join(parts or ["nothing"])
    if held.only_the_demos_own:
        console.print(f"{db}: an earlier demo's database, made afresh.")
    elif not replace:
        fail(
            f"{lost}: the demo would delete it. Run it again with --replace to delete it, or "
            "give the demo another file with --database sqlite:///OTHER.db."
        )
    else:
        errors.print(f"[yellow]--replace:[/] deleting {lost}.", highlight=False)
    db.unlink()


def show_demo_users(engine: Engine, url: str) -> None:
    """Web users for each role, with passwords made here: printed once, stored only hashed."""
    table = Table("username", "role", "staff_id", "team", "password", title="Demo web users")
    for user in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        while accounts.password_problem(user.username, password):  # e.g. "ana" in it by chance
            password = secrets.token_urlsafe(12)
        accounts.add_user(engine, password=password, actor="demo", **user._asdict())
        table.add_row(
            user.username, user.role.value, user.staff_id or "", user.team or "", password
        )
    console.print(table)
    console.print(f"Log in at http://127.0.0.1:8000/ after `ecmbill serve --database {url}`.")
