"""A small office for the case-work tests: two units, their teams and officers, and helpers
that act as an officer through the real services (real crypto, real database)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crypto import PrivateKey
from tests.factories import OfficerWithKey, TeamWithKey, make_officer, make_team, make_unit
from whistle.db import transaction
from whistle.domain.constants import Category, Kind
from whistle.models import Case, CaseField, Event, Message, Officer, Unit
from whistle.services.cases import transitions as cases
from whistle.services.reporter import reports
from whistle.services.cases.calendar import load_calendar
from whistle.services.custody.casekeys import CaseCipher, case_key_for_teams

PEPPER = b"p" * 32
JAKARTA = ZoneInfo("Asia/Jakarta")

# officer name -> (unit code, role, member of the teams (unit, role) ...)
OFFICERS: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    "ver": ("PUSAT", "verifikator", (("PUSAT", "verifikator"),)),
    "pyb": ("PUSAT", "pyb", (("PUSAT", "pyb"),)),
    "pk": ("PUSAT", "pengkaji", (("PUSAT", "pengkaji"),)),
    "uki": ("PUSAT", "uki", (("PUSAT", "uki"),)),
    "pen": ("PUSAT", "penerima", ()),
    "ver_kw": ("KANWIL", "verifikator", (("KANWIL", "verifikator"),)),
    "pk_kw": ("KANWIL", "pengkaji", (("KANWIL", "pengkaji"),)),
}
TEAMS = {"PUSAT": ("verifikator", "pyb", "pengkaji", "uki"), "KANWIL": ("verifikator", "pengkaji")}


def at_local(day: date, hour: int = 10) -> datetime:
    """An aware UTC instant at ``hour`` o'clock Jakarta time on ``day``."""
    return datetime.combine(day, time(hour), tzinfo=JAKARTA).astimezone(UTC)


@dataclass
class World:
    factory: sessionmaker[Session]
    units: dict[str, int] = field(default_factory=dict)
    teams: dict[tuple[str, str], TeamWithKey] = field(default_factory=dict)
    officers: dict[str, OfficerWithKey] = field(default_factory=dict)
    members: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def keys(self, who: str) -> dict[int, PrivateKey]:
        return {self.teams[t].team.id: self.teams[t].private_key for t in self.members[who]}

    def officer_id(self, who: str) -> int:
        return self.officers[who].officer.id

    def file(self, *, unit: str = "PUSAT", category: Category = Category.ETHICS_CODE,
             kind: Kind = Kind.WHISTLEBLOWING, what: str = "Meminta uang pelicin untuk izin usaha.",
             received: datetime | None = None, **kw: Any) -> tuple[str, str]:
        """File a web report; returns (case id, ticket). ``received`` back-dates its arrival
        (and its first thread message and event) so that a test's timeline is in order."""
        report = reports.ReportInput(
            kind=kind, category=category, unit_id=self.units[unit], who="Pak Budi",
            who_position="Kepala Seksi", what=what, when="Maret 2026", where="Kantor Pelayanan",
            how="Diminta tunai di ruangannya.", **kw)
        case, ticket = reports.file_report(self.factory, report, pepper=PEPPER)
        if received is not None:
            with transaction(self.factory) as db:
                row = db.get(Case, case.id)
                row.received_at = row.created_at = received
                row.step_started_on = received.astimezone(JAKARTA).date()
                row.due_on = load_calendar(db).deadline_for("received", row.step_started_on)
                for m in db.scalars(select(Message).where(Message.case_id == case.id)):
                    m.created_at = received
                for e in db.scalars(select(Event).where(Event.case_id == case.id)):
                    e.at = received
        return case.id, ticket

    def act(self, who: str, case_id: str, action: str, *, version: int | None = None,
            now: datetime | None = None, config: Any = None, **params: Any) -> cases.Outcome:
        with transaction(self.factory) as db:
            officer = db.get(Officer, self.officer_id(who))
            if version is None:
                row = db.get(Case, case_id) if cases.valid_case_id(case_id) else None
                version = row.version if row is not None else 1
            return cases.perform(db, officer=officer, team_keys=self.keys(who), case_id=case_id,
                                 action=action, params=params, expected_version=version,
                                 config=config, now=now)

    def case(self, case_id: str) -> Case:
        with transaction(self.factory) as db:
            return db.get(Case, case_id)

    def cipher(self, case_id: str, who: str = "ver") -> CaseCipher:
        with transaction(self.factory) as db:
            key = case_key_for_teams(db, case_id, self.keys(who))
            assert key is not None
            return CaseCipher(case_id, key)

    def thread(self, case_id: str, *, reporter_view: bool = True) -> list[tuple[str, str]]:
        """(author, text) of the thread, as the reporter sees it unless reporter_view=False."""
        cipher = self.cipher(case_id, "ver")
        with transaction(self.factory) as db:
            q = select(Message).where(Message.case_id == case_id)
            if reporter_view:
                q = q.where(Message.internal.is_(False))
            return [(m.author, cipher.open_text("message", m.id, m.blob))
                    for m in db.scalars(q.order_by(Message.created_at, Message.id))]

    def field(self, case_id: str, name: str) -> str | None:
        cipher = self.cipher(case_id, "ver")
        with transaction(self.factory) as db:
            row = db.get(CaseField, (case_id, name))
            return None if row is None else cipher.open_text("field", name, row.blob)


def build_world(factory: sessionmaker[Session]) -> World:
    world = World(factory)
    with transaction(factory) as db:
        for code, roles in TEAMS.items():
            unit = make_unit(db, code, f"Unit {code}")
            world.units[code] = unit.id
            for role in roles:
                world.teams[(code, role)] = make_team(db, unit, role)
        for name, (unit_code, role, teams) in OFFICERS.items():
            unit = db.get(Unit, world.units[unit_code])
            world.officers[name] = make_officer(
                db, unit, role, name, teams=tuple(world.teams[t] for t in teams))
            world.officers[name].officer.email = f"{name}@example.go.id"
            # Distinctive names, so a test can prove they never reach the reporter.
            world.officers[name].officer.display_name = f"Sutrisno-{name.upper()} Wibowo"
            world.members[name] = teams
    return world
