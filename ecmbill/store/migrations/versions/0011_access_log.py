"""login limits per address and overall: indexes for the counts read before every login

The login limits count failed attempts per address (any username) and overall in the last
minute, besides per username; without these indexes each count would scan the table that an
attacker fills.

Revision ID: 0011
Revises: 0008
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_login_attempts_address", "login_attempts", ["address", "at"])
    op.create_index("ix_login_attempts_at", "login_attempts", ["at"])


def downgrade() -> None:
    op.drop_index("ix_login_attempts_at", "login_attempts")
    op.drop_index("ix_login_attempts_address", "login_attempts")
