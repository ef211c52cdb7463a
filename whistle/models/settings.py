"""Operator-maintained tables: calendar overrides and server-side sessions."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class CalendarOverride(Base):
    """A late change to the working-day calendar: an extra holiday, or a holiday removed."""

    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_holiday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")


class ServerSession(Base):
    """Session record keyed by SHA-256 of the cookie's id; ``blob`` is sealed under the cookie's key."""

    __tablename__ = "server_sessions"

    id_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
