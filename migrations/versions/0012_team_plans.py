"""team_plans: teams the guided first-unit form founds when their first officer enrols

Revision ID: 0012teamplans
Revises: 0011agencykeys
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012teamplans"
down_revision: str | Sequence[str] | None = "0011agencykeys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "team_plans",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("planned_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["officer_id"], ["officers.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("unit_id", "role"),
    )
    with op.batch_alter_table("team_plans", schema=None) as batch_op:
        batch_op.create_index("ix_team_plans_officer_id", ["officer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("team_plans", schema=None) as batch_op:
        batch_op.drop_index("ix_team_plans_officer_id")
    op.drop_table("team_plans")
