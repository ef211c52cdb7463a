"""membership approvals: a pending member gets a team key only by explicit approval

Revision ID: 0005membership
Revises: 0004lateinbox
"""
from __future__ import annotations

from collections.abc import Sequence

revision: str = "0005membership"
down_revision: str | Sequence[str] | None = "0004lateinbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # placeholder: filled in by the change that needs it


def downgrade() -> None:
    pass
