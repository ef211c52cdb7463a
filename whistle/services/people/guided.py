"""The guided first unit: one form makes a unit and its verifikator, UKI and PYB officers.

Each officer gets a one-time enrolment secret (shown once to the admin, handed over in
person). Their teams cannot exist yet: a team key must be wrapped to an enrolled member, and
nobody has enrolled. So the form records a plan per team, and when the planned officer
completes enrolment, ``found_planned_team`` creates the team with them as its first member:
a new key pair wrapped to the founder only. No existing key is handed to anyone, which is the
custody rule (services/custody/__init__.py); the admin gains nothing he could not do with the
"create team" form once the officer had enrolled.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...domain.constants import Role
from ...models import Officer, Team, TeamPlan, Unit
from ..custody import audit, teams
from ..messages import N_
from . import accounts

GUIDED_ROLES: tuple[str, ...] = (Role.VERIFIKATOR.value, Role.UKI.value, Role.PYB.value)


@dataclass(frozen=True)
class NewOfficer:
    role: str
    username: str
    display_name: str
    email: str = ""


@dataclass(frozen=True)
class Created:
    unit: Unit
    secrets: list[tuple[Officer, str]]  # (officer, one-time enrolment secret)


def create_first_unit(db: Session, actor: str, code: str, name: str,
                      officers: list[NewOfficer]) -> Created:
    """AccountError (a Refusal) for any bad field; nothing is written then (caller's transaction)."""
    roles = [o.role for o in officers]
    if sorted(roles) != sorted(GUIDED_ROLES):
        raise accounts.AccountError(N_("Give one verifikator, one UKI and one PYB officer."))
    unit = accounts.create_unit(db, actor, code, name)
    made = []
    for o in officers:
        officer, secret = accounts.create_officer(db, actor, o.username, o.display_name, o.role,
                                                  unit.id, o.email or None)
        db.add(TeamPlan(unit_id=unit.id, role=o.role, officer_id=officer.id, planned_by=actor))
        made.append((officer, secret))
    db.flush()
    audit.append(db, actor, "unit.guided_setup", f"unit:{unit.id}",
                 " ".join(f"{o.role}=officer:{off.id}" for o, (off, _) in zip(officers, made)))
    return Created(unit, made)


def found_planned_team(db: Session, officer: Officer) -> Team | None:
    """After ``officer`` enrolled: found the team planned for them, if any and still free."""
    if officer.unit_id is None:
        return None
    plan = db.get(TeamPlan, (officer.unit_id, officer.role))
    if plan is None or plan.officer_id != officer.id:
        return None
    db.delete(plan)
    db.flush()
    exists = db.scalar(select(Team.id).where(Team.unit_id == officer.unit_id, Team.role == officer.role))
    unit = db.get(Unit, officer.unit_id)
    if exists is not None or unit is None:
        return None  # the admin made the team by hand meanwhile: nothing to found
    return teams.create_team(db, f"officer:{officer.id}", unit, officer.role, officer)


def plans(db: Session) -> list[TeamPlan]:
    return list(db.scalars(select(TeamPlan).order_by(TeamPlan.unit_id, TeamPlan.role)))
