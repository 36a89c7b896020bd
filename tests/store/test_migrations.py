import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from ecmbill.store.db import migrate


def test_migrations_create_every_table_and_are_idempotent(engine: Engine) -> None:
    migrate(engine)  # a second run changes nothing
    tables = set(inspect(engine).get_table_names())
    assert {
        "staff",
        "staff_roles",
        "members",
        "eligibility",
        "enrollments",
        "time_entries",
        "outreach_attempts",
        "audit_log",
        "import_batches",
        "settings",
    } <= tables


def test_audit_log_is_append_only(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, entity, entity_key) "
                "VALUES (CURRENT_TIMESTAMP, 'tester', 'create', 'time', 'T1')"
            )
        )
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
