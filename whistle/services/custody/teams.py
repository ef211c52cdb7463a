"""Teams (one role at one unit) and the wrapping of their private keys to members.

A team private key exists in clear only in memory: in the admin's request that creates the
team (wrapped at once to the first member), and in the encrypted server session of a member
who has logged in. The admin never holds it afterwards. A member added later stays *pending*
(``wrapped_key`` NULL) until someone holding the key wraps it to the newcomer's public key,
which happens automatically at that holder's next log-in or through the explicit
"approve pending members" action.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto import CryptoError, PrivateKey, PublicKey

from ...domain.constants import Role
from ...models import Officer, Team, TeamMember, Unit
from ..messages import N_, Refusal
from . import audit
from .casekeys import team_key_context

# Roles that work on cases in teams. Admin and auditor never hold team keys: they must never
# be able to read case content.
TEAM_ROLES: tuple[str, ...] = (Role.PENERIMA, Role.VERIFIKATOR, Role.PYB, Role.PENGKAJI, Role.UKI)


class TeamError(Refusal):
    """A team operation that the rules forbid; the message is safe to show to the admin."""


def wrap_team_key(team_id: int, team_key: PrivateKey, officer_public_key: bytes) -> bytes:
    return PublicKey.from_bytes(officer_public_key).wrap(team_key.to_bytes(),
                                                         context=team_key_context(team_id))


def unwrap_team_key(team_id: int, blob: bytes, officer_key: PrivateKey) -> PrivateKey:
    return PrivateKey.from_bytes(officer_key.unwrap(blob, context=team_key_context(team_id)))


def _check_member(team: Team, officer: Officer) -> None:
    if not officer.active:
        raise TeamError(N_("The officer is deactivated."))
    if officer.role != team.role:
        raise TeamError(N_("The officer's role differs from the team's role."))
    if officer.unit_id != team.unit_id:
        raise TeamError(N_("The officer belongs to another unit."))


def create_team(db: Session, actor: str, unit: Unit, role: str, first_member: Officer) -> Team:
    """New team keypair, wrapped to ``first_member`` only; the private key is then dropped."""
    if role not in TEAM_ROLES:
        raise TeamError(N_("Teams exist only for case-handling roles."))
    if db.scalar(select(Team.id).where(Team.unit_id == unit.id, Team.role == role)) is not None:
        raise TeamError(N_("This unit already has a team for that role."))
    if first_member.public_key is None or first_member.enrolled_at is None:
        # Without the member's public key the new team key could only be stored unwrapped.
        raise TeamError(N_("The first member must have completed enrolment."))
    key = PrivateKey.generate()
    team = Team(unit_id=unit.id, role=role, public_key=key.public_key().to_bytes())
    _check_member(team, first_member)
    db.add(team)
    db.flush()
    db.add(TeamMember(team_id=team.id, officer_id=first_member.id,
                      wrapped_key=wrap_team_key(team.id, key, first_member.public_key)))
    db.flush()
    del key  # never stored; only the wrap to the first member remains
    audit.append(db, actor, "team.create", f"team:{team.id}",
                 f"unit={unit.code} role={role} first_member=officer:{first_member.id} "
                 f"fingerprint={PublicKey.from_bytes(team.public_key).fingerprint()}")
    return team


def add_member(db: Session, actor: str, team: Team, officer: Officer) -> TeamMember:
    """A pending membership; a key holder completes it (the admin cannot, by design)."""
    _check_member(team, officer)
    if db.get(TeamMember, (team.id, officer.id)) is not None:
        raise TeamError(N_("The officer is already a member of this team."))
    member = TeamMember(team_id=team.id, officer_id=officer.id, wrapped_key=None)
    db.add(member)
    db.flush()
    audit.append(db, actor, "team.member_add", f"team:{team.id}",
                 f"officer:{officer.id} pending")
    return member


def remove_member(db: Session, actor: str, team: Team, officer: Officer) -> None:
    """Drop a membership. Refused for the last key holder: that would lose the team key."""
    member = db.get(TeamMember, (team.id, officer.id))
    if member is None:
        raise TeamError(N_("Not a member."))
    if member.wrapped_key is not None and holder_count(db, team.id) <= 1:
        raise TeamError(N_("This officer is the last key holder; add and approve another member first."))
    db.delete(member)
    db.flush()
    audit.append(db, actor, "team.member_remove", f"team:{team.id}", f"officer:{officer.id}")


def holder_count(db: Session, team_id: int) -> int:
    return int(db.scalar(select(func.count()).select_from(TeamMember).where(
        TeamMember.team_id == team_id, TeamMember.wrapped_key.is_not(None))) or 0)


def sole_holder_teams(db: Session, officer_id: int) -> list[Team]:
    """Teams whose key only this officer holds (a reset of this officer would lose them)."""
    teams = db.scalars(select(Team).join(TeamMember, TeamMember.team_id == Team.id).where(
        TeamMember.officer_id == officer_id, TeamMember.wrapped_key.is_not(None))).all()
    return [t for t in teams if holder_count(db, t.id) == 1]


def unwrap_team_keys(db: Session, officer: Officer, officer_key: PrivateKey) -> dict[int, PrivateKey]:
    """All team keys this officer holds a wrap for. A wrap that fails to open is skipped
    (e.g. made to a key from before a reset) rather than blocking the log-in."""
    keys: dict[int, PrivateKey] = {}
    rows = db.scalars(select(TeamMember).where(
        TeamMember.officer_id == officer.id, TeamMember.wrapped_key.is_not(None))).all()
    for row in rows:
        assert row.wrapped_key is not None
        try:
            keys[row.team_id] = unwrap_team_key(row.team_id, row.wrapped_key, officer_key)
        except CryptoError:
            continue
    return keys


@dataclass(frozen=True)
class Pending:
    team: Team
    officer: Officer
    ready: bool  # the pending officer has enrolled (has a public key) and is active


def pending_members(db: Session, team_ids: list[int] | None = None) -> list[Pending]:
    stmt = select(TeamMember).where(TeamMember.wrapped_key.is_(None))
    if team_ids is not None:
        if not team_ids:
            return []
        stmt = stmt.where(TeamMember.team_id.in_(team_ids))
    rows = db.scalars(stmt.order_by(TeamMember.team_id, TeamMember.officer_id)).all()
    return [Pending(r.team, r.officer, r.officer.public_key is not None and r.officer.active
                    and r.officer.enrolled_at is not None) for r in rows]


def complete_pending(db: Session, actor: Officer, team_keys: Mapping[int, PrivateKey],
                     only_team: int | None = None, only_officer: int | None = None) -> list[tuple[int, int]]:
    """Wrap each held team key to that team's enrolled pending members. Returns (team, officer)."""
    done: list[tuple[int, int]] = []
    for p in pending_members(db, [t for t in team_keys if only_team in (None, t)]):
        if not p.ready or (only_officer is not None and p.officer.id != only_officer):
            continue
        key = team_keys[p.team.id]
        if key.public_key().to_bytes() != p.team.public_key:
            continue  # a stale session key must never be handed on as the team key
        member = db.get(TeamMember, (p.team.id, p.officer.id))
        assert member is not None and p.officer.public_key is not None
        member.wrapped_key = wrap_team_key(p.team.id, key, p.officer.public_key)
        db.flush()
        audit.append(db, f"officer:{actor.id}", "team.member_wrap", f"team:{p.team.id}",
                     f"officer:{p.officer.id}")
        done.append((p.team.id, p.officer.id))
    return done


def memberships(db: Session, officer_id: int) -> list[TeamMember]:
    return list(db.scalars(select(TeamMember).where(TeamMember.officer_id == officer_id)
                           .order_by(TeamMember.team_id)).all())
