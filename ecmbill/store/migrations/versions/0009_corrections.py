"""corrections: why a record changed, and the time of an outreach attempt

Every correction (an enrollment span, a role period, an eligibility month edited or removed,
a time entry or outreach attempt deleted) is recorded in the audit log with the reason the
person gave: ``audit_log.reason``. The log stays append-only: a plain ADD COLUMN keeps its
triggers (a batch rebuild of the table on SQLite would drop them).

``outreach_attempts.attempt_time`` is when in the day an attempt was made: two attempts on one
day, from a system that gives no ids, are told apart by it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("reason", sa.Text(), nullable=True))
    op.add_column("outreach_attempts", sa.Column("attempt_time", sa.String(5), nullable=True))


def downgrade() -> None:
    # SQLite (3.35 and later) drops a column in place, so the audit log keeps its triggers.
    op.drop_column("outreach_attempts", "attempt_time")
    op.drop_column("audit_log", "reason")
