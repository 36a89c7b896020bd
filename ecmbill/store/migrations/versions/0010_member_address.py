"""members carry their residential address and sex; remittances keep their warnings

The 837P's subscriber loop (2010BA) needs the member's address (N3/N4) and sex (DMG03) when
the member is the patient, as every ECM member is. An 835 posted with warnings keeps them.

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MEMBER_COLUMNS = (
    ("address", 200),
    ("city", 100),
    ("state", 2),
    ("zip", 10),
    ("sex", 1),
)


def upgrade() -> None:
    for name, length in MEMBER_COLUMNS:
        op.add_column("members", sa.Column(name, sa.String(length), nullable=True))
    op.create_table(
        "remittance_warnings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remittance_id", sa.Integer(), nullable=False),
        sa.Column("fault", sa.String(30), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["remittance_id"],
            ["remittances.id"],
            name=op.f("fk_remittance_warnings_remittance_id_remittances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remittance_warnings")),
    )
    op.create_index(
        op.f("ix_remittance_warnings_remittance_id"), "remittance_warnings", ["remittance_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_remittance_warnings_remittance_id"), table_name="remittance_warnings")
    op.drop_table("remittance_warnings")
    with op.batch_alter_table("members") as batch:
        for name, _ in reversed(MEMBER_COLUMNS):
            batch.drop_column(name)
