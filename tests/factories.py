"""Test data built through the real crypto: units, teams with keys, officers with sealed keys.

Returned private keys let a test act as a key holder without going through the log-in pages.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

import crypto
from crypto import PrivateKey
from whistle.models import Officer, Team, TeamMember, Unit
from whistle.services.custody.casekeys import team_key_context


@dataclass
class TeamWithKey:
    team: Team
    private_key: PrivateKey


@dataclass
class OfficerWithKey:
    officer: Officer
    private_key: PrivateKey
    passphrase: str


def make_unit(db: Session, code: str = "PUSAT", name: str = "Unit Pusat") -> Unit:
    unit = Unit(code=code, name=name)
    db.add(unit)
    db.flush()
    return unit


def make_team(db: Session, unit: Unit, role: str) -> TeamWithKey:
    key = PrivateKey.generate()
    team = Team(unit_id=unit.id, role=role, public_key=key.public_key().to_bytes())
    db.add(team)
    db.flush()
    return TeamWithKey(team, key)


def make_officer(db: Session, unit: Unit | None, role: str, username: str,
                 passphrase: str = "correct horse battery staple",
                 teams: tuple[TeamWithKey, ...] = ()) -> OfficerWithKey:
    key = PrivateKey.generate()
    officer = Officer(username=username, display_name=username.title(), role=role,
                      unit_id=unit.id if unit else None,
                      public_key=key.public_key().to_bytes(),
                      sealed_private_key=crypto.seal_private_key(key, passphrase))
    db.add(officer)
    db.flush()
    for t in teams:
        db.add(TeamMember(team_id=t.team.id, officer_id=officer.id,
                          wrapped_key=key.public_key().wrap(t.private_key.to_bytes(),
                                                            context=team_key_context(t.team.id))))
    db.flush()
    return OfficerWithKey(officer, key, passphrase)
