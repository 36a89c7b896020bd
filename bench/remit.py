"""Posting a large 835: time and peak memory of ``ecmbill remit import`` for files of growing
size, to show that memory does not grow with the file.

    python bench/remit.py                      # 5 MB and 20 MB on SQLite
    python bench/remit.py --mb 5 20 40 --postgres URL

For each size, a store gets as many claims (one service line each, already sent) as the 835
answers, written with bulk inserts (untimed). The 835 (several transactions of up to 10,000
claims: paid, partly paid with CAS, denied, a few unknown claims) is written to a file, then
posted by ``import_835`` in a fresh child process: the child's maximum resident set size
(``ru_maxrss``) is the peak memory of the whole process, Python included.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from ecmbill.claims.settings import set_settings  # noqa: E402
from ecmbill.demo.provider import DEMO_SETTINGS  # noqa: E402
from ecmbill.store import models  # noqa: E402
from ecmbill.store.db import open_store, unit_of_work  # noqa: E402

PER_TRANSACTION = 10_000
SERVICE_DAY = date(2026, 10, 7)


def claim_segments(number: int) -> list[str]:
    pcn = f"ECM{number:09d}"
    kind = number % 10
    if kind == 0:  # denied
        return [f"CLP*{pcn}*4*100*0**MC*P{number:011d}", "NM1*QC*1*BENCH*MEMBER****MI*99000001F",
                "SVC*HC:G9008:U1*100*0**1", "DTM*472*20261007", "CAS*CO*177*100",
                "LQ*HE*N30"]  # fmt: skip
    if kind in (1, 2):  # partly paid
        return [f"CLP*{pcn}*1*100*80**MC*P{number:011d}", "NM1*QC*1*BENCH*MEMBER****MI*99000001F",
                "SVC*HC:G9008:U1*100*80**1", "DTM*472*20261007", "CAS*CO*45*20"]  # fmt: skip
    return [f"CLP*{pcn}*1*100*100**MC*P{number:011d}", "NM1*QC*1*BENCH*MEMBER****MI*99000001F",
            "SVC*HC:G9008:U1*100*100**1", "DTM*472*20261007"]  # fmt: skip


def paid_of(number: int) -> Decimal:
    return Decimal({0: "0", 1: "80", 2: "80"}.get(number % 10, "100"))


def write_835(path: Path, megabytes: float, npi: str) -> int:
    """An 835 of about ``megabytes``; returns how many claims it answers."""
    target = int(megabytes * 1024 * 1024)
    written = claims = transactions = 0
    with path.open("w", encoding="ascii") as out:

        def emit(segments: list[str]) -> None:
            nonlocal written
            text = "".join(f"{s}~\n" for s in segments)
            out.write(text)
            written += len(text)

        emit([
            "ISA*00*          *00*          *ZZ*BENCHPLAN      *ZZ*ECMBENCH       *261120*1200*^*"
            "00501*000000001*0*P*:",
            "GS*HP*BENCHPLAN*ECMBENCH*20261120*1200*1*X*005010X221A1",
        ])  # fmt: skip
        while written < target:
            transactions += 1
            first = claims + 1
            body: list[str] = ["LX*1"]
            total = Decimal("0")
            size = 0
            while claims - first + 1 < PER_TRANSACTION and written + size < target:
                claims += 1
                segments = claim_segments(claims)
                body += segments
                size += sum(len(s) + 2 for s in segments)
                total += paid_of(claims)
            st = f"{transactions:04d}"
            segments = [
                f"ST*835*{st}", f"BPR*I*{total}*C*ACH*CCP*01*121000358*DA*1234567890*1987654321"
                f"**01*026009593*DA*9876543210*20261120", f"TRN*1*BENCH-{transactions}*1987654321",
                "N1*PR*BENCH HEALTH PLAN", "N3*1 PLAN WAY", "N4*OAKLAND*CA*94612",
                "PER*BL*PROVIDER SERVICES*TE*8005550100", f"N1*PE*BENCH PROVIDER*XX*{npi}", *body,
            ]  # fmt: skip
            segments.append(f"SE*{len(segments) + 1}*{st}")
            emit(segments)
        emit([f"GE*{transactions}*1", "IEA*1*000000001"])
    return claims


def seed_claims(url: str, claims: int) -> None:
    engine = open_store(url)
    set_settings(engine, dict(DEMO_SETTINGS), actor="bench")
    now = datetime(2026, 11, 2, tzinfo=UTC)
    with unit_of_work(engine) as session:
        session.execute(insert(models.Member), [{
            "member_id": "99000001F", "first_name": "Bench", "last_name": "Member",
            "birth_date": date(1980, 1, 2)}])  # fmt: skip
        close = models.PeriodClose(period="2026-10", closed_at=now, actor="bench",
                                   claims_created=claims)  # fmt: skip
        session.add(close)
        session.flush()
        for start in range(1, claims + 1, 20_000):
            numbers = range(start, min(claims, start + 19_999) + 1)
            session.execute(insert(models.Claim), [{
                "id": n, "period": "2026-10", "member_id": "99000001F",
                "billing_npi": DEMO_SETTINGS["billing_npi"], "frequency": "1", "status": "active",
                "patient_control_number": f"ECM{n:09d}", "total_charge": Decimal("100"),
                "diagnosis_code": "Z598", "place_of_service": "11", "close_id": close.id,
                "created_at": now} for n in numbers])  # fmt: skip
            line = {"line_number": 1, "kind": "service", "code": "G9008", "modifiers": "U1",
                    "units": 1, "charge": Decimal("100"), "first_date": SERVICE_DAY,
                    "last_date": SERVICE_DAY, "minutes": 45, "source_ids": "[]"}  # fmt: skip
            session.execute(
                insert(models.ClaimLineRecord), [{**line, "claim_id": n} for n in numbers]
            )
    engine.dispose()


def post_in_child(url: str, path: Path) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds (user + system: less sensitive to a busy machine), peak RSS in
    MiB of a child process posting the file, and its summary."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        from ecmbill.remit.post import import_835

        started = time.perf_counter()
        outcome = import_835(open_store(url), path, actor="bench")
        seconds = time.perf_counter() - started
        claims = sum(p.claims for p in outcome.posted)
        unmatched = sum(len(p.unmatched_claims) for p in outcome.posted)
        os.write(write, f"{seconds}|{len(outcome.posted)} transactions, {claims:,d} claim "
                 f"answers, {unmatched} unmatched".encode())  # fmt: skip
        os._exit(0)
    os.close(write)
    message = b""
    while chunk := os.read(read, 4096):
        message += chunk
    _, status, usage = os.wait4(pid, 0)
    if status != 0:
        raise SystemExit(f"the child failed (status {status})")
    seconds, summary = message.decode().split("|", 1)
    return float(seconds), usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[5, 20])
    parser.add_argument("--postgres", help="an empty PostgreSQL database URL")
    args = parser.parse_args()
    print(f"parent peak so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")
    with tempfile.TemporaryDirectory(prefix="ecmbill-bench-") as folder:
        for megabytes in args.mb:
            path = Path(folder) / f"payer-{megabytes:g}mb.835"
            claims = write_835(path, megabytes, DEMO_SETTINGS["billing_npi"])
            size = path.stat().st_size / 1024 / 1024
            urls = [f"sqlite:///{folder}/store-{megabytes:g}.db"]
            if args.postgres:
                urls.append(args.postgres)
            for url in urls:
                seed_claims(url, claims)
                seconds, cpu, peak, summary = post_in_child(url, path)
                print(f"{url.split(':')[0]:10s} {size:5.1f} MB 835, {claims:,d} claims: posted in "
                      f"{seconds:5.1f} s ({cpu:.1f} s CPU), peak memory {peak} MiB ({summary}); "
                      f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
