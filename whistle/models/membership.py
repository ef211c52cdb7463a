"""Approvals of pending team memberships, and the in-app notices that tell officers about them.

An approval is one key holder's recorded "yes" for one pending membership and one newcomer key
(``member_key`` = SHA-256 of the public key the approver compared): a reset in between gives
the newcomer a new key and the old approval no longer counts. The team key is wrapped only at
the last approval needed (services/custody/membership.py); the rows then go, the audit log
keeps the history.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class MembershipApproval(Base):
    __tablename__ = "membership_approvals"
    __table_args__ = (
        ForeignKeyConstraint(["team_id", "officer_id"],
                             ["team_members.team_id", "team_members.officer_id"],
                             ondelete="CASCADE"),
    )

    team_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    officer_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the newcomer
    # One approval per holder: the primary key makes "two distinct holders" a database fact.
    approver_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), primary_key=True)
    member_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OfficerNotice(Base):
    """A line on an officer's account page ("X approved Y for team Z"). Names are looked up
    when shown; the row holds ids and a kind only, never case content."""

    __tablename__ = "officer_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)  # recipient
    kind: Mapped[str] = mapped_column(String(24))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
