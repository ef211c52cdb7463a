"""Opening a reporter's identity: the request, its decision and the custodians' released shares."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, new_id, utcnow


class IdentityRequest(Base):
    """An audited request to open a reporter's identity (DESIGN.md §3, identity escalation)."""

    __tablename__ = "identity_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    reason_blob: Mapped[bytes] = mapped_column(LargeBinary)  # under the case key
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|approved|refused|opened
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    tell_reporter: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ShareRelease(Base):
    """A custodian's share, re-wrapped to the requester's public key (never stored in clear)."""

    __tablename__ = "share_releases"

    request_id: Mapped[str] = mapped_column(
        ForeignKey("identity_requests.id", ondelete="CASCADE"), primary_key=True
    )
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    custodian_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    released_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
