"""The same new 835 uploaded twice at the same moment: one upload posts it, the other is told
it was posted already (issue 14, item 6: it was a duplicate-key server error)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, func, select

from ecmbill.remit.post import ImportOutcome, import_835
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.remit.test_import import FIXTURES


def test_two_simultaneous_uploads_of_one_835_post_it_once_and_tell_the_other(
    closed: Engine,
) -> None:
    start = threading.Barrier(2)

    def upload() -> ImportOutcome:
        start.wait()
        return import_835(closed, FIXTURES / "full_payment.835", actor="test")

    with ThreadPoolExecutor(2) as pool:
        outcomes = [f.result() for f in [pool.submit(upload), pool.submit(upload)]]
    posted = [o for o in outcomes if o.posted]
    told = [o for o in outcomes if o.already_imported]
    assert len(posted) == 1 and len(told) == 1
    assert told[0].already_imported == [posted[0].posted[0].trace_number]
    with unit_of_work(closed) as session:
        assert session.scalar(select(func.count()).select_from(models.Remittance)) == 1
