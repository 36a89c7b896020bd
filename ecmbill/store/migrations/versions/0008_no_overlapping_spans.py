"""enrollment spans and staff role periods never overlap, enforced by the database

The rating joins each entry to the member's enrollment span and the staff member's role
period on its date; two overlapping spans would make one entry count twice. Imports and the
lifecycle refuse overlaps, but only the database can refuse them across concurrent writers.
PostgreSQL serialises the check per member or staff member with a transaction-scoped
advisory lock, so two transactions cannot both pass it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table, key column, start column, end column, message
SPANS = (
    (
        "enrollments",
        "member_id",
        "start_date",
        "end_date",
        "enrollment spans of one member must not overlap",
    ),
    (
        "staff_roles",
        "staff_id",
        "effective_from",
        "effective_to",
        "role periods of one staff member must not overlap",
    ),
)


def _overlap(
    table: str, key: str, start: str, end: str, earliest: str, latest: str, *, inserting: bool
) -> str:
    """A query that finds another row of the same key whose span meets NEW's span. SQLite
    leaves NEW.id undefined before an insert, so an insert compares with every row."""
    not_self = "" if inserting else "AND other.id <> NEW.id "
    return (
        f"SELECT 1 FROM {table} AS other WHERE other.{key} = NEW.{key} {not_self}"
        f"AND COALESCE(other.{start}, {earliest}) <= COALESCE(NEW.{end}, {latest}) "
        f"AND COALESCE(NEW.{start}, {earliest}) <= COALESCE(other.{end}, {latest})"
    )


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    pg_earliest, pg_latest = "DATE '0001-01-01'", "DATE '9999-12-31'"
    for table, key, start, end, message in SPANS:
        if postgres:
            overlap = _overlap(table, key, start, end, pg_earliest, pg_latest, inserting=False)
            op.execute(
                f"CREATE FUNCTION {table}_refuse_overlap() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN PERFORM pg_advisory_xact_lock(hashtext('{table}:' || NEW.{key})); "
                f"IF EXISTS ({overlap}) THEN "
                f"RAISE EXCEPTION '{message}'; END IF; RETURN NEW; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_overlap BEFORE INSERT OR UPDATE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {table}_refuse_overlap()"
            )
            continue
        # SQLite keeps dates as ISO text, which compares in date order.
        for action in ("INSERT", "UPDATE"):
            sqlite_check = _overlap(
                table, key, start, end, "'0001-01-01'", "'9999-12-31'", inserting=action == "INSERT"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_overlap_{action.lower()} BEFORE {action} ON {table} "
                f"WHEN EXISTS ({sqlite_check}) BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, *_ in SPANS:
        if postgres:
            op.execute(f"DROP TRIGGER {table}_no_overlap ON {table}")
            op.execute(f"DROP FUNCTION {table}_refuse_overlap()")
        else:
            op.execute(f"DROP TRIGGER {table}_no_overlap_insert")
            op.execute(f"DROP TRIGGER {table}_no_overlap_update")
