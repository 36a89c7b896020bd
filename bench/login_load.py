"""Failed logins cannot freeze the app: 4 clients send failed logins under new usernames
while a fifth fetches pages, all over loopback against ``ecmbill serve`` (uvicorn, one
process). Prints the fifth client's median and p95 and checks p95 < 100 ms (issue 14).

    python bench/login_load.py --seconds 20

Bounded: it runs for ``--seconds`` and uses a throw-away SQLite database.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecmbill.store.db import open_store  # noqa: E402
from ecmbill.web import accounts  # noqa: E402
from ecmbill.web.accounts import UserRole  # noqa: E402

PASSWORD = "correct-horse-battery-7"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def attacker(base: str, stop: threading.Event, number: int, counts: list[int]) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        n = 0
        while not stop.is_set():
            page = client.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert token
            client.post(
                "/login",
                data={"username": f"x{number}-{n}", "password": "wrong", "csrf_token": token[1]},
            )
            n += 1
        counts.append(n)


def measure(base: str, seconds: float, attackers: int = 4) -> dict[str, float]:
    stop = threading.Event()
    counts: list[int] = []
    threads = [
        threading.Thread(target=attacker, args=(base, stop, n, counts)) for n in range(attackers)
    ]
    for thread in threads:
        thread.start()
    times = []
    with httpx.Client(base_url=base, timeout=30) as client:
        deadline = time.monotonic() + seconds
        paths = ("/static/app.css", "/login")
        while time.monotonic() < deadline:
            for path in paths:
                started = time.perf_counter()
                assert client.get(path).status_code == 200
                times.append((time.perf_counter() - started) * 1000)
    stop.set()
    for thread in threads:
        thread.join()
    times.sort()
    return {
        "requests": len(times),
        "median_ms": statistics.median(times),
        "p95_ms": times[int(len(times) * 0.95) - 1],
        "max_ms": times[-1],
        "failed_logins": sum(counts),
    }


def serve(database: Path, port: int) -> subprocess.Popen[str]:
    engine = open_store(f"sqlite:///{database}")
    accounts.add_user(engine, username="bill", password=PASSWORD, role=UserRole.BILLER,
                      actor="bench")  # fmt: skip
    engine.dispose()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "ecmbill"), "serve", "--port", str(port), "--database",
         f"sqlite:///{database}"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
            return server
        except httpx.TransportError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("ecmbill serve did not start") from None
            time.sleep(0.2)


def run(seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        server = serve(Path(folder) / "load.db", port)
        try:
            return measure(f"http://127.0.0.1:{port}", seconds)
        finally:
            server.terminate()
            server.communicate(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20)
    result = run(parser.parse_args().seconds)
    print(
        f"fifth client: {result['requests']:.0f} requests, median {result['median_ms']:.1f} ms, "
        f"p95 {result['p95_ms']:.1f} ms, max {result['max_ms']:.1f} ms; "
        f"{result['failed_logins']:.0f} failed logins sent by 4 clients"
    )
    if result["p95_ms"] >= 100:
        raise SystemExit("p95 is 100 ms or more")


if __name__ == "__main__":
    main()
