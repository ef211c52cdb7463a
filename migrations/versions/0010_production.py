"""production robustness

Revision ID: 0010production
Revises: 0009procedure
"""
from __future__ import annotations

from collections.abc import Sequence

revision: str = "0010production"
down_revision: str | Sequence[str] | None = "0009procedure"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # placeholder: filled in by the change that needs it


def downgrade() -> None:
    pass
