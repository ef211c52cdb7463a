"""Handing a team key to a pending member: only by explicit approval of the team's key holders.

* A key holder opens the approval page in their own session (where they hold the team key),
  sees who is joining, their role and unit, who added them and when, and the short
  fingerprint of the newcomer's public key, compares that fingerprint with the newcomer out of
  band (the newcomer sees it on their own account page), ticks that they did, and approves.
* A team that holds identity shares (``teams.holds_identity_shares``) needs two distinct
  holders to approve while it has two or more holders; any other team needs one. The team key
  is wrapped to the newcomer only at the last approval needed, with the key of the holder who
  gives it. Each approval is bound to the newcomer key it was given for, so an approval of a
  key that was reset since counts for nothing; after the wrap the approvals are spent.
* Any holder may refuse: the pending membership is dropped and the admin must add it again.
* Every approval, wrap and refusal is audited and told to the team (``notices``).
* Nothing runs at log-in: ``held_team_keys`` and ``sync_session_keys`` only *unwrap* what has
  already been wrapped to the officer.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from crypto import CryptoError, PrivateKey, PublicKey

from ...models import MembershipApproval, Officer, Team, TeamMember, utcnow
from ..messages import N_, Refusal
from . import audit, notices, teams


class MembershipError(Refusal):
    """A refused approval step; the message is safe to show to the officer."""


NOT_HOLDER = N_("Only a member who holds this team's key can approve or refuse its members.")
NOT_PENDING = N_("This membership is no longer waiting for approval.")


# -- fingerprints --------------------------------------------------------------------------

def key_fingerprint(public_key: bytes) -> str:
    """``PublicKey.fingerprint()`` (128 bits of SHA-256) as eight groups of four upper-case
    hex digits, to be read aloud and compared by two people, like Signal's safety numbers.
    A puppet key with the same fingerprint would need a 2^128 second-preimage search."""
    fp = PublicKey.from_bytes(public_key).fingerprint().upper()
    return " ".join(fp[i:i + 4] for i in range(0, len(fp), 4))


def _same_fingerprint(seen: str, current: str) -> bool:
    def norm(text: str) -> bytes:
        return "".join(ch for ch in text.upper() if ch.isalnum()).encode("ascii", "replace")
    return hmac.compare_digest(norm(seen), norm(current))


def _key_digest(public_key: bytes) -> bytes:
    return hashlib.sha256(public_key).digest()


# -- what the holders see ------------------------------------------------------------------

def approvals_needed(db: Session, team: Team) -> int:
    """Two distinct holders for a custodian team that has two or more, else one."""
    return 2 if teams.holds_identity_shares(db, team) and teams.holder_count(db, team.id) >= 2 else 1


@dataclass(frozen=True)
class GivenApproval:
    approver_id: int
    approver: str
    at: datetime


@dataclass(frozen=True)
class PendingView:
    team_id: int
    officer_id: int
    team: str  # "unit name / role"
    unit: str
    role: str
    newcomer: str  # "display name (username)"
    added_by: str  # the admin account that asked for it; "" = the command line
    added_at: datetime
    after_reset: bool
    ready: bool  # enrolled and active: has a key that can be compared and wrapped to
    fingerprint: str | None
    approvals: tuple[GivenApproval, ...]
    needed: int


def _name(officer: Officer | None) -> str:
    return f"{officer.display_name} ({officer.username})" if officer is not None else ""


def _ready(officer: Officer) -> bool:
    return officer.active and officer.enrolled_at is not None and officer.public_key is not None


def _valid_approvals(db: Session, member: TeamMember) -> list[MembershipApproval]:
    """Approvals of this membership that still count: given for the newcomer's current key,
    by an officer who is active and still holds the team key."""
    pub = member.officer.public_key
    if pub is None:
        return []
    digest = _key_digest(pub)
    rows = db.scalars(select(MembershipApproval).where(
        MembershipApproval.team_id == member.team_id,
        MembershipApproval.officer_id == member.officer_id)
        .order_by(MembershipApproval.approved_at)).all()
    valid = []
    for row in rows:
        approver = db.get(Officer, row.approver_id)
        if (hmac.compare_digest(row.member_key, digest) and approver is not None
                and approver.active and teams.is_holder(db, member.team_id, approver.id)):
            valid.append(row)
    return valid


def _view(db: Session, member: TeamMember) -> PendingView:
    team, newcomer = member.team, member.officer
    given = tuple(GivenApproval(a.approver_id, _name(db.get(Officer, a.approver_id)), a.approved_at)
                  for a in _valid_approvals(db, member))
    return PendingView(
        team.id, newcomer.id, f"{team.unit.name} / {team.role}", team.unit.name, team.role,
        _name(newcomer), _name(member.added_by), member.added_at, member.after_reset,
        _ready(newcomer),
        key_fingerprint(newcomer.public_key) if newcomer.public_key is not None else None,
        given, approvals_needed(db, team))


def _holder_key(db: Session, officer: Officer, team_keys: Mapping[int, PrivateKey],
                team: Team | None) -> PrivateKey:
    """The team key from the officer's session, if they hold it *and* it is the team's."""
    key = team_keys.get(team.id) if team is not None else None
    if (team is None or key is None or not officer.active
            or not hmac.compare_digest(key.public_key().to_bytes(), team.public_key)
            or not teams.is_holder(db, team.id, officer.id)):
        raise MembershipError(NOT_HOLDER)
    return key


def waiting_for(db: Session, officer: Officer,
                team_keys: Mapping[int, PrivateKey]) -> list[PendingView]:
    """Pending members of the teams whose key this officer holds in this session."""
    held = [t for t in team_keys if teams.is_holder(db, t, officer.id)]
    if not held:
        return []
    rows = db.scalars(select(TeamMember).where(
        TeamMember.team_id.in_(held), TeamMember.wrapped_key.is_(None),
        TeamMember.officer_id != officer.id)
        .order_by(TeamMember.team_id, TeamMember.added_at)).all()
    return [_view(db, m) for m in rows]


def pending_view(db: Session, officer: Officer, team_keys: Mapping[int, PrivateKey],
                 team_id: int, officer_id: int) -> PendingView:
    """The approval page's content, for a holder of the team's key only."""
    _holder_key(db, officer, team_keys, db.get(Team, team_id))
    member = db.get(TeamMember, (team_id, officer_id))
    if member is None or member.wrapped_key is not None:
        raise MembershipError(NOT_PENDING)
    return _view(db, member)


def my_pending(db: Session, officer: Officer) -> list[PendingView]:
    """The officer's own pending memberships (their account page shows the progress)."""
    rows = db.scalars(select(TeamMember).where(TeamMember.officer_id == officer.id,
                                               TeamMember.wrapped_key.is_(None))).all()
    return [_view(db, m) for m in rows]


# -- deciding ------------------------------------------------------------------------------

def _claim(db: Session, team_id: int, officer_id: int) -> None:
    """Lock the pending membership row before reading anything about it.

    A no-op UPDATE: on PostgreSQL it row-locks, so two holders approving at once are
    serialised and the second sees the first's approval; on SQLite it takes the single write
    lock first. Without it two simultaneous "second approvals" could each count one and
    nobody would wrap.
    """
    claimed = cast(CursorResult[Any], db.execute(
        update(TeamMember).where(TeamMember.team_id == team_id,
                                 TeamMember.officer_id == officer_id,
                                 TeamMember.wrapped_key.is_(None))
        .values(added_at=TeamMember.added_at))).rowcount
    if claimed != 1:
        raise MembershipError(NOT_PENDING)


@dataclass(frozen=True)
class Outcome:
    joined: bool  # the team key was wrapped to the newcomer by this approval
    approvals: int
    needed: int


def approve(db: Session, approver: Officer, team_keys: Mapping[int, PrivateKey], team_id: int,
            officer_id: int, *, fingerprint: str, compared: bool) -> Outcome:
    """Record ``approver``'s approval; wrap the team key if it is the last one needed."""
    _claim(db, team_id, officer_id)
    team = db.get(Team, team_id)
    key = _holder_key(db, approver, team_keys, team)
    assert team is not None
    member = db.get(TeamMember, (team_id, officer_id))
    assert member is not None
    newcomer = member.officer
    if not _ready(newcomer) or newcomer.public_key is None:
        raise MembershipError(N_("The newcomer has not completed enrolment yet: there is no key "
                                 "to compare."))
    if not compared:
        raise MembershipError(N_("Confirm that you compared the fingerprint with the newcomer "
                                 "in person or by telephone."))
    if not _same_fingerprint(fingerprint, key_fingerprint(newcomer.public_key)):
        raise MembershipError(N_("The newcomer's key changed after the page was shown. Compare "
                                 "the new fingerprint before approving."))
    digest = _key_digest(newcomer.public_key)
    earlier = db.get(MembershipApproval, (team_id, officer_id, approver.id))
    if earlier is not None:
        if hmac.compare_digest(earlier.member_key, digest):
            raise MembershipError(N_("You have approved already; another key holder must "
                                     "approve as well."))
        db.delete(earlier)  # given for a key the newcomer no longer has
        db.flush()
    db.add(MembershipApproval(team_id=team_id, officer_id=officer_id, approver_id=approver.id,
                              member_key=digest, approved_at=utcnow()))
    db.flush()
    valid = _valid_approvals(db, member)
    needed = approvals_needed(db, team)
    actor = f"officer:{approver.id}"
    audit.append(db, actor, "team.member_approve", f"team:{team_id}",
                 f"officer:{officer_id} approval={len(valid)}/{needed} "
                 f"key={PublicKey.from_bytes(newcomer.public_key).fingerprint()}")
    if len(valid) < needed:
        notices.tell_team(db, team_id, notices.APPROVED_ONE, subject_id=officer_id,
                          actor_id=approver.id)
        return Outcome(False, len(valid), needed)
    member.wrapped_key = teams.wrap_team_key(team_id, key, newcomer.public_key)
    member.after_reset = False
    db.execute(delete(MembershipApproval).where(MembershipApproval.team_id == team_id,
                                                MembershipApproval.officer_id == officer_id))
    db.flush()
    audit.append(db, actor, "team.member_wrap", f"team:{team_id}",
                 f"officer:{officer_id} approvers="
                 + ",".join(f"officer:{a.approver_id}" for a in valid))
    notices.tell_team(db, team_id, notices.JOINED, subject_id=officer_id, actor_id=approver.id)
    return Outcome(True, len(valid), needed)


def refuse(db: Session, refuser: Officer, team_keys: Mapping[int, PrivateKey], team_id: int,
           officer_id: int) -> None:
    """Any holder may refuse: the pending membership (with its approvals) is dropped."""
    _claim(db, team_id, officer_id)
    _holder_key(db, refuser, team_keys, db.get(Team, team_id))
    member = db.get(TeamMember, (team_id, officer_id))
    assert member is not None
    notices.tell_team(db, team_id, notices.REFUSED, subject_id=officer_id, actor_id=refuser.id)
    db.execute(delete(MembershipApproval).where(MembershipApproval.team_id == team_id,
                                                MembershipApproval.officer_id == officer_id))
    db.delete(member)
    db.flush()
    audit.append(db, f"officer:{refuser.id}", "team.member_refuse", f"team:{team_id}",
                 f"officer:{officer_id}")


def pending_again(db: Session, actor: str, officer: Officer) -> list[int]:
    """After an enrolment reset: every membership of ``officer`` loses its wrap (made to the
    discarded key) and waits for approval again; approvals given to or by the officer lapse.
    Returns the team ids. The caller has checked that no team loses its last holder."""
    rows = teams.memberships(db, officer.id)
    by = teams.actor_id(actor)
    at = utcnow()
    for m in rows:
        m.wrapped_key = None
        m.after_reset = True
        m.added_by_id = by
        m.added_at = at
    db.execute(delete(MembershipApproval).where(or_(
        MembershipApproval.officer_id == officer.id, MembershipApproval.approver_id == officer.id)))
    db.flush()
    for m in rows:
        notices.tell_team(db, m.team_id, notices.PENDING, subject_id=officer.id, actor_id=by,
                          holders_only=True)
    return [m.team_id for m in rows]


# -- unwrapping what was handed over -------------------------------------------------------

def _wraps(db: Session, officer_id: int) -> list[tuple[int, bytes, bytes]]:
    return [(r.team_id, r.wrapped_key, r.public_key) for r in db.execute(
        select(TeamMember.team_id, TeamMember.wrapped_key, Team.public_key)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.officer_id == officer_id, TeamMember.wrapped_key.is_not(None)))]


def _open(team_id: int, blob: bytes, team_public: bytes, officer_key: PrivateKey) -> PrivateKey | None:
    """The team key in ``blob``, or None if it does not open or is not the team's key (a wrap
    planted in the database must not pass for the team key)."""
    try:
        key = teams.unwrap_team_key(team_id, blob, officer_key)
    except (CryptoError, ValueError):
        return None
    return key if hmac.compare_digest(key.public_key().to_bytes(), team_public) else None


def held_team_keys(db: Session, officer_id: int, officer_key: PrivateKey) -> dict[int, PrivateKey]:
    """The team keys wrapped to this officer (at log-in). Wraps that do not open are skipped
    (e.g. made to a key from before a reset) rather than blocking the log-in."""
    keys: dict[int, PrivateKey] = {}
    for team_id, blob, public in _wraps(db, officer_id):
        key = _open(team_id, blob, public, officer_key)
        if key is not None:
            keys[team_id] = key
    return keys


def sync_session_keys(db: Session, officer_id: int, held: Mapping[str, bytes],
                      officer_key: bytes) -> dict[str, bytes] | None:
    """The session's ``{str(team_id): key bytes}`` brought in line with the memberships table:
    a removed membership drops its key at once, a wrap approved since the log-in is opened
    with the session's officer key (HPKE only, no Argon2). None when nothing changed.

    Installed into ``web.officer_auth`` by the officer blueprint, so web/ stays plumbing."""
    wraps = {str(t): (blob, public) for t, blob, public in _wraps(db, officer_id)}
    kept = {tid: k for tid, k in held.items() if tid in wraps}
    missing = [tid for tid in wraps if tid not in kept]
    if missing:
        my_key = PrivateKey.from_bytes(officer_key)
        for tid in missing:
            key = _open(int(tid), wraps[tid][0], wraps[tid][1], my_key)
            if key is not None:
                kept[tid] = key.to_bytes()
    return kept if kept != dict(held) else None
