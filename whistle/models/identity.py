"""Opening a reporter's identity: the request, its decision, the custodians' released shares
and the reporter's own consent (DESIGN.md §3, identity escalation; services/custody/).

What may open an identity lives here only while a request is live: the request's ephemeral
private key (sealed to the requester) and the shares released to its public half. Both are
destroyed when the identity has been shown, and when the request expires, is refused or is
withdrawn, so that nothing left in the database (or a later backup) can open it again.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, new_id, utcnow


class IdentityConsent(Base):
    """The reporter's "you may reveal my identity to the investigators", until used or withdrawn.

    ``blob`` is sealed by the reporter under the case key (aad ``case:<id>|identity_consent:
    <consent id>``): a row inserted by someone without the case key does not verify.
    """

    __tablename__ = "identity_consents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdentityRequest(Base):
    """An audited request to open a reporter's identity, good for one opening by one requester.

    Sealed under the case key: ``reason_blob``, ``basis_blob`` (legal basis: a code of the fixed
    list plus text) and ``decision_blob`` (the PYB's reason, or the consent relied on, bound to
    this requester and this ephemeral key). ``ephemeral_sealed`` is the request's ephemeral HPKE
    private key wrapped to the requester's officer key; NULL once destroyed (``ended_at``).
    """

    __tablename__ = "identity_requests"
    # The sweep looks for live requests past their life.
    __table_args__ = (Index("ix_identity_requests_status_created", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    # The role the requester held when asking: what the reporter is told, never a name.
    requester_role: Mapped[str | None] = mapped_column(String(16))
    reason_blob: Mapped[bytes] = mapped_column(LargeBinary)  # under the case key
    basis_blob: Mapped[bytes | None] = mapped_column(LargeBinary)  # NULL only before 0006
    # pending|approved|refused|opened|expired|withdrawn
    status: Mapped[str] = mapped_column(String(16), default="pending")
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    consent_id: Mapped[str | None] = mapped_column(
        ForeignKey("identity_consents.id", ondelete="SET NULL"))
    decision_blob: Mapped[bytes | None] = mapped_column(LargeBinary)
    tell_reporter: Mapped[bool] = mapped_column(default=True)
    ephemeral_public: Mapped[bytes | None] = mapped_column(LargeBinary)
    ephemeral_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # key material destroyed


class ShareRelease(Base):
    """A custodian's share re-wrapped to the request's EPHEMERAL public key (never in clear).

    Deleted with the ephemeral private key: without it these blobs open nothing anyway.
    """

    __tablename__ = "share_releases"

    request_id: Mapped[str] = mapped_column(
        ForeignKey("identity_requests.id", ondelete="CASCADE"), primary_key=True
    )
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    custodian_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    released_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
