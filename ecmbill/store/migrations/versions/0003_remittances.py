"""remittances: 835 transactions, claim and line answers, adjustments

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 12:29:46.243974
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "remittances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trace_number", sa.String(length=50), nullable=False),
        sa.Column("payer_id", sa.String(length=50), nullable=False),
        sa.Column("payer_name", sa.String(length=60), nullable=False),
        sa.Column("payment_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("payment_method", sa.String(length=3), nullable=False),
        sa.Column("payment_date", sa.Date(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remittances")),
        sa.UniqueConstraint("trace_number", "payer_id", name=op.f("uq_remittances_trace_number")),
    )
    op.create_table(
        "provider_adjustments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remittance_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.String(length=50), nullable=False),
        sa.Column("fiscal_date", sa.Date(), nullable=False),
        sa.Column("reason_code", sa.String(length=2), nullable=False),
        sa.Column("reference", sa.String(length=50), nullable=True),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["remittance_id"],
            ["remittances.id"],
            name=op.f("fk_provider_adjustments_remittance_id_remittances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_adjustments")),
    )
    with op.batch_alter_table("provider_adjustments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_provider_adjustments_remittance_id"), ["remittance_id"], unique=False
        )

    op.create_table(
        "remit_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remittance_id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("patient_control_number", sa.String(length=38), nullable=False),
        sa.Column("status_code", sa.String(length=2), nullable=False),
        sa.Column("charge", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("paid", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("patient_responsibility", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("payer_claim_control_number", sa.String(length=50), nullable=True),
        sa.Column("remarks", sa.String(length=200), nullable=False),
        sa.Column("segment", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_remit_claims_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(
            ["remittance_id"],
            ["remittances.id"],
            name=op.f("fk_remit_claims_remittance_id_remittances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remit_claims")),
    )
    with op.batch_alter_table("remit_claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_remit_claims_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_remit_claims_remittance_id"), ["remittance_id"], unique=False
        )

    op.create_table(
        "remit_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remit_claim_id", sa.Integer(), nullable=False),
        sa.Column("claim_line_id", sa.Integer(), nullable=True),
        sa.Column("match", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("modifiers", sa.String(length=11), nullable=False),
        sa.Column("charge", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("paid", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("units", sa.Integer(), nullable=True),
        sa.Column("first_date", sa.Date(), nullable=True),
        sa.Column("last_date", sa.Date(), nullable=True),
        sa.Column("remarks", sa.String(length=200), nullable=False),
        sa.Column("segment", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_line_id"],
            ["claim_lines.id"],
            name=op.f("fk_remit_lines_claim_line_id_claim_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["remit_claim_id"],
            ["remit_claims.id"],
            name=op.f("fk_remit_lines_remit_claim_id_remit_claims"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remit_lines")),
    )
    with op.batch_alter_table("remit_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_remit_lines_claim_line_id"), ["claim_line_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_remit_lines_remit_claim_id"), ["remit_claim_id"], unique=False
        )

    op.create_table(
        "remit_adjustments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remit_claim_id", sa.Integer(), nullable=False),
        sa.Column("remit_line_id", sa.Integer(), nullable=True),
        sa.Column("group_code", sa.String(length=2), nullable=False),
        sa.Column("reason_code", sa.String(length=5), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["remit_claim_id"],
            ["remit_claims.id"],
            name=op.f("fk_remit_adjustments_remit_claim_id_remit_claims"),
        ),
        sa.ForeignKeyConstraint(
            ["remit_line_id"],
            ["remit_lines.id"],
            name=op.f("fk_remit_adjustments_remit_line_id_remit_lines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remit_adjustments")),
    )
    with op.batch_alter_table("remit_adjustments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_remit_adjustments_remit_claim_id"), ["remit_claim_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("remit_adjustments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_remit_adjustments_remit_claim_id"))

    op.drop_table("remit_adjustments")
    with op.batch_alter_table("remit_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_remit_lines_remit_claim_id"))
        batch_op.drop_index(batch_op.f("ix_remit_lines_claim_line_id"))

    op.drop_table("remit_lines")
    with op.batch_alter_table("remit_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_remit_claims_remittance_id"))
        batch_op.drop_index(batch_op.f("ix_remit_claims_claim_id"))

    op.drop_table("remit_claims")
    with op.batch_alter_table("provider_adjustments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_adjustments_remittance_id"))

    op.drop_table("provider_adjustments")
    op.drop_table("remittances")
