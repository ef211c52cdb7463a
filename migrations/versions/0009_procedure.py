"""the procedure as the SOPs write it: classification, hand-offs, copies, unit time zones

units.timezone: the office's own day (WIB/WITA/WIT), existing units count in WIB as before.
cases.classification / cases.confidential_handling: the telaah's plain metadata (NULL until
the verifikator records it). case_statements: the reported person's statement, sealed under
the case key. Copies to other agencies (tembusan) and reclassifications are events and need
no table.

Revision ID: 0009procedure
Revises: 0008intakeonce
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009procedure"
down_revision: str | Sequence[str] | None = "0008intakeonce"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=32), nullable=False,
                                      server_default="Asia/Jakarta"))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("classification", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("confidential_handling", sa.Boolean(), nullable=True))
    op.create_table(
        "case_statements",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_case_statements_case_id_cases"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["officer_id"], ["officers.id"],
                                name=op.f("fk_case_statements_officer_id_officers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_statements")),
    )
    with op.batch_alter_table("case_statements", schema=None) as batch_op:
        batch_op.create_index("ix_case_statements_case_at", ["case_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_statements", schema=None) as batch_op:
        batch_op.drop_index("ix_case_statements_case_at")
    op.drop_table("case_statements")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("confidential_handling")
        batch_op.drop_column("classification")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_column("timezone")
