"""denial work: the biller's status, note and replacement claim of each denied or partly paid
item, and the history of its statuses

Revision ID: 0018
Revises: 0012
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "denial_work",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(length=24), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("claim_line_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("replacement_claim_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_denial_work_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(
            ["claim_line_id"],
            ["claim_lines.id"],
            name=op.f("fk_denial_work_claim_line_id_claim_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["replacement_claim_id"],
            ["claims.id"],
            name=op.f("fk_denial_work_replacement_claim_id_claims"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_denial_work")),
        sa.UniqueConstraint("item_key", name=op.f("uq_denial_work_item_key")),
    )
    with op.batch_alter_table("denial_work", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_denial_work_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_denial_work_status"), ["status"], unique=False)
    op.create_table(
        "denial_status_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("replacement_claim_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_id"],
            ["denial_work.id"],
            name=op.f("fk_denial_status_history_work_id_denial_work"),
        ),
        sa.ForeignKeyConstraint(
            ["replacement_claim_id"],
            ["claims.id"],
            name=op.f("fk_denial_status_history_replacement_claim_id_claims"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_denial_status_history")),
    )
    with op.batch_alter_table("denial_status_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_denial_status_history_work_id"), ["work_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("denial_status_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_denial_status_history_work_id"))
    op.drop_table("denial_status_history")
    with op.batch_alter_table("denial_work", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_denial_work_status"))
        batch_op.drop_index(batch_op.f("ix_denial_work_claim_id"))
    op.drop_table("denial_work")
