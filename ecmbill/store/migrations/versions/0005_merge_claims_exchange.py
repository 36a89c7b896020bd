"""merge: claims and remittances (0002-0003) with the plan data exchange (0004)

Both branches start at the foundation (0001); this revision only joins them, so the schema
has one head again and ``alembic revision --autogenerate`` works.

Revision ID: 0005
Revises: 0003, 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence

revision: str = "0005"
down_revision: str | Sequence[str] | None = ("0003", "0004")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
