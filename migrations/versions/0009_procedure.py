"""the procedure as the SOPs write it: classification, hand-offs, copies, unit time zones

Revision ID: 0009procedure
Revises: 0008intakeonce
"""
from __future__ import annotations

from collections.abc import Sequence

revision: str = "0009procedure"
down_revision: str | Sequence[str] | None = "0008intakeonce"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # placeholder: filled in by the change that needs it


def downgrade() -> None:
    pass
