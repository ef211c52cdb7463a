"""The conversation of a case: messages (reporter-visible or internal notes) and attachments."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, new_id, utcnow


class Message(Base):
    """Body encrypted under the case key, aad ``case:<id>|message:<message id>``."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_case_created", "case_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(16))  # "reporter" | "officer" | "system"
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    internal: Mapped[bool] = mapped_column(Boolean, default=False)  # never shown to the reporter
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    blob: Mapped[bytes] = mapped_column(LargeBinary)


class Attachment(Base):
    """An evidence file stored encrypted under a random name.

    ``key_blob`` is the per-file key encrypted under the case key (aad
    ``case:<id>|filekey:<attachment id>``); ``meta_blob`` holds the original name, type and
    cleaning report (aad ``case:<id>|attachment:<attachment id>``).
    """

    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)  # ciphertext size on disk
    key_blob: Mapped[bytes] = mapped_column(LargeBinary)
    meta_blob: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
