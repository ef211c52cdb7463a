"""officer case work: inbox keyset index, notification claims

Revision ID: 0002officerinbox
Revises: 266ae79a6842
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002officerinbox"
down_revision: str | Sequence[str] | None = "266ae79a6842"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # (due_on, id): the inbox's keyset order and the sweep's "due before today" scans.
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_due_id", ["due_on", "id"], unique=False)
    op.create_table(
        "case_notices",
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_notices_case_id_cases"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id", "kind", name=op.f("pk_case_notices")),
    )


def downgrade() -> None:
    op.drop_table("case_notices")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_due_id")
