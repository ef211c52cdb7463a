"""In-app notices to officers about their teams' keys, shown on the account page.

Written here, in the same transaction as the approval, refusal, addition or removal they
report, so a team cannot change without its members being told. custody imports nothing
above it, so no mail is sent from here; the rows hold ids and a kind only (names are looked
up when shown), never case content.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...models import Officer, OfficerNotice, Team, TeamMember, utcnow

PENDING = "member_pending"  # a newcomer waits for the holders' approval
APPROVED_ONE = "member_approved_one"  # one approval given, another holder must approve too
JOINED = "member_joined"  # the last approval: the newcomer now holds the team key
REFUSED = "member_refused"
REMOVED = "member_removed"
KINDS: tuple[str, ...] = (PENDING, APPROVED_ONE, JOINED, REFUSED, REMOVED)
SHOWN = 20


def tell_team(db: Session, team_id: int, kind: str, *, subject_id: int,
              actor_id: int | None, holders_only: bool = False) -> int:
    """One notice to every member of the team (or only its key holders) and to the newcomer
    concerned, except the officer who acted. Returns how many were written."""
    stmt = select(TeamMember.officer_id).where(TeamMember.team_id == team_id)
    if holders_only:
        stmt = stmt.where(TeamMember.wrapped_key.is_not(None))
    recipients = set(db.scalars(stmt))
    if not holders_only:
        recipients.add(subject_id)
    if actor_id is not None:
        recipients.discard(actor_id)
    at = utcnow()
    for officer_id in sorted(recipients):
        db.add(OfficerNotice(officer_id=officer_id, kind=kind, team_id=team_id,
                             subject_id=subject_id, actor_id=actor_id, created_at=at))
    db.flush()
    return len(recipients)


@dataclass(frozen=True)
class NoticeView:
    kind: str
    team: str
    subject: str
    actor: str  # "" when the CLI acted
    at: datetime
    unread: bool


def _name(officer: Officer | None) -> str:
    return f"{officer.display_name} ({officer.username})" if officer is not None else ""


def for_officer(db: Session, officer_id: int, limit: int = SHOWN) -> list[NoticeView]:
    """The latest notices, newest first; showing them is their delivery, so they are then
    marked read (the next visit shows them without the "new" mark)."""
    rows = db.scalars(select(OfficerNotice).where(OfficerNotice.officer_id == officer_id)
                      .order_by(OfficerNotice.created_at.desc(), OfficerNotice.id.desc())
                      .limit(limit)).all()
    views = []
    for n in rows:
        team = db.get(Team, n.team_id) if n.team_id is not None else None
        views.append(NoticeView(
            n.kind, f"{team.unit.name} / {team.role}" if team is not None else "",
            _name(db.get(Officer, n.subject_id) if n.subject_id is not None else None),
            _name(db.get(Officer, n.actor_id) if n.actor_id is not None else None),
            n.created_at, n.read_at is None))
    if any(v.unread for v in views):
        db.execute(update(OfficerNotice).where(OfficerNotice.officer_id == officer_id,
                                               OfficerNotice.read_at.is_(None))
                   .values(read_at=utcnow()))
    return views
