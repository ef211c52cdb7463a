"""audit log anchored under an instance key

Revision ID: 0007auditanchor
Revises: 0006escalation
"""
from __future__ import annotations

from collections.abc import Sequence

revision: str = "0007auditanchor"
down_revision: str | Sequence[str] | None = "0006escalation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # placeholder: filled in by the change that needs it


def downgrade() -> None:
    pass
