"""Teams (one role at one unit): creation, pending members, removal, and who holds the key.

A team private key exists in clear only in memory: in the admin's request that creates the
team (wrapped at once to the first member, then dropped), and in the encrypted server session
of a member who holds it. A member added later stays *pending* (``wrapped_key`` NULL) until
the team's key holders approve them (``membership.approve``); nothing here wraps the key to
anybody but the first member. The last key holder of a team cannot be removed (nor reset or
deactivated: ``people.accounts``), since nobody could ever open the team's cases again.
"""
from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from crypto import PrivateKey, PublicKey

from ...domain.constants import Role
from ...models import IdentityShare, MembershipApproval, Officer, Team, TeamMember, Unit, utcnow
from ..messages import N_, Refusal
from . import audit, notices
from .casekeys import team_key_context

# Roles that work on cases in teams. Admin and auditor never hold team keys: they must never
# be able to read case content.
TEAM_ROLES: tuple[str, ...] = (Role.PENERIMA, Role.VERIFIKATOR, Role.PYB, Role.PENGKAJI, Role.UKI)
# Roles whose teams are the identity custodians (DESIGN.md §3: one UKI and one PYB share).
IDENTITY_ROLES: tuple[str, ...] = (Role.UKI, Role.PYB)


class TeamError(Refusal):
    """A team operation that the rules forbid; the message is safe to show to the admin."""


def actor_id(actor: str) -> int | None:
    """The officer id in an audit actor string (``officer:<id>``); None for ``cli``/``system``."""
    kind, _, number = actor.partition(":")
    return int(number) if kind == "officer" and number.isdigit() else None


def wrap_team_key(team_id: int, team_key: PrivateKey, officer_public_key: bytes) -> bytes:
    return PublicKey.from_bytes(officer_public_key).wrap(team_key.to_bytes(),
                                                         context=team_key_context(team_id))


def unwrap_team_key(team_id: int, blob: bytes, officer_key: PrivateKey) -> PrivateKey:
    return PrivateKey.from_bytes(officer_key.unwrap(blob, context=team_key_context(team_id)))


def team_label(team: Team) -> str:
    return f"{team.unit.code} / {team.role}"


def _check_member(team: Team, officer: Officer) -> None:
    if not officer.active:
        raise TeamError(N_("The officer is deactivated."))
    if officer.role != team.role:
        raise TeamError(N_("The officer's role differs from the team's role."))
    if officer.unit_id != team.unit_id:
        raise TeamError(N_("The officer belongs to another unit."))


def create_team(db: Session, actor: str, unit: Unit, role: str, first_member: Officer) -> Team:
    """New team keypair, wrapped to ``first_member`` only; the private key is then dropped.

    The one hand-over without an approver: a new team has no holder yet to approve anyone.
    Whoever creates the team therefore chooses who can read the cases later routed to it
    (SECURITY.md, "What the administrator can and cannot do")."""
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
    db.add(TeamMember(team_id=team.id, officer_id=first_member.id, added_by_id=actor_id(actor),
                      wrapped_key=wrap_team_key(team.id, key, first_member.public_key)))
    db.flush()
    del key  # never stored; only the wrap to the first member remains
    audit.append(db, actor, "team.create", f"team:{team.id}",
                 f"unit={unit.code} role={role} first_member=officer:{first_member.id} "
                 f"fingerprint={PublicKey.from_bytes(team.public_key).fingerprint()}")
    return team


def add_member(db: Session, actor: str, team: Team, officer: Officer) -> TeamMember:
    """A pending membership: the team's key holders approve it (the admin cannot, by design)."""
    _check_member(team, officer)
    if db.get(TeamMember, (team.id, officer.id)) is not None:
        raise TeamError(N_("The officer is already a member of this team."))
    member = TeamMember(team_id=team.id, officer_id=officer.id, wrapped_key=None,
                        added_by_id=actor_id(actor), added_at=utcnow())
    db.add(member)
    db.flush()
    audit.append(db, actor, "team.member_add", f"team:{team.id}",
                 f"officer:{officer.id} pending")
    notices.tell_team(db, team.id, notices.PENDING, subject_id=officer.id,
                      actor_id=actor_id(actor), holders_only=True)
    return member


def remove_member(db: Session, actor: str, team: Team, officer: Officer) -> None:
    """Drop a membership (and any approvals of it). Refused for the last key holder."""
    member = db.get(TeamMember, (team.id, officer.id))
    if member is None:
        raise TeamError(N_("Not a member."))
    if member.wrapped_key is not None and not other_active_holders(db, team.id, officer.id):
        raise TeamError(N_("This officer is the last key holder of the team; add another "
                           "member and have them approved first."))
    # Everyone who was in the team hears of it, the removed officer included.
    notices.tell_team(db, team.id, notices.REMOVED, subject_id=officer.id,
                      actor_id=actor_id(actor))
    db.execute(delete(MembershipApproval).where(MembershipApproval.team_id == team.id,
                                                MembershipApproval.officer_id == officer.id))
    db.delete(member)
    db.flush()
    audit.append(db, actor, "team.member_remove", f"team:{team.id}", f"officer:{officer.id}")


def holder_count(db: Session, team_id: int) -> int:
    """Members holding a wrap of the team key (deactivated ones included: their wrap exists)."""
    return int(db.scalar(select(func.count()).select_from(TeamMember).where(
        TeamMember.team_id == team_id, TeamMember.wrapped_key.is_not(None))) or 0)


def other_active_holders(db: Session, team_id: int, officer_id: int) -> int:
    """Active key holders of the team other than ``officer_id``."""
    return int(db.scalar(select(func.count()).select_from(TeamMember)
                         .join(Officer, Officer.id == TeamMember.officer_id).where(
        TeamMember.team_id == team_id, TeamMember.wrapped_key.is_not(None),
        TeamMember.officer_id != officer_id, Officer.active.is_(True))) or 0)


def is_holder(db: Session, team_id: int, officer_id: int) -> bool:
    return db.scalar(select(TeamMember.officer_id).where(
        TeamMember.team_id == team_id, TeamMember.officer_id == officer_id,
        TeamMember.wrapped_key.is_not(None))) is not None


def sole_holder_teams(db: Session, officer_id: int) -> list[Team]:
    """Teams whose key no other *active* officer holds: resetting, deactivating or removing
    this officer would leave nobody able to open those teams' cases (or identity shares)."""
    teams = db.scalars(select(Team).join(TeamMember, TeamMember.team_id == Team.id).where(
        TeamMember.officer_id == officer_id, TeamMember.wrapped_key.is_not(None))
        .order_by(Team.id)).all()
    return [t for t in teams if not other_active_holders(db, t.id, officer_id)]


def holds_identity_shares(db: Session, team: Team) -> bool:
    """A custodian team: its role is a custodian role, or some identity share is wrapped to it."""
    if team.role in IDENTITY_ROLES:
        return True
    return db.scalar(select(IdentityShare.case_id).where(IdentityShare.team_id == team.id)
                     .limit(1)) is not None


def memberships(db: Session, officer_id: int) -> list[TeamMember]:
    return list(db.scalars(select(TeamMember).where(TeamMember.officer_id == officer_id)
                           .order_by(TeamMember.team_id)).all())
