"""Units, officers and teams (a team is one role at one unit) with their key material."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


class Unit(Base):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The office's own day (WIB/WITA/WIT as an IANA zone, domain OfficeZone): its working days,
    # deadlines and "late" are counted in it (migration 0009).
    timezone: Mapped[str] = mapped_column(String(32), default="Asia/Jakarta",
                                          server_default="Asia/Jakarta")


class Officer(Base):
    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), index=True)  # whistle.domain.constants.Role
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(254))  # work address for notifications
    # Argon2id PHC string (argon2-cffi). Null until the officer has enrolled.
    passphrase_hash: Mapped[str | None] = mapped_column(String(255))
    # TOTP secret encrypted under the instance's totp_key (not in the DB).
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)  # refuse replayed codes
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    sealed_private_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    # SHA-256 of the one-time enrolment secret; cleared once used.
    enrolment_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    enrolment_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    throttle_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit | None] = relationship()


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("unit_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()


class TeamMember(Base):
    """Membership; ``wrapped_key`` is the team private key wrapped to the officer's public key.

    It is null while the membership is pending: an admin asked for it (or reset the officer's
    enrolment), and the key holders have not yet approved it (services/custody/membership.py).
    """

    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), primary_key=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who asked for this (pending) membership: the admin's account, NULL for the CLI. Shown on
    # the approval page so the approvers see who is vouching for the newcomer (migration 0005).
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    # Pending again because the officer's enrolment was reset (a new key pair).
    after_reset: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    team: Mapped[Team] = relationship()
    officer: Mapped[Officer] = relationship(foreign_keys=[officer_id])
    added_by: Mapped[Officer | None] = relationship(foreign_keys=[added_by_id])
