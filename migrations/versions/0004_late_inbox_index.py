"""cases (is_late, due_on, id): the late-only inbox as one ordered index range

Right after a sweep flips many is_late flags the planner's statistics are stale; with this
index the late-only inbox is an ordered range scan whatever they say.

Revision ID: 0004lateinbox
Revises: 0003ticketkdf
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004lateinbox"
down_revision: str | Sequence[str] | None = "0003ticketkdf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_late_due_id", ["is_late", "due_on", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_late_due_id")
