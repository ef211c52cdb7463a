"""Every way to cheat the identity escalation fails, checked on the DATA (the database plus
every credential the actor has: their passphrase, team keys, the ticket) with the attacker of
``escalation_attacker``, and on the services and routes. A positive control in each live
scenario shows that the same attacker DOES open the identity when it should (the requester,
once both shares are released), so an empty result is meaningful."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import make_officer
from tests.web.cases_world import World, build_world
from tests.web.escalation_attacker import Loot, attack
from tests.web.officer_login import Clock, csrf, login, make_login_ready
from tests.web.reporter_helpers import login as reporter_login
from whistle.db import make_engine, transaction
from whistle.models import IdentityRequest, Officer, ShareRelease, Unit, utcnow
from whistle.services.cases.transitions import CaseNotFound
from whistle.services.custody import escalation, releases
from whistle.services.custody.casekeys import grant_team
from whistle.services.operations import sweep
from whistle.services.reporter import reports
from whistle.web.state import state

IDENTITY = {"name": "Rahmat Hidayat", "nik": "3201010101010001", "phone": "081234567890"}
OTHER = {"name": "Siti Aminah", "nik": "3201010101010002"}
REASON = "Keterangan pelapor diperlukan sebagai saksi dalam pemeriksaan lapangan."
DECISION = "Pemeriksaan lapangan memerlukan keterangan langsung dari pelapor."
PASSPHRASE = "correct horse battery staple"  # tests.factories default


@dataclass
class Scene:
    app: Flask
    world: World
    f: sessionmaker[Session]
    engine: Engine
    case_id: str
    ticket: str

    def step(self, who: str, fn: Any, *args: Any, **kw: Any) -> Any:
        with transaction(self.f) as db:
            me = db.get(Officer, self.world.officer_id(who))
            return fn(db, me, self.world.keys(who), *args, **kw)

    def ask(self, who: str = "ver", case_id: str | None = None, **kw: Any) -> str:
        req = self.step(who, escalation.request_identity, case_id or self.case_id, REASON,
                        "witness", "Pasal 12 Peraturan Menteri PANRB 2019", **kw)
        return str(req.id)

    def approve(self, req_id: str, **kw: Any) -> None:
        self.step("pyb", escalation.decide, req_id, True, True, DECISION, **kw)

    def release_both(self, req_id: str, **kw: Any) -> None:
        assert self.step("uki", releases.release_share, req_id, **kw) == 1
        assert self.step("pyb", releases.release_share, req_id, **kw) == 2

    def open(self, who: str, req_id: str, **kw: Any) -> releases.Disclosure:
        with transaction(self.f) as db:
            me = db.get(Officer, self.world.officer_id(who))
            return releases.open_identity(db, me, self.world.officers[who].private_key,
                                          self.world.keys(who), req_id, **kw)

    def creds(self, *who: str) -> dict[int, str]:
        return {self.world.officer_id(w): PASSPHRASE for w in who}

    def add_officer(self, name: str, role: str, *teams: tuple[str, str]) -> None:
        with transaction(self.f) as db:
            unit = db.get(Unit, self.world.units["PUSAT"])
            self.world.officers[name] = make_officer(
                db, unit, role, name, teams=tuple(self.world.teams[t] for t in teams))
        self.world.members[name] = teams

    def releases(self, req_id: str) -> list[ShareRelease]:
        with transaction(self.f) as db:
            return list(db.scalars(select(ShareRelease).where(ShareRelease.request_id == req_id)))


@pytest.fixture
def scene(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Scene:
    import tests.web.cases_world as cases_world

    # File with the app's own pepper, so that the reporter can also log in through the page.
    monkeypatch.setattr(cases_world, "PEPPER", state(app).secrets.pepper)
    world = build_world(state(app).db)
    case_id, ticket = world.file(anonymity=reports.CONFIDENTIAL, identity=IDENTITY)
    return Scene(app, world, state(app).db, state(app).engine, case_id, ticket)


def opened(loot: Loot) -> bool:
    return any(b"Rahmat Hidayat" in blob for found in loot.identities.values() for blob in found)


def nothing(loot: Loot) -> bool:
    return loot.identities == {}


# -- the one legitimate path, and what is left of it afterwards -------------------------------

def test_after_showing_neither_the_database_nor_a_backup_nor_the_passphrase_reopens_it(
        scene: Scene, db_backend: str, tmp_path: Path) -> None:
    req = scene.ask()
    scene.approve(req)
    scene.release_both(req)
    # Positive control: right now the requester's passphrase and the database open it.
    assert opened(attack(scene.engine, passphrases=scene.creds("ver")))
    with transaction(scene.f) as db:
        row = db.get(IdentityRequest, req)
        assert row is not None and row.ephemeral_sealed is not None
        secrets = [bytes(row.ephemeral_sealed)] + [bytes(r.blob) for r in scene.releases(req)]
    assert scene.open("ver", req).identity == IDENTITY
    # The live database, the requester's passphrase (and every team key they hold): nothing.
    loot = attack(scene.engine, passphrases=scene.creds("ver"))
    assert nothing(loot) and loot.unwrapped > 0  # it did open their team key and case key
    if db_backend == "sqlite":
        # A backup taken afterwards (SQLite's online backup) holds no trace of the key material:
        # secure_delete zeroed the freed cells.
        backup = tmp_path / "backup.db"
        src = sqlite3.connect(str(Path(scene.engine.url.database or "")))
        dst = sqlite3.connect(str(backup))
        src.backup(dst)
        src.close()
        dst.close()
        data = backup.read_bytes()
        assert not [s for s in secrets if s[:64] in data or s[-64:] in data]
        copy = make_engine(f"sqlite:///{backup}")
        try:
            assert nothing(attack(copy, passphrases=scene.creds("ver")))
        finally:
            copy.dispose()
    # Opening again needs a new request.
    with pytest.raises(escalation.EscalationError):
        scene.open("ver", req)


# -- the cheats ------------------------------------------------------------------------------

def test_one_custodian_alone(scene: Scene) -> None:
    req = scene.ask()
    scene.approve(req)
    assert scene.step("uki", releases.release_share, req) == 1
    with pytest.raises(escalation.EscalationError):  # not twice
        scene.step("uki", releases.release_share, req)
    with pytest.raises(CaseNotFound):  # nor open what was asked by someone else
        scene.open("uki", req)
    assert len(scene.releases(req)) == 1
    for who in ("uki", "pyb"):  # each custodian alone, with the database and all they hold
        assert nothing(attack(scene.engine, passphrases=scene.creds(who)))
    assert nothing(attack(scene.engine, passphrases=scene.creds("ver")))  # one share released


def test_two_custodians_of_the_same_team(scene: Scene) -> None:
    scene.add_officer("uki2", "uki", ("PUSAT", "uki"))
    scene.add_officer("dual", "uki", ("PUSAT", "uki"), ("PUSAT", "pyb"))  # in both teams
    req = scene.ask()
    scene.approve(req)
    assert scene.step("uki", releases.release_share, req) == 1
    with pytest.raises(escalation.EscalationError):  # share 1 is out; uki2 holds no other
        scene.step("uki2", releases.release_share, req)
    assert len(scene.releases(req)) == 1
    assert nothing(attack(scene.engine, passphrases=scene.creds("ver", "uki", "uki2")))
    # One person in both custodian teams still releases one share only.
    scene.add_officer("ver2", "verifikator", ("PUSAT", "verifikator"))
    other = scene.ask("ver2")
    scene.approve(other)
    assert scene.step("dual", releases.release_share, other) == 1
    with pytest.raises(escalation.EscalationError):
        scene.step("dual", releases.release_share, other)
    assert [r.idx for r in scene.releases(other)] == [1]
    assert nothing(attack(scene.engine, passphrases=scene.creds("ver2")))


def test_a_refused_request(scene: Scene) -> None:
    req = scene.ask()
    scene.step("pyb", escalation.decide, req, False, True, "Tidak ada dasar hukum yang cukup.")
    with pytest.raises(escalation.EscalationError):
        scene.step("uki", releases.release_share, req)
    with pytest.raises(escalation.EscalationError):
        scene.open("ver", req)
    with transaction(scene.f) as db:
        row = db.get(IdentityRequest, req)
        assert row is not None and row.ephemeral_sealed is None
    assert scene.releases(req) == []
    assert nothing(attack(scene.engine, passphrases=scene.creds("ver")))


def test_an_expired_request(scene: Scene) -> None:
    now = utcnow()
    req = scene.ask(now=now)
    scene.approve(req, now=now)
    scene.release_both(req, now=now + timedelta(hours=1))
    assert opened(attack(scene.engine, passphrases=scene.creds("ver")))  # positive control
    late = now + timedelta(days=3, seconds=1)
    with pytest.raises(escalation.EscalationError, match="expired"):
        scene.open("ver", req, now=late)
    assert sweep.run(scene.f, now=late, send_mail=False).identity_expired == 1
    assert nothing(attack(scene.engine, passphrases=scene.creds("ver")))
    with pytest.raises(escalation.EscalationError):
        scene.open("ver", req, now=late)


def test_an_approval_replayed_for_another_requester(scene: Scene) -> None:
    scene.add_officer("ver2", "verifikator", ("PUSAT", "verifikator"))
    req = scene.ask()
    scene.approve(req)
    scene.release_both(req)
    with pytest.raises(CaseNotFound):
        scene.open("ver2", req)
    assert nothing(attack(scene.engine, passphrases=scene.creds("ver2")))
    # Edited in the database to name ver2: the sealed records no longer match, and the
    # ephemeral key is still sealed to ver.
    with transaction(scene.f) as db:
        db.execute(update(IdentityRequest).where(IdentityRequest.id == req)
                   .values(requester_id=scene.world.officer_id("ver2")))
    with pytest.raises(escalation.EscalationError):
        scene.open("ver2", req)
    assert nothing(attack(scene.engine, passphrases=scene.creds("ver2")))


def test_an_approval_replayed_for_another_case(scene: Scene) -> None:
    other_case, _ = scene.world.file(anonymity=reports.CONFIDENTIAL, identity=OTHER)
    scene.ask(case_id=other_case)  # pending: the PYB team can read the other case too
    req = scene.ask()
    scene.approve(req)
    # The approval is moved to the other case in the database before any share is released.
    with transaction(scene.f) as db:
        db.execute(update(IdentityRequest).where(IdentityRequest.id == req)
                   .values(case_id=other_case))
    with pytest.raises(escalation.TamperedRequest):  # the PYB custodian checks the approval
        scene.step("pyb", releases.release_share, req)
    try:  # the UKI custodian cannot read the case; its share alone opens nothing
        scene.step("uki", releases.release_share, req)
    except escalation.EscalationError:
        pass
    assert [r.idx for r in scene.releases(req)] in ([], [1])
    with pytest.raises(escalation.EscalationError):
        scene.open("ver", req)
    loot = attack(scene.engine, passphrases=scene.creds("ver"))
    assert nothing(loot)
    # And on the route side there is no way to name another case for an approval: the other
    # case's own request is still pending.
    with transaction(scene.f) as db:
        pending = db.scalars(select(IdentityRequest).where(
            IdentityRequest.case_id == other_case, IdentityRequest.id != req)).one()
    with pytest.raises(escalation.EscalationError):
        scene.open("ver", pending.id)


def test_a_handler_without_the_shares(scene: Scene) -> None:
    # The case is routed to the pengkaji team: they read the case, never the identity.
    cipher = scene.world.cipher(scene.case_id)
    with transaction(scene.f) as db:
        from whistle.models import Case, Team

        case = db.get(Case, scene.case_id)
        team = db.get(Team, scene.world.teams[("PUSAT", "pengkaji")].team.id)
        assert case is not None and team is not None
        grant_team(db, case, team, cipher.key)
    req = scene.ask()
    scene.approve(req)
    scene.release_both(req)
    assert opened(attack(scene.engine, passphrases=scene.creds("ver")))  # positive control
    loot = attack(scene.engine, passphrases=scene.creds("pk"))
    assert loot.secrets and nothing(loot)  # the case key, yes; the identity, no
    with pytest.raises(CaseNotFound):
        scene.open("pk", req)
    with pytest.raises(escalation.EscalationError):
        scene.step("pk", releases.release_share, req)


def test_the_reporters_ticket(scene: Scene) -> None:
    req = scene.ask()
    scene.approve(req)
    scene.release_both(req)
    loot = attack(scene.engine, tickets=[scene.ticket])
    assert loot.secrets and nothing(loot)  # the ticket opens the case key and nothing more


# -- the same cheats on the routes -------------------------------------------------------------

@pytest.fixture
def desks(scene: Scene, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, FlaskClient]]:
    import whistle.services.people.accounts as accounts_mod

    clock = Clock()
    monkeypatch.setattr(accounts_mod, "now", clock)
    scene.add_officer("ver2", "verifikator", ("PUSAT", "verifikator"))
    clients = {}
    for who in ("ver", "ver2", "pk", "uki", "pyb"):
        with transaction(scene.f) as db:
            secret = make_login_ready(db, db.get(Officer, scene.world.officer_id(who)), scene.app)
        c = scene.app.test_client()
        assert login(c, who, PASSPHRASE, secret, clock).status_code == 303
        clients[who] = c
    clients["clock"] = clock  # type: ignore[assignment]
    yield clients


def test_cheats_on_the_routes(scene: Scene, desks: dict[str, FlaskClient]) -> None:
    req = scene.ask()
    detail = f"/officer/identity/{req}"
    ver, ver2, pk, uki, pyb = (desks[w] for w in ("ver", "ver2", "pk", "uki", "pyb"))
    # A handler of another team and a custodian: the page does not even exist for them yet.
    for c in (pk, uki):
        assert c.get(detail).status_code == 404
    # A teammate of the requester reads the case, so the request's reasons, but cannot open it.
    assert 'id="open-form"' not in ver2.get(detail).get_data(as_text=True)
    token = csrf(pyb, detail)
    pyb.post(f"{detail}/decide", data={"csrf_token": token, "decision": "approve",
                                       "decision_reason": DECISION})
    # The same custodian twice: the second is refused and nothing more is released.
    for _ in range(2):
        uki.post(f"{detail}/release", data={"csrf_token": csrf(uki, "/officer/identity")})
    assert [r.idx for r in scene.releases(req)] == [1]
    pyb.post(f"{detail}/release", data={"csrf_token": csrf(pyb, "/officer/identity")})
    for c in (ver2, pk, uki, pyb):  # nobody but the requester opens it
        page = c.post(f"{detail}/open", data={"csrf_token": csrf(c, "/officer/identity")})
        assert page.status_code in (403, 404) and "Rahmat" not in page.get_data(as_text=True)
    assert pk.post(f"{detail}/release",
                   data={"csrf_token": csrf(pk, "/officer/identity")}).status_code == 403
    # The reporter's page never shows it, whatever happens on the officers' side.
    reporter = scene.app.test_client()
    assert reporter_login(reporter, scene.ticket).status_code == 303
    assert "Rahmat" not in reporter.get("/laporan").get_data(as_text=True)
    # The requester opens it once; a replay of the form is refused.
    first = ver.post(f"{detail}/open", data={"csrf_token": csrf(ver, detail)}, follow_redirects=True)
    assert "Rahmat Hidayat" in first.get_data(as_text=True)
    other = scene.app.test_client()  # a second browser of the same requester: gone
    with transaction(scene.f) as db:
        secret = make_login_ready(db, db.get(Officer, scene.world.officer_id("ver")), scene.app)
    assert login(other, "ver", PASSPHRASE, secret, desks["clock"]).status_code == 303  # type: ignore[arg-type]
    again = other.post(f"{detail}/open", data={"csrf_token": csrf(other, detail)},
                       follow_redirects=True)
    assert "Rahmat" not in again.get_data(as_text=True)

