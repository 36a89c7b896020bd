"""The web app served by uvicorn on a free port, for the browser tests: each serves a world of
its own (a copy of the seeded database, a fresh install, a closed month)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

import pytest
import uvicorn
from sqlalchemy import Engine

from ecmbill.contract import Contract
from ecmbill.web import create_app
from tests.conftest import TODAY
from tests.web.conftest import free_port


@contextmanager
def serving(
    engine: Engine, today: Callable[[], date] = lambda: TODAY, contract: Contract | None = None
) -> Iterator[str]:
    """The app over ``engine`` (and ``contract``, the default one when None) until the block
    ends; yields its address."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(engine, contract, today=today),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the web app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
