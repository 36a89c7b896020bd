"""several health plans: plans, members' plan assignments by date span, eligibility per plan,
the plan of each claim

Every existing database becomes an office with one plan, ``default``: its contract is the
stored contract and its payer the claim settings' payer, so it rates and claims exactly as
before. Eligibility rows and claims are that plan's.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_PLAN = "default"
MESSAGE = "plan spans of one member must not overlap"


def upgrade() -> None:
    plans = op.create_table(
        "plans",
        sa.Column("key", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("contract_toml", sa.Text(), nullable=True),
        sa.Column("payer_settings", sa.Text(), server_default="{}", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_plans")),
        sa.UniqueConstraint("position", name=op.f("uq_plans_position")),
    )
    op.bulk_insert(
        plans,
        [
            {
                "key": DEFAULT_PLAN,
                "name": "Default plan",
                "position": 1,
                "contract_toml": None,
                "payer_settings": "{}",
                "created_at": datetime.now(UTC),
            }
        ],
    )
    op.create_table(
        "plan_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=9), nullable=False),
        sa.Column("plan", sa.String(length=20), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.member_id"],
            name=op.f("fk_plan_assignments_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["plan"], ["plans.key"], name=op.f("fk_plan_assignments_plan_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_assignments")),
    )
    with op.batch_alter_table("plan_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_assignments_member_id"), ["member_id"], unique=False
        )
    _refuse_overlaps()

    with op.batch_alter_table("eligibility", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("plan", sa.String(length=20), server_default=DEFAULT_PLAN, nullable=False)
        )
        batch_op.drop_constraint("pk_eligibility", type_="primary")
        batch_op.create_primary_key("pk_eligibility", ["member_id", "month", "plan"])
        batch_op.create_foreign_key(
            batch_op.f("fk_eligibility_plan_plans"), "plans", ["plan"], ["key"]
        )
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("plan", sa.String(length=20), server_default=DEFAULT_PLAN, nullable=False)
        )
        batch_op.create_foreign_key(batch_op.f("fk_claims_plan_plans"), "plans", ["plan"], ["key"])


def _refuse_overlaps() -> None:
    """As 0008 does for enrollments: only the database can refuse overlapping spans across
    concurrent writers (PostgreSQL serialises the check per member with an advisory lock)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION plan_assignments_refuse_overlap() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN PERFORM pg_advisory_xact_lock(hashtext('plan_assignments:' || "
            "NEW.member_id)); IF EXISTS (SELECT 1 FROM plan_assignments AS other "
            "WHERE other.member_id = NEW.member_id AND other.id <> NEW.id "
            "AND other.start_date <= COALESCE(NEW.end_date, DATE '9999-12-31') "
            "AND NEW.start_date <= COALESCE(other.end_date, DATE '9999-12-31')) THEN "
            f"RAISE EXCEPTION '{MESSAGE}'; END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER plan_assignments_no_overlap BEFORE INSERT OR UPDATE ON "
            "plan_assignments FOR EACH ROW EXECUTE FUNCTION plan_assignments_refuse_overlap()"
        )
        return
    for action in ("INSERT", "UPDATE"):
        # SQLite leaves NEW.id undefined before an insert: an insert compares with every row.
        not_self = "" if action == "INSERT" else "AND other.id <> NEW.id "
        op.execute(
            f"CREATE TRIGGER plan_assignments_no_overlap_{action.lower()} BEFORE {action} "
            "ON plan_assignments WHEN EXISTS (SELECT 1 FROM plan_assignments AS other "
            f"WHERE other.member_id = NEW.member_id {not_self}"
            "AND other.start_date <= COALESCE(NEW.end_date, '9999-12-31') "
            "AND NEW.start_date <= COALESCE(other.end_date, '9999-12-31')) "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def downgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_claims_plan_plans"), type_="foreignkey")
        batch_op.drop_column("plan")
    op.execute(f"DELETE FROM eligibility WHERE plan <> '{DEFAULT_PLAN}'")
    with op.batch_alter_table("eligibility", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_eligibility_plan_plans"), type_="foreignkey")
        batch_op.drop_constraint("pk_eligibility", type_="primary")
        batch_op.create_primary_key("pk_eligibility", ["member_id", "month"])
        batch_op.drop_column("plan")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER plan_assignments_no_overlap ON plan_assignments")
        op.execute("DROP FUNCTION plan_assignments_refuse_overlap()")
    with op.batch_alter_table("plan_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_assignments_member_id"))
    op.drop_table("plan_assignments")
    op.drop_table("plans")
