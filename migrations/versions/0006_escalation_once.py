"""identity escalation: expiry, ephemeral per-request keys, legal basis, consent

Revision ID: 0006escalation
Revises: 0005membership
"""
from __future__ import annotations

from collections.abc import Sequence

revision: str = "0006escalation"
down_revision: str | Sequence[str] | None = "0005membership"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # placeholder: filled in by the change that needs it


def downgrade() -> None:
    pass
