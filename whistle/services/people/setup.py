"""What the service still lacks before it can take reports: the admin's set-up checklist.

The rules are the filing rules themselves (services/reporter/reports.py): a web report needs
an active unit with a verifikator team, and a report with an identity needs a UKI and a PYB
custodian team. Each team needs a member who holds its key, which means an enrolled officer.
The checklist reads only accounts, units and teams, never a case.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...domain.constants import Role
from ...models import Officer, Team, TeamMember, Unit
from ..messages import N_


@dataclass(frozen=True)
class Step:
    key: str
    text: str  # an English msgid (N_), translated by the page
    done: bool
    endpoint: str  # the admin page that fixes it
    needed_for: str  # "web" | "identity" | "advice"


def _holders(db: Session, role: str) -> dict[int, int]:
    """Team id -> number of active, enrolled members holding the key, for teams of ``role``."""
    rows = db.execute(
        select(Team.id, func.count(TeamMember.officer_id))
        .join(TeamMember, TeamMember.team_id == Team.id, isouter=True)
        .join(Officer, Officer.id == TeamMember.officer_id, isouter=True)
        .where(Team.role == role, TeamMember.wrapped_key.is_not(None), Officer.active.is_(True),
               Officer.enrolled_at.is_not(None))
        .group_by(Team.id)).all()
    return {int(t): int(n) for t, n in rows}


def checklist(db: Session) -> list[Step]:
    units = db.scalar(select(func.count()).select_from(Unit).where(Unit.active.is_(True))) or 0
    enrolled_ver = db.scalar(select(func.count()).select_from(Officer).where(
        Officer.role == Role.VERIFIKATOR.value, Officer.active.is_(True),
        Officer.enrolled_at.is_not(None))) or 0
    ver_team = db.scalar(select(func.count()).select_from(Team).join(Unit, Unit.id == Team.unit_id).where(
        Team.role == Role.VERIFIKATOR.value, Unit.active.is_(True))) or 0
    uki, pyb = _holders(db, Role.UKI.value), _holders(db, Role.PYB.value)
    auditors = db.scalar(select(func.count()).select_from(Officer).where(
        Officer.role == Role.AUDITOR.value, Officer.active.is_(True))) or 0
    return [
        Step("unit", N_("Create a unit that receives reports."), units > 0, "admin.units", "web"),
        Step("verifikator", N_("Create a verifikator officer for that unit and let them enrol with their one-time secret."),
             enrolled_ver > 0, "admin.officers", "web"),
        Step("verifikator_team", N_("Create the unit's verifikator team with the enrolled verifikator as its first member."),
             ver_team > 0, "admin.teams_page", "web"),
        Step("uki_team", N_("Create a UKI (compliance) custodian team with an enrolled UKI officer."),
             any(n > 0 for n in uki.values()), "admin.teams_page", "identity"),
        Step("pyb_team", N_("Create a PYB (authorised official) custodian team with an enrolled PYB officer."),
             any(n > 0 for n in pyb.values()), "admin.teams_page", "identity"),
        Step("two_holders", N_("Give each custodian team a second key holder (approved by the first), so a forgotten passphrase or a departure loses nothing."),
             bool(uki) and bool(pyb) and all(n >= 2 for n in (*uki.values(), *pyb.values())),
             "admin.teams_page", "advice"),
        Step("auditor", N_("Create an auditor account to read the audit log and receive its daily signed head."),
             auditors > 0, "admin.officers", "advice"),
    ]


def accepts_web_reports(steps: list[Step]) -> bool:
    return all(s.done for s in steps if s.needed_for == "web")


def accepts_identity(steps: list[Step]) -> bool:
    return all(s.done for s in steps if s.needed_for in ("web", "identity"))
