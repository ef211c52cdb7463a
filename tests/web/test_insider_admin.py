"""The puppet-admin attack of issue 7, played with everything an admin can obtain.

The admin creates officers, sees every enrolment secret (so he chooses the puppets'
passphrases and TOTP), adds the puppets to the existing verifikator, UKI and PYB teams, resets
a genuine custodian and enrols that account himself, creates a new unit and team of his own,
and then waits while the genuine officers log in and use their pages. Finally he takes the
database and the instance folder and tries every wrap in them with every key he can unseal.

The harvest below is the attacker's program. It is checked against itself: with a genuine
custodian's and verifikator's passphrases the same program opens the case and the identity
(so a harvest that opens nothing for the admin means something), and after a genuine key
holder approves a puppet the puppet's key opens the case (the only way in, audited).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto
from crypto import CryptoError, PrivateKey, Share
from tests.web.cases_world import World, build_world
from tests.web.officer_login import Clock, Enrolled, clock, csrf, finish_enrolment, login, login_as  # noqa: F401
from tests.web.officer_login import make_login_ready
from whistle.db import transaction
from whistle.models import (
    AuditEntry,
    CaseField,
    CaseKeyWrap,
    IdentityBlob,
    IdentityRequest,
    IdentityShare,
    Message,
    Officer,
    OfficerNotice,
    ShareRelease,
    Team,
    TeamMember,
)
from whistle.services.custody import escalation, releases
from whistle.services.custody.escalation_state import ephemeral_context, release_context
from whistle.services.custody.casekeys import (
    CaseCipher,
    identity_share_context,
    team_context,
    team_key_context,
)
from whistle.services.people import accounts
from whistle.services.reporter import reports
from whistle.web.state import state

IDENTITY = {"name": "Rahmat Hidayat", "nik": "3201010101010001", "phone": "081234567890"}
REASON = "Keterangan pelapor diperlukan sebagai saksi dalam pemeriksaan lapangan."
ADMIN_PASS = "kunci admin yang dia pilih sendiri"
GENUINE_PASS = "correct horse battery staple"  # tests/factories.py default
SECRET_RE = re.compile(r'id="enrolment-secret">([^<]+)<')
# (username, role) of the puppets: one for every team that holds a case key or a share.
PUPPETS = (("wayang-ver", "verifikator"), ("wayang-uki", "uki"), ("wayang-pyb", "pyb"),
           ("wayang-pk", "pengkaji"))


# -- the attacker's program ------------------------------------------------------------------

@dataclass
class Loot:
    officer_keys: dict[int, PrivateKey] = field(default_factory=dict)
    team_keys: dict[int, PrivateKey] = field(default_factory=dict)
    case_keys: dict[str, bytes] = field(default_factory=dict)
    shares: dict[str, dict[int, bytes]] = field(default_factory=dict)
    fields: list[tuple[str, str]] = field(default_factory=list)  # (case, field or message id)
    identities: list[str] = field(default_factory=list)


def _try_unwrap(keys: list[PrivateKey], blob: bytes, context: bytes) -> bytes | None:
    for key in keys:
        try:
            return key.unwrap(blob, context=context)
        except (CryptoError, ValueError):
            continue
    return None


def harvest(db: Session, passphrases: dict[str, str], instance_dir: Path | None = None) -> Loot:
    """Everything ``passphrases`` (username -> passphrase) plus the database and the instance
    folder open: every sealed officer key whose passphrase is known unsealed, then every team
    key wrap, case key wrap, identity share and share release tried with every key obtained,
    repeated until nothing new opens; then every case field, message and identity blob tried
    with every case key, identity key and instance secret."""
    loot = Loot()
    for officer in db.scalars(select(Officer)):
        passphrase = passphrases.get(officer.username)
        if officer.sealed_private_key is None or passphrase is None:
            continue
        try:
            loot.officer_keys[officer.id] = crypto.open_sealed_key(officer.sealed_private_key,
                                                                   passphrase)
        except (CryptoError, ValueError):
            continue
    released = db.scalars(select(ShareRelease)).all()
    requests = {r.id: r for r in db.scalars(select(IdentityRequest))}
    ephemeral: dict[str, PrivateKey] = {}
    while True:
        before = (len(loot.team_keys), len(loot.case_keys), len(ephemeral),
                  sum(len(s) for s in loot.shares.values()))
        keys = list(loot.officer_keys.values()) + list(loot.team_keys.values())
        for m in db.scalars(select(TeamMember).where(TeamMember.wrapped_key.is_not(None))):
            if m.team_id in loot.team_keys:
                continue
            raw = _try_unwrap(keys, m.wrapped_key or b"", team_key_context(m.team_id))
            if raw is not None:
                loot.team_keys[m.team_id] = PrivateKey.from_bytes(raw)
        keys = list(loot.officer_keys.values()) + list(loot.team_keys.values())
        for w in db.scalars(select(CaseKeyWrap).where(CaseKeyWrap.team_id.is_not(None))):
            if w.case_id not in loot.case_keys:
                raw = _try_unwrap(keys, w.blob, team_context(w.case_id))
                if raw is not None:
                    loot.case_keys[w.case_id] = raw
        for s in db.scalars(select(IdentityShare)):
            raw = _try_unwrap(keys, s.blob, identity_share_context(s.case_id, s.idx))
            if raw is not None:
                loot.shares.setdefault(s.case_id, {})[s.idx] = raw
        for req in requests.values():  # each request's ephemeral key, sealed to the requester
            if req.ephemeral_sealed is not None and req.id not in ephemeral:
                raw = _try_unwrap(keys, req.ephemeral_sealed,
                                  ephemeral_context(req.id, req.case_id, req.requester_id))
                if raw is not None:
                    ephemeral[req.id] = PrivateKey.from_bytes(raw)
        for r in released:
            req = requests.get(r.request_id)
            if req is None:
                continue
            raw = _try_unwrap(keys + list(ephemeral.values()), r.blob,
                              release_context(r.request_id, req.case_id, r.idx))
            if raw is not None:
                loot.shares.setdefault(req.case_id, {})[r.idx] = raw
        after = (len(loot.team_keys), len(loot.case_keys), len(ephemeral),
                 sum(len(s) for s in loot.shares.values()))
        if after == before:
            break
    secrets = [p.read_bytes() for p in sorted((instance_dir / "secrets").iterdir())] \
        if instance_dir is not None else []
    for f in db.scalars(select(CaseField)):
        for key in [loot.case_keys.get(f.case_id)] + secrets:
            if key is not None and _opens(CaseCipher(f.case_id, key), "field", f.name, f.blob):
                loot.fields.append((f.case_id, f.name))
                break
    for msg in db.scalars(select(Message)):
        for key in [loot.case_keys.get(msg.case_id)] + secrets:
            if key is not None and _opens(CaseCipher(msg.case_id, key), "message", msg.id, msg.blob):
                loot.fields.append((msg.case_id, msg.id))
                break
    for blob in db.scalars(select(IdentityBlob)):
        candidates = list(secrets)
        parts = loot.shares.get(blob.case_id, {})
        if len(parts) >= 2:
            try:
                candidates.append(crypto.combine_shares([Share.from_bytes(v) for v in parts.values()]))
            except CryptoError:
                pass
        if any(_opens(CaseCipher(blob.case_id, k), blob.kind, None, blob.blob) for k in candidates):
            loot.identities.append(blob.case_id)
    return loot


def _opens(cipher: CaseCipher, slot: str, name: str | None, blob: bytes) -> bool:
    try:
        cipher.open(slot, name, blob)
        return True
    except (CryptoError, ValueError):
        return False


# -- the scene -------------------------------------------------------------------------------

@dataclass
class Scene:
    world: World
    case_id: str
    admin: Enrolled
    admin_client: FlaskClient
    known: dict[str, str]  # username -> passphrase the admin chose
    puppets: dict[str, Enrolled]
    clients: dict[str, FlaskClient]  # genuine officers' logged-in clients
    totp: dict[str, str]


def _post(client: FlaskClient, page: str, action: str, **data: object):  # type: ignore[no-untyped-def]
    data["csrf_token"] = csrf(client, page)
    return client.post(action, data=data)


def _team_id(world: World, role: str, unit: str = "PUSAT") -> int:
    return world.teams[(unit, role)].team.id


def _me(db: Session, world: World, who: str) -> Officer:
    o = db.get(Officer, world.officer_id(who))
    assert o is not None
    return o


@pytest.fixture
def scene(app: Flask, clock: Clock) -> Scene:
    f = state(app).db
    world = build_world(f)
    with transaction(f) as db:
        # A second genuine UKI custodian, so that the admin may reset one of the two.
        from tests.factories import make_officer
        unit = db.get(Team, _team_id(world, "uki")).unit  # type: ignore[union-attr]
        world.officers["uki2"] = make_officer(db, unit, "uki", "uki2",
                                              teams=(world.teams[("PUSAT", "uki")],))
        world.members["uki2"] = (("PUSAT", "uki"),)
        totp_secrets = {who: make_login_ready(db, _me(db, world, who), app)
                        for who in ("ver", "pyb", "uki", "uki2", "pk")}
    case_id, _ticket = world.file(anonymity=reports.CONFIDENTIAL, identity=IDENTITY)
    # A genuine escalation whose shares were released and not yet shown (so the request's
    # ephemeral key and share_releases hold rows that the requester's key would open).
    with transaction(f) as db:
        req = escalation.request_identity(db, _me(db, world, "ver"), world.keys("ver"), case_id,
                                          REASON, "witness", "Pasal 5 UU 13/2006")
        req_id = req.id
    with transaction(f) as db:
        escalation.decide(db, _me(db, world, "pyb"), world.keys("pyb"), req_id, True, True,
                          "Diperlukan untuk pemeriksaan.")
    for who in ("uki", "pyb"):
        with transaction(f) as db:
            releases.release_share(db, _me(db, world, who), world.keys(who), req_id)

    with transaction(f) as db:
        officer, secret = accounts.create_first_admin(db, "root")
        admin = finish_enrolment(app, db, officer.id, secret, ADMIN_PASS)
    admin_client = app.test_client()
    login_as(admin_client, admin, clock)
    known = {"root": ADMIN_PASS}
    puppets: dict[str, Enrolled] = {}
    unit_id = world.units["PUSAT"]
    for username, role in PUPPETS:
        resp = _post(admin_client, "/admin/officers", "/admin/officers", username=username,
                     display_name="Sutrisno Wibowo", role=role, unit_id=unit_id)
        secret = SECRET_RE.search(resp.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
        with transaction(f) as db:
            oid = db.scalar(select(Officer.id).where(Officer.username == username))
            puppets[username] = finish_enrolment(app, db, oid, secret, ADMIN_PASS)  # type: ignore[arg-type]
        known[username] = ADMIN_PASS
        tid = _team_id(world, role)
        assert _post(admin_client, "/admin/teams", f"/admin/teams/{tid}/members",
                     officer_id=puppets[username].id).status_code == 303
    # A genuine custodian reset; the admin enrols the account himself with the new secret.
    uki2 = world.officer_id("uki2")
    resp = _post(admin_client, f"/admin/officers/{uki2}", f"/admin/officers/{uki2}/reset")
    secret = SECRET_RE.search(resp.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    with transaction(f) as db:
        puppets["uki2"] = finish_enrolment(app, db, uki2, secret, ADMIN_PASS)
    known["uki2"] = ADMIN_PASS
    return Scene(world, case_id, admin, admin_client, known, puppets, {}, totp_secrets)


def _genuine_log_in_and_look(app: Flask, scene: Scene, clock: Clock) -> None:
    """The genuine officers log in and open every page that shows pending members."""
    for who in ("ver", "pyb", "uki", "pk"):
        client = app.test_client()
        resp = login(client, who, GENUINE_PASS, scene.totp[who], clock)
        assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
        page = client.get("/officer/account").get_data(as_text=True)
        for href in set(re.findall(r'href="(/officer/team/[^"]+)"', page)):
            assert client.get(href).status_code == 200
        scene.clients[who] = client


def _puppets_try_everything(app: Flask, scene: Scene, clock: Clock) -> None:
    """Each puppet logs in and posts every approval form there is, for everybody."""
    f = state(app).db
    with transaction(f) as db:
        pending = [(m.team_id, m.officer_id) for m in db.scalars(
            select(TeamMember).where(TeamMember.wrapped_key.is_(None)))]
    for name, who in scene.puppets.items():
        client = app.test_client()
        login_as(client, who, clock)
        token = csrf(client, "/officer/account")
        for team_id, officer_id in pending:
            for action in ("/officer/team/approve",
                           f"/officer/team/{team_id}/members/{officer_id}/approve"):
                resp = client.post(action, data={"csrf_token": token, "team_id": team_id,
                                                 "officer_id": officer_id, "compared": "1"})
                assert resp.status_code != 500, (name, action)


def test_admin_with_everything_he_can_obtain_opens_nothing(app: Flask, scene: Scene,
                                                           clock: Clock,
                                                           instance_dir: Path) -> None:
    _genuine_log_in_and_look(app, scene, clock)
    _puppets_try_everything(app, scene, clock)
    # His own new unit and teams, with puppets as first members: his stated power (SECURITY.md).
    a = scene.admin_client
    assert _post(a, "/admin/units", "/admin/units", code="BAYANGAN", name="Unit Bayangan").status_code == 303
    with transaction(state(app).db) as db:
        from whistle.models import Unit
        shadow = db.scalar(select(Unit.id).where(Unit.code == "BAYANGAN"))
    for username, role in (("wayang-uki", "uki"), ("wayang-ver", "verifikator")):
        # The puppets belong to PUSAT; a puppet at the new unit is one more account.
        resp = _post(a, "/admin/officers", "/admin/officers", username=f"{username}-b",
                     display_name="Bayangan", role=role, unit_id=shadow)
        secret = SECRET_RE.search(resp.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
        with transaction(state(app).db) as db:
            oid = db.scalar(select(Officer.id).where(Officer.username == f"{username}-b"))
            finish_enrolment(app, db, oid, secret, ADMIN_PASS)  # type: ignore[arg-type]
        scene.known[f"{username}-b"] = ADMIN_PASS
        assert _post(a, "/admin/teams", "/admin/teams", unit_id=shadow, role=role,
                     officer_id=oid).status_code == 303
    # The admin may not add himself to a team, nor make a second team for a role at a unit.
    assert _post(a, "/admin/teams", "/admin/teams", unit_id=scene.world.units["PUSAT"],
                 role="uki", officer_id=scene.puppets["wayang-uki"].id).status_code == 422

    with transaction(state(app).db) as db:
        loot = harvest(db, scene.known, instance_dir)
        existing = {t.id for t in db.scalars(select(Team)) if t.unit.code != "BAYANGAN"}
        wraps = [(e.action, e.detail) for e in db.scalars(select(AuditEntry).where(
            AuditEntry.action.in_(("team.member_wrap", "team.member_approve"))))]
    assert loot.officer_keys, "the harvest unsealed the admin's and the puppets' keys"
    assert not set(loot.team_keys) & existing, "a puppet obtained an existing team key"
    assert loot.case_keys == {} and loot.shares == {}
    assert loot.fields == [] and loot.identities == []
    assert wraps == [], "nobody approved, so nothing may have been wrapped"


def test_the_harvest_opens_what_genuine_holders_hold(app: Flask, scene: Scene,
                                                     instance_dir: Path) -> None:
    """Positive control: the same program, given genuine passphrases, opens the case and the
    identity. Without it the test above could pass by a harvest that never opens anything."""
    with transaction(state(app).db) as db:
        loot = harvest(db, {"ver": GENUINE_PASS}, instance_dir)
        assert scene.case_id in loot.case_keys
        assert (scene.case_id, "what") in loot.fields
        # The requester, before the identity is shown: the released shares open with his key.
        assert scene.case_id in loot.identities
        both = harvest(db, {"uki": GENUINE_PASS, "pyb": GENUINE_PASS}, instance_dir)
        assert scene.case_id in both.identities


def test_a_genuine_holders_approval_is_the_only_way_in_and_it_is_seen(
        app: Flask, scene: Scene, clock: Clock, instance_dir: Path) -> None:
    """The same admin, after the genuine UKI and PYB custodians each approve his puppet (without
    comparing fingerprints with anyone they know): now the identity opens from the database.
    That approval is the one way in; it is in the audit log with the approver's name, and
    every member of the two teams was told."""
    _genuine_log_in_and_look(app, scene, clock)
    for who, puppet, role in (("uki", "wayang-uki", "uki"), ("pyb", "wayang-pyb", "pyb")):
        client = scene.clients[who]
        page = f"/officer/team/{_team_id(scene.world, role)}/members/{scene.puppets[puppet].id}"
        html = client.get(page).get_data(as_text=True)
        fp = re.search(r'id="fingerprint">([0-9A-F ]+)<', html).group(1)  # type: ignore[union-attr]
        assert _post(client, page, page + "/approve", fingerprint=fp,
                     compared="1").status_code == 303
    with transaction(state(app).db) as db:
        loot = harvest(db, scene.known, instance_dir)
        entries = [(e.actor, e.action, e.object, e.detail) for e in db.scalars(
            select(AuditEntry).where(AuditEntry.action == "team.member_wrap"))]
        told = {(n.officer_id, n.kind, n.subject_id) for n in db.scalars(select(OfficerNotice))}
    assert scene.case_id in loot.identities
    for who, puppet, role in (("uki", "wayang-uki", "uki"), ("pyb", "wayang-pyb", "pyb")):
        genuine, pid = scene.world.officer_id(who), scene.puppets[puppet].id
        assert (f"officer:{genuine}", "team.member_wrap", f"team:{_team_id(scene.world, role)}",
                f"officer:{pid} approvers=officer:{genuine}") in entries
        assert (pid, "member_joined", pid) in told  # the puppet's own page says so too
    # The reset custodian (uki2, now the admin's) heard of the UKI approval as a team member.
    assert (scene.world.officer_id("uki2"), "member_joined", scene.puppets["wayang-uki"].id) in told
