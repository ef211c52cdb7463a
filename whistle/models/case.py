"""A case and its encrypted parts.

Only what routing, deadlines and statistics need is plaintext here. Every report field lives
in ``case_fields`` encrypted under the case key; identity and witness details live in
``identity_blobs`` encrypted under a separate identity key that is split between custodians.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, new_id, utcnow


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        # The inbox: a team's cases by status, sorted by deadline.
        Index("ix_cases_team_status_due", "team_id", "status", "due_on"),
        Index("ix_cases_unit_status_due", "unit_id", "status", "due_on"),
        Index("ix_cases_status_due", "status", "due_on"),
        # Inbox keyset order (due_on, id) and the sweep's deadline scans (migration 0002).
        Index("ix_cases_due_id", "due_on", "id"),
        # Late-only inbox in deadline order, whatever the planner's statistics say (0004).
        Index("ix_cases_late_due_id", "is_late", "due_on", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # Public register number for the helpdesk; random so it reveals neither order nor volume.
    register_no: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    category: Mapped[str] = mapped_column(String(32), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))  # handling team now
    tier: Mapped[str | None] = mapped_column(String(24))  # investigation tier
    anonymity: Mapped[str] = mapped_column(String(16))  # "anonymous" | "confidential"
    # The telaah (SP4N-LAPOR! b, e), plain because statistics count them; NULL until recorded.
    classification: Mapped[str | None] = mapped_column(String(16))  # domain Classification
    confidential_handling: Mapped[bool | None] = mapped_column(Boolean)
    has_identity: Mapped[bool] = mapped_column(Boolean, default=False)
    has_witnesses: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the report really arrived (intake channels may be days old); deadlines run from it.
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    step_started_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    is_late: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    needs_attention: Mapped[bool] = mapped_column(Boolean, default=False)  # new reporter input
    # HMAC(pepper, ticket): finds the case from a ticket; the ticket itself is never stored.
    ticket_lookup: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    ticket_salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    # The Argon2 cost the reporter key was derived with (crypto.encode_params), so the default
    # can be raised later without locking out older tickets.
    ticket_kdf: Mapped[bytes] = mapped_column(LargeBinary(14))
    # True while the ticket in force is one issued at the intake desk, which the penerima saw:
    # it opens nothing until the reporter confirms a fresh one (services/reporter/intake_ticket.py).
    ticket_single_use: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optimistic locking: two officers acting at once cannot both move the same case.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    fields: Mapped[list[CaseField]] = relationship(back_populates="case", cascade="all, delete-orphan")
    key_wraps: Mapped[list[CaseKeyWrap]] = relationship(cascade="all, delete-orphan")


class CaseField(Base):
    """One report field, encrypted under the case key with aad ``case:<id>|field:<name>``."""

    __tablename__ = "case_fields"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    blob: Mapped[bytes] = mapped_column(LargeBinary)

    case: Mapped[Case] = relationship(back_populates="fields")


class CaseKeyWrap(Base):
    """The case key wrapped to one holder: a team (HPKE) or, when team_id is null, the ticket."""

    __tablename__ = "case_key_wraps"
    __table_args__ = (UniqueConstraint("case_id", "team_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    blob: Mapped[bytes] = mapped_column(LargeBinary)


class CaseStatement(Base):
    """The reported person's statement (keterangan terlapor), recorded by the pengkaji.

    A record of its own, never a thread message: the reporter's view reads only messages, so
    what the reported person said cannot reach them. Encrypted under the case key with aad
    ``case:<id>|statement:<id>``; who recorded it and when stay plain for accountability.
    """

    __tablename__ = "case_statements"
    __table_args__ = (Index("ix_case_statements_case_at", "case_id", "at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    blob: Mapped[bytes] = mapped_column(LargeBinary)


class IdentityBlob(Base):
    """Identity or witness details, encrypted under the case's identity key."""

    __tablename__ = "identity_blobs"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # "identity" | "witnesses"
    blob: Mapped[bytes] = mapped_column(LargeBinary)


class IdentityShare(Base):
    """One Shamir share of the identity key, wrapped to a custodian team (UKI or PYB)."""

    __tablename__ = "identity_shares"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    blob: Mapped[bytes] = mapped_column(LargeBinary)
