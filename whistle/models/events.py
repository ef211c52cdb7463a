"""What happened to a case (events) and who did what in the system (the audit log)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, new_id, utcnow


class Event(Base):
    """A status transition or notable action on a case.

    The reason may quote case content, so it is encrypted under the case key
    (aad ``case:<id>|event:<event id>``); who/when/from/to stay plaintext for accountability.
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_case_at", "case_id", "at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))  # null: reporter/system
    actor: Mapped[str] = mapped_column(String(16))  # "officer" | "reporter" | "system"
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    reason_blob: Mapped[bytes | None] = mapped_column(LargeBinary)


class AuditEntry(Base):
    """Append-only, hash-chained: hash = SHA-256(prev_hash || canonical entry). No case content."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))  # "officer:<id>" | "system" | "cli"
    action: Mapped[str] = mapped_column(String(64))
    object: Mapped[str | None] = mapped_column(String(80))  # e.g. "case:<id>", "officer:<id>"
    detail: Mapped[str | None] = mapped_column(Text)  # never case content or identity
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)  # no forks
    hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)

