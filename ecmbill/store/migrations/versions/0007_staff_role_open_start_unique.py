"""one open-start role per staff member

A role with no effective_from ("since always") has NULL in the unique key (staff_id,
effective_from), and SQL treats NULLs as distinct, so the constraint let a staff member hold
two such roles: every time entry then joined both and its minutes counted twice. A partial
unique index closes that gap on SQLite and PostgreSQL alike. Duplicates left by the old
importer are removed first, keeping the oldest row (identical rows; the importer never
wrote a different role twice).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM staff_roles WHERE effective_from IS NULL AND id NOT IN ("
        "SELECT MIN(id) FROM staff_roles WHERE effective_from IS NULL GROUP BY staff_id)"
    )
    op.create_index(
        "uq_staff_roles_open_start",
        "staff_roles",
        ["staff_id"],
        unique=True,
        sqlite_where=sa.text("effective_from IS NULL"),
        postgresql_where=sa.text("effective_from IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_staff_roles_open_start", table_name="staff_roles")
