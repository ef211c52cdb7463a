"""membership approvals: a pending member gets a team key only by explicit approval

team_members gains who asked for the membership (added_by_id) and whether it is pending again
after an enrolment reset (after_reset); membership_approvals holds each key holder's approval
of one pending membership for one newcomer key; officer_notices are the in-app notices that
tell a team about approvals and refusals.

Revision ID: 0005membership
Revises: 0004lateinbox
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0005membership"
down_revision: str | Sequence[str] | None = "0004lateinbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("team_members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("added_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("after_reset", sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.create_foreign_key(batch_op.f("fk_team_members_added_by_id_officers"),
                                    "officers", ["added_by_id"], ["id"])
    op.create_table(
        "membership_approvals",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("approver_id", sa.Integer(), nullable=False),
        sa.Column("member_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["approver_id"], ["officers.id"],
                                name=op.f("fk_membership_approvals_approver_id_officers")),
        sa.ForeignKeyConstraint(["team_id", "officer_id"],
                                ["team_members.team_id", "team_members.officer_id"],
                                name=op.f("fk_membership_approvals_team_id_team_members"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "officer_id", "approver_id",
                                name=op.f("pk_membership_approvals")),
    )
    op.create_table(
        "officer_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["officers.id"],
                                name=op.f("fk_officer_notices_actor_id_officers")),
        sa.ForeignKeyConstraint(["officer_id"], ["officers.id"],
                                name=op.f("fk_officer_notices_officer_id_officers")),
        sa.ForeignKeyConstraint(["subject_id"], ["officers.id"],
                                name=op.f("fk_officer_notices_subject_id_officers")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"],
                                name=op.f("fk_officer_notices_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officer_notices")),
    )
    with op.batch_alter_table("officer_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_officer_notices_officer_id"), ["officer_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("officer_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_officer_notices_officer_id"))
    op.drop_table("officer_notices")
    op.drop_table("membership_approvals")
    with op.batch_alter_table("team_members", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_team_members_added_by_id_officers"),
                                 type_="foreignkey")
        batch_op.drop_column("after_reset")
        batch_op.drop_column("added_by_id")
