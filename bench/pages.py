"""Page server times: how long the app takes to answer the biller's pages of a large caseload.

    python bench/pages.py                       # 20,000 members, then a 100,000-claim 835
    python bench/pages.py --members 2000 --claims 10000 --rounds 5

Two stores, each built once and kept in bench/data/ (ignored by git) for the next run:
- the demo month of ``--members`` members (ecmbill/demo: imported, closed into claims, the
  837P written, the simulated payer's 835 posted), as ``ecmbill demo --members N`` builds it;
- ``--claims`` claims answered by one 835 of as many claims (bench/remit.py's store and file:
  paid, partly paid with CAS, denied with CARC and RARC).

Each page is asked for in-process through the app (Starlette's test client, no network): the
first time (nothing cached: the sums of every claim are made) and then ``--rounds`` times
(the median: what a biller paging through the list or coming back waits). Printed with the
page's size and the machine's load. The target is under 500 ms each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import pyotp  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from ecmbill.claims.close import close_period  # noqa: E402
from ecmbill.claims.export import export_claims  # noqa: E402
from ecmbill.claims.settings import provider_settings, set_settings  # noqa: E402
from ecmbill.contract import default_contract  # noqa: E402
from ecmbill.demo.month import generate  # noqa: E402
from ecmbill.demo.payer_835 import write_simulated_835  # noqa: E402
from ecmbill.demo.provider import DEMO_SETTINGS  # noqa: E402
from ecmbill.domain.period import Period  # noqa: E402
from ecmbill.imports.service import import_file  # noqa: E402
from ecmbill.remit.post import import_835  # noqa: E402
from ecmbill.store.db import Engine, open_store  # noqa: E402
from ecmbill.web import accounts, create_app  # noqa: E402
from ecmbill.web.accounts import UserRole  # noqa: E402

DATA = ROOT / "bench" / "data"
MONTH = Period(2026, 10)
TODAY = date(2026, 12, 2)
PASSWORD = "bench-pages-password-1"
MFA_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # the bench's own store only
TARGET_MS = 500


def step(message: str) -> float:
    print(f"  {message}", flush=True)
    return time.perf_counter()


def demo_store(members: int) -> str:
    """The demo month of ``members`` members, closed, sent and answered by the demo 835."""
    path = DATA / f"pages-demo-{members}.db"
    url = f"sqlite:///{path}"
    if path.exists():
        return url
    DATA.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".building")
    partial.unlink(missing_ok=True)
    building = f"sqlite:///{partial}"
    contract = default_contract()
    started = step(f"building the demo month of {members:,d} members (once)")
    files = generate(DATA / f"pages-demo-{members}-files", MONTH, members=members,
                     contract=contract)  # fmt: skip
    engine = open_store(building)
    for kind, source in files.in_import_order():
        import_file(engine, kind, source, contract, actor="bench")
    step(f"imported in {time.perf_counter() - started:.0f} s")
    set_settings(engine, dict(DEMO_SETTINGS), actor="bench")
    close_period(engine, MONTH, contract, actor="bench", today=TODAY)
    export_claims(engine, MONTH, "837p", DATA / f"pages-demo-{members}.837", actor="bench")
    remittance = DATA / f"pages-demo-{members}.835"
    write_simulated_835(engine, MONTH, provider_settings(engine), remittance,
                        datetime(2026, 11, 20, tzinfo=UTC))  # fmt: skip
    import_835(engine, remittance, actor="bench")
    engine.dispose()
    partial.rename(path)
    step(f"built in {time.perf_counter() - started:.0f} s")
    return url


def write_835_of(path: Path, claims: int, npi: str) -> None:
    """One 835 answering claims 1..``claims`` (bench/remit.py's claims and segments)."""
    from remit import PER_TRANSACTION, claim_segments, paid_of

    with path.open("w", encoding="ascii") as out:
        out.write(
            "ISA*00*          *00*          *ZZ*BENCHPLAN      *ZZ*ECMBENCH       *261120*1200*"
            "^*00501*000000001*0*P*:~\nGS*HP*BENCHPLAN*ECMBENCH*20261120*1200*1*X*005010X221A1~\n"
        )
        transactions = 0
        for first in range(1, claims + 1, PER_TRANSACTION):
            transactions += 1
            numbers = range(first, min(claims, first + PER_TRANSACTION - 1) + 1)
            body = [segment for n in numbers for segment in claim_segments(n)]
            total = sum((paid_of(n) for n in numbers), Decimal("0"))
            st = f"{transactions:04d}"
            segments = [
                f"ST*835*{st}", f"BPR*I*{total}*C*ACH*CCP*01*121000358*DA*1234567890*1987654321"
                f"**01*026009593*DA*9876543210*20261120", f"TRN*1*BENCH-{transactions}*1987654321",
                "N1*PR*BENCH HEALTH PLAN", "N3*1 PLAN WAY", "N4*OAKLAND*CA*94612",
                "PER*BL*PROVIDER SERVICES*TE*8005550100", f"N1*PE*BENCH PROVIDER*XX*{npi}",
                "LX*1", *body,
            ]  # fmt: skip
            segments.append(f"SE*{len(segments) + 1}*{st}")
            out.write("".join(f"{s}~\n" for s in segments))
        out.write(f"GE*{transactions}*1~\nIEA*1*000000001~\n")


def answered_store(claims: int) -> str:
    """``claims`` claims of one member, every one answered by one large 835."""
    from remit import seed_claims

    path = DATA / f"pages-835-{claims}.db"
    url = f"sqlite:///{path}"
    if path.exists():
        return url
    DATA.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".building")
    partial.unlink(missing_ok=True)
    building = f"sqlite:///{partial}"
    started = step(f"building {claims:,d} claims and their 835 (once)")
    seed_claims(building, claims)
    remittance = DATA / f"pages-835-{claims}.835"
    write_835_of(remittance, claims, DEMO_SETTINGS["billing_npi"])
    size = remittance.stat().st_size / 1024 / 1024
    step(f"posting a {size:.1f} MB 835")
    engine = open_store(building)
    import_835(engine, remittance, actor="bench")
    engine.dispose()
    partial.rename(path)
    step(f"built in {time.perf_counter() - started:.0f} s")
    return url


def biller(engine: Engine) -> TestClient:
    """The bench's biller, logged in through the form and its MFA code step (a biller must
    have MFA: without it every page would be the MFA set-up page)."""
    users = {a.username: a for a in accounts.list_users(engine)}
    if "benchbill" not in users:
        accounts.add_user(engine, username="benchbill", password=PASSWORD,
                          role=UserRole.BILLER, actor="bench")  # fmt: skip
    if "benchbill" not in users or not users["benchbill"].mfa_enrolled:
        account = accounts.find_user(engine, "benchbill")
        accounts.enrol_mfa(engine, account, MFA_SECRET, pyotp.TOTP(MFA_SECRET).now())
    client = TestClient(create_app(engine, today=lambda: TODAY))
    page = client.get("/login").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post("/login", data={"username": "benchbill", "password": PASSWORD,
                                         "csrf_token": token})  # fmt: skip
    if "/login/code" in str(answer.url):
        answer = client.post("/login/code", data={"code": pyotp.TOTP(MFA_SECRET).now(),
                                                  "csrf_token": token})  # fmt: skip
    assert answer.status_code == 200 and "/login" not in str(answer.url), answer.url
    return client


PAGES = (
    ("Billing", f"/billing?period={MONTH}"),
    ("Remittances", "/remittances"),
    ("Remittances, one period", f"/remittances?period={MONTH}"),
    ("Remittances, sorted by balance", "/remittances?sort=outstanding&dir=desc&page=3"),
    ("Denial list", "/remittances/denials"),
    ("Denial list, by amount, page 5", "/remittances/denials?status=all&sort=amount&page=5"),
    ("Audit", "/audit"),
)


def measure(
    title: str, url: str, rounds: int, skip: tuple[str, ...] = ()
) -> list[tuple[str, float, int]]:
    engine = open_store(url)
    client = biller(engine)
    print(f"\n{title}   (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"  {'page':34s} {'first':>8s} {'median':>9s}")
    found = []
    for name, path in PAGES:
        if name.split(",")[0] in skip:
            continue
        started = time.perf_counter()
        response = client.get(path)
        first = (time.perf_counter() - started) * 1000
        # The page itself, not a redirect to a log-in or set-up page.
        assert response.status_code == 200 and str(response.url).endswith(path), response.url
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        median = statistics.median(times)
        mark = "ok" if median < TARGET_MS else "OVER"
        print(f"  {name:34s} {first:5.0f} ms {median:6.0f} ms  "
              f"({len(response.content) / 1024:5.0f} KB) {mark}", flush=True)  # fmt: skip
        found.append((name, median, len(response.content)))
    engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--skip-835", action="store_true")
    parser.add_argument("--skip", nargs="*", default=[], help="pages not to time: Billing, ...")
    args = parser.parse_args()
    if not args.skip_demo:
        measure(f"Demo month, {args.members:,d} members (SQLite)", demo_store(args.members),
                args.rounds, tuple(args.skip))  # fmt: skip
    if not args.skip_835:
        measure(f"After an 835 of {args.claims:,d} claims (SQLite)", answered_store(args.claims),
                args.rounds, tuple(args.skip))  # fmt: skip


if __name__ == "__main__":
    main()
