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


def test_the_database_refuses_overlapping_enrollment_spans(engine: Engine) -> None:
    """The rating joins each entry to its enrollment span: an overlap would count it twice."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO members (member_id, first_name, last_name, birth_date) "
                "VALUES ('10000001A', 'Test', 'Member', '1970-01-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO enrollments (member_id, start_date, end_date) "
                "VALUES ('10000001A', '2026-01-01', NULL)"
            )
        )
    overlapping = (
        "INSERT INTO enrollments (member_id, start_date, end_date) "
        "VALUES ('10000001A', '2026-10-01', '2026-10-31')"
    )
    with pytest.raises(DBAPIError, match="must not overlap"), engine.begin() as conn:
        conn.execute(text(overlapping))
    # Ending the first span makes room, and the next span goes in.
    with engine.begin() as conn:
        conn.execute(text("UPDATE enrollments SET end_date = '2026-09-30'"))
        conn.execute(text(overlapping))


def test_the_database_refuses_overlapping_role_periods(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO staff (staff_id, name) VALUES ('C1', 'Test Nurse')"))
        conn.execute(
            text(
                "INSERT INTO staff_roles (staff_id, role, effective_to) "
                "VALUES ('C1', 'non_clinical', '2026-10-15')"
            )
        )
    with pytest.raises(DBAPIError, match="must not overlap"), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO staff_roles (staff_id, role, effective_from) "
                "VALUES ('C1', 'clinical', '2026-10-15')"
            )
        )
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO staff_roles (staff_id, role, effective_from) "
                "VALUES ('C1', 'clinical', '2026-10-16')"
            )
        )
