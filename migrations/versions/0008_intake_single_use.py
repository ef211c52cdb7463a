"""intake tickets are single-use: cases.ticket_single_use

Revision ID: 0008intakeonce
Revises: 0007auditanchor
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008intakeonce"
down_revision: str | Sequence[str] | None = "0007auditanchor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ticket_single_use", sa.Boolean(), nullable=True))
    # Every case recorded at the desk before this revision still has the ticket the penerima
    # saw (a reporter's earlier log-ins did not change it): it is replaced at the next log-in.
    op.get_bind().execute(sa.text(
        "UPDATE cases SET ticket_single_use = (channel <> 'web')"))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.alter_column("ticket_single_use", existing_type=sa.Boolean(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("ticket_single_use")
