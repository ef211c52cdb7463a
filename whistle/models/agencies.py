"""Public keys of other agencies that referral packages are encrypted to (admin-kept list)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class AgencyKey(Base):
    """An age recipient or an OpenPGP certificate (public material only) of a receiving agency."""

    __tablename__ = "agency_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # crypto.external.AGE | OPENPGP
    key_text: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    added_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
