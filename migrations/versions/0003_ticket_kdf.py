"""cases.ticket_kdf: the Argon2 cost each reporter key was derived with

Revision ID: 0003ticketkdf
Revises: 0002officerinbox
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003ticketkdf"
down_revision: str | Sequence[str] | None = "0002officerinbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Cases filed before this revision used the then-default 16 MiB, t=2, p=1
# (crypto.encode_params(Argon2Params(16384, 2, 1))).
_V1_TICKET_PARAMS = bytes.fromhex("0150000040000000000200000001")


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ticket_kdf", sa.LargeBinary(length=14), nullable=True))
    op.get_bind().execute(sa.text("UPDATE cases SET ticket_kdf = :v"), {"v": _V1_TICKET_PARAMS})
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.alter_column("ticket_kdf", existing_type=sa.LargeBinary(length=14), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("ticket_kdf")
