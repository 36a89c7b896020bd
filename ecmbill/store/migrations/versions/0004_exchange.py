"""plan data exchange: member details, lead care managers, staff contacts, re-rate marks

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member_details",
        sa.Column("member_id", sa.String(length=9), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=2), nullable=True),
        sa.Column("zip", sa.String(length=10), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("homeless", sa.Boolean(), nullable=True),
        sa.Column("population_of_focus", sa.String(length=200), nullable=True),
        sa.Column("assignment_date", sa.Date(), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.member_id"], name=op.f("fk_member_details_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_details")),
    )
    op.create_table(
        "lead_care_managers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=9), nullable=False),
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.member_id"],
            name=op.f("fk_lead_care_managers_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.staff_id"], name=op.f("fk_lead_care_managers_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_care_managers")),
        sa.UniqueConstraint(
            "member_id", "start_date", name=op.f("uq_lead_care_managers_member_id")
        ),
    )
    with op.batch_alter_table("lead_care_managers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lead_care_managers_member_id"), ["member_id"], unique=False
        )
    op.create_table(
        "staff_contacts",
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.staff_id"], name=op.f("fk_staff_contacts_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_staff_contacts")),
    )
    op.create_table(
        "rerate_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=9), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["import_batches.id"],
            name=op.f("fk_rerate_marks_import_batch_id_import_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.member_id"], name=op.f("fk_rerate_marks_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rerate_marks")),
    )
    with op.batch_alter_table("rerate_marks", schema=None) as batch_op:
        batch_op.create_index("ix_rerate_marks_member_month", ["member_id", "month"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rerate_marks", schema=None) as batch_op:
        batch_op.drop_index("ix_rerate_marks_member_month")
    op.drop_table("rerate_marks")
    op.drop_table("staff_contacts")
    with op.batch_alter_table("lead_care_managers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_care_managers_member_id"))
    op.drop_table("lead_care_managers")
    op.drop_table("member_details")
