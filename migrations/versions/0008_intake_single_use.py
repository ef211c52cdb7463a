"""intake tickets are single-use

Revision ID: 0008intakeonce
Revises: 0007auditanchor
"""
from __future__ import annotations

from collections.abc import Sequence

revision: str = "0008intakeonce"
down_revision: str | Sequence[str] | None = "0007auditanchor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # placeholder: filled in by the change that needs it


def downgrade() -> None:
    pass
