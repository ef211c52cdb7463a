"""Teams planned by the guided first-unit form, founded when their first officer enrols."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class TeamPlan(Base):
    """"When this officer enrols, found the (unit, role) team with them as its first member."

    A plan hands no existing key to anyone: founding makes a new team key pair and wraps it to
    the founder, exactly as the admin's "create team" does once the officer has enrolled.
    """

    __tablename__ = "team_plans"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    planned_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
