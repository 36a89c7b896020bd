"""The close reads the month's lines as one Arrow table sorted by member and turns them into
lines a batch of members at a time (issue 19: memory bounded). Put back together, the batches
are ``rate``'s lines in ``rate``'s order, whatever the batch size, of every plan or of one;
each batch holds whole members, at most the batch's number. On SQLite and PostgreSQL (whose
collation need not order member ids as Python does)."""

from __future__ import annotations

from itertools import pairwise

import pytest
from sqlalchemy import Engine

from ecmbill.demo.plan_scale import PLAN_B, generate, load_store, two_plan_contracts
from ecmbill.domain.period import Period
from ecmbill.domain.plans import DEFAULT_PLAN
from ecmbill.rating.service import claim_lines_table, lines_by_member, rate

OCTOBER = Period(2026, 10)


def test_the_batches_put_together_are_the_rating_s_lines(engine: Engine) -> None:
    load_store(engine, generate(1500, OCTOBER, two_plans=True))
    plans = two_plan_contracts()
    expected = rate(engine, OCTOBER, plans).lines
    table = claim_lines_table(engine, OCTOBER, plans)
    assert table.num_rows == len(expected) > 100
    for plan in (None, DEFAULT_PLAN, PLAN_B):
        wanted = [line for line in expected if plan is None or line.plan == plan]
        assert wanted
        for size in (1, 2, 7, 100_000):
            batches = list(lines_by_member(table, size, plan=plan))
            assert [line for batch in batches for line in batch] == wanted
            members = [sorted({line.member_id for line in batch}) for batch in batches]
            assert all(0 < len(found) <= size for found in members)
            assert all(a[-1] < b[0] for a, b in pairwise(members))
    assert list(lines_by_member(table.slice(0, 0), 2)) == []
    with pytest.raises(ValueError):
        list(lines_by_member(table, 0))
