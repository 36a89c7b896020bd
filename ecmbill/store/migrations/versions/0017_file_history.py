"""file history: every 837P, invoice, OTF and RTF produced, with its bytes and checksum

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "produced_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("produced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_produced_files")),
    )
    with op.batch_alter_table("produced_files", schema=None) as batch_op:
        batch_op.create_index("ix_produced_files_period_kind", ["period", "kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_produced_files_produced_at"), ["produced_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("produced_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_produced_files_produced_at"))
        batch_op.drop_index("ix_produced_files_period_kind")
    op.drop_table("produced_files")
