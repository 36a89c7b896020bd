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


def test_a_staff_member_cannot_hold_two_roles_since_always(engine: Engine) -> None:
    """NULL effective_from escapes the (staff_id, effective_from) constraint; a partial unique
    index stops the second open-start role that once made minutes count twice."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO staff (staff_id, name) VALUES ('C1', 'Test Nurse')"))
        conn.execute(text("INSERT INTO staff_roles (staff_id, role) VALUES ('C1', 'clinical')"))
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text("INSERT INTO staff_roles (staff_id, role) VALUES ('C1', 'clinical')"))


def test_the_migrations_build_exactly_the_models_schema(engine: Engine) -> None:
    """A model changed without a migration (or the reverse) fails here, on both databases."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from ecmbill.store.models import Base

    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert differences == []
