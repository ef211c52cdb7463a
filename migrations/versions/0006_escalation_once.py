"""identity escalation: expiry, ephemeral per-request keys, legal basis, consent

Adds the reporter's consent (identity_consents) and, on identity_requests, the requester's
role, the sealed legal basis and decision, the request's ephemeral key pair (public half and
private half sealed to the requester), and when it was opened and its keys destroyed.

Data: every existing share release was wrapped to a requester's LONG-TERM key, which opens
it forever (issue 7, item 3). Their blobs are blanked (the rows stay as the record that a
custodian released a share; nothing in them opens anything any more); approved requests that were not opened
become 'expired' (opening needs a new request, under the new rules), opened ones stay
'opened' for the reporter's list (date: their decision, the best known), refused ones end.

Revision ID: 0006escalation
Revises: 0005membership
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0006escalation"
down_revision: str | Sequence[str] | None = "0005membership"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FK_CONSENT = "fk_identity_requests_consent_id_identity_consents"
_IX_STATUS = "ix_identity_requests_status_created"


def upgrade() -> None:
    op.create_table(
        "identity_consents",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_identity_consents_case_id_cases"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_consents")),
    )
    with op.batch_alter_table("identity_consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_consents_case_id"), ["case_id"], unique=False)

    with op.batch_alter_table("identity_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requester_role", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("basis_blob", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("consent_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("decision_blob", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("ephemeral_public", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("ephemeral_sealed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(_FK_CONSENT, "identity_consents", ["consent_id"], ["id"],
                                    ondelete="SET NULL")
        batch_op.create_index(_IX_STATUS, ["status", "created_at"], unique=False)

    bind = op.get_bind()
    now = datetime.now(UTC)
    bind.execute(sa.text("UPDATE share_releases SET blob = :empty"), {"empty": b""})
    bind.execute(sa.text(
        "UPDATE identity_requests SET requester_role = "
        "(SELECT role FROM officers WHERE officers.id = identity_requests.requester_id)"))
    bind.execute(sa.text("UPDATE identity_requests SET status = 'expired', ended_at = :now "
                         "WHERE status = 'approved'"), {"now": now})
    bind.execute(sa.text("UPDATE identity_requests SET opened_at = COALESCE(decided_at, "
                         "created_at), ended_at = :now WHERE status = 'opened'"), {"now": now})
    bind.execute(sa.text("UPDATE identity_requests SET ended_at = COALESCE(decided_at, :now) "
                         "WHERE status = 'refused'"), {"now": now})


def downgrade() -> None:
    # The old code knows no 'expired' or 'withdrawn': both end a request, as a refusal does.
    op.get_bind().execute(sa.text("UPDATE identity_requests SET status = 'refused' "
                                  "WHERE status IN ('expired', 'withdrawn')"))
    with op.batch_alter_table("identity_requests", schema=None) as batch_op:
        batch_op.drop_index(_IX_STATUS)
        batch_op.drop_constraint(_FK_CONSENT, type_="foreignkey")
        batch_op.drop_column("ended_at")
        batch_op.drop_column("opened_at")
        batch_op.drop_column("ephemeral_sealed")
        batch_op.drop_column("ephemeral_public")
        batch_op.drop_column("decision_blob")
        batch_op.drop_column("consent_id")
        batch_op.drop_column("basis_blob")
        batch_op.drop_column("requester_role")
    with op.batch_alter_table("identity_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_consents_case_id"))
    op.drop_table("identity_consents")
