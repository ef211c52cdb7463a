"""Which officer notifications have been claimed for a case, so each is sent at most once.

A row is inserted (``ON CONFLICT DO NOTHING``) *before* the mail goes out: two sweeps running
at once cannot both claim it, and a crash after the claim loses one mail rather than sending
it twice. ``kind`` is ``new`` or ``late:<due date>`` (a case late again against a new
deadline is announced again). No content: the mail itself names no case.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class CaseNotice(Base):
    __tablename__ = "case_notices"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
