"""``ecmbill serve`` starts the app over the CLI's database, as the README says."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx2

from tests.conftest import Databases
from tests.web.conftest import free_port

ECMBILL = Path(sys.executable).parent / "ecmbill"


def test_ecmbill_serve_answers_on_the_given_port_and_sends_visitors_to_login(
    seeded_database: str, databases: Databases
) -> None:
    port = free_port()
    database = databases.copy_of(seeded_database)
    server = subprocess.Popen(
        [str(ECMBILL), "serve", "--port", str(port), "--database", database],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx2.get(
                    f"http://127.0.0.1:{port}/billing", timeout=2, follow_redirects=True
                )
                break
            except httpx2.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "ecmbill serve did not start"
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.url.path == "/login"
        assert 'type="password"' in response.text
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=15)
    assert f"http://127.0.0.1:{port}/" in output
    assert "/billing" not in output  # no access log: addresses can hold member ids
