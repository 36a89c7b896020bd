"""claims: period closes, claims and their lines, exports, control numbers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:18:35.578020
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = ("interchange", "group", "transaction", "claim")


def upgrade() -> None:
    op.create_table(
        "control_counters",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_control_counters")),
    )
    # Counters start at 0 and are only ever incremented (ecmbill.claims.store.next_number).
    op.bulk_insert(
        sa.table("control_counters", sa.column("name", sa.String), sa.column("value", sa.Integer)),
        [{"name": name, "value": 0} for name in COUNTERS],
    )
    op.create_table(
        "period_closes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("claims_created", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_period_closes")),
    )
    with op.batch_alter_table("period_closes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_period_closes_period"), ["period"], unique=False)

    op.create_table(
        "claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("member_id", sa.String(length=9), nullable=False),
        sa.Column("billing_npi", sa.String(length=10), nullable=False),
        sa.Column("frequency", sa.String(length=1), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("patient_control_number", sa.String(length=20), nullable=False),
        sa.Column("payer_claim_control_number", sa.String(length=50), nullable=True),
        sa.Column("corrects_claim_id", sa.Integer(), nullable=True),
        sa.Column("original_reference", sa.String(length=50), nullable=True),
        sa.Column("total_charge", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("diagnosis_code", sa.String(length=8), nullable=False),
        sa.Column("place_of_service", sa.String(length=2), nullable=False),
        sa.Column("close_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["close_id"], ["period_closes.id"], name=op.f("fk_claims_close_id_period_closes")
        ),
        sa.ForeignKeyConstraint(
            ["corrects_claim_id"], ["claims.id"], name=op.f("fk_claims_corrects_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.member_id"], name=op.f("fk_claims_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
        sa.UniqueConstraint(
            "patient_control_number", name=op.f("uq_claims_patient_control_number")
        ),
    )
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.create_index("ix_claims_period_member", ["period", "member_id"], unique=False)

    op.create_table(
        "claim_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("interchange_control_number", sa.Integer(), nullable=True),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_claim_exports_claim_id_claims")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_exports")),
    )
    with op.batch_alter_table("claim_exports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_exports_claim_id"), ["claim_id"], unique=False)

    op.create_table(
        "claim_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("modifiers", sa.String(length=11), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("charge", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=False),
        sa.Column("last_date", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("source_ids", sa.Text(), nullable=False),
        sa.Column("rendering_npi", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_claim_lines_claim_id_claims")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_lines")),
        sa.UniqueConstraint("claim_id", "line_number", name=op.f("uq_claim_lines_claim_id")),
    )
    with op.batch_alter_table("claim_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_lines_claim_id"), ["claim_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("claim_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_lines_claim_id"))

    op.drop_table("claim_lines")
    with op.batch_alter_table("claim_exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_exports_claim_id"))

    op.drop_table("claim_exports")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index("ix_claims_period_member")

    op.drop_table("claims")
    with op.batch_alter_table("period_closes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_period_closes_period"))

    op.drop_table("period_closes")
    op.drop_table("control_counters")
