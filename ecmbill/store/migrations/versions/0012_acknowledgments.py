"""acknowledgments: 999 and 277CA answers, and the control numbers a 999 names a file by

Revision ID: 0012
Revises: 0008
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("claim_exports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_control_number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("transaction_control_number", sa.Integer(), nullable=True))
    op.create_table(
        "ack_interchanges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("sender_id", sa.String(length=15), nullable=False),
        sa.Column("control_number", sa.String(length=9), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ack_interchanges")),
        sa.UniqueConstraint(
            "kind", "sender_id", "control_number", name=op.f("uq_ack_interchanges_kind")
        ),
    )
    with op.batch_alter_table("ack_interchanges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ack_interchanges_sha256"), ["sha256"], unique=False)
    op.create_table(
        "set_acks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interchange_id", sa.Integer(), nullable=False),
        sa.Column("group_control_number", sa.Integer(), nullable=False),
        sa.Column("transaction_control_number", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=1), nullable=False),
        sa.Column("codes", sa.String(length=40), nullable=False),
        sa.Column("errors", sa.Text(), nullable=False),
        sa.Column("segment", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["interchange_id"],
            ["ack_interchanges.id"],
            name=op.f("fk_set_acks_interchange_id_ack_interchanges"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_set_acks")),
    )
    with op.batch_alter_table("set_acks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_set_acks_group_transaction",
            ["group_control_number", "transaction_control_number"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_set_acks_interchange_id"), ["interchange_id"], unique=False
        )
    op.create_table(
        "claim_acks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interchange_id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("patient_control_number", sa.String(length=50), nullable=False),
        sa.Column("payer_claim_control_number", sa.String(length=50), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("statuses", sa.Text(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("segment", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_claim_acks_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(
            ["interchange_id"],
            ["ack_interchanges.id"],
            name=op.f("fk_claim_acks_interchange_id_ack_interchanges"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_acks")),
    )
    with op.batch_alter_table("claim_acks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_acks_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_claim_acks_interchange_id"), ["interchange_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("claim_acks")
    op.drop_table("set_acks")
    op.drop_table("ack_interchanges")
    with op.batch_alter_table("claim_exports", schema=None) as batch_op:
        batch_op.drop_column("transaction_control_number")
        batch_op.drop_column("group_control_number")
