"""Identity escalation: request -> PYB decision -> two custodians release to the request's
ephemeral key -> the requester opens it ONCE; expiry; every step audited. On SQLite and
PostgreSQL (the ``app`` fixture runs on both), with the real crypto and database."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from crypto import CryptoError, PrivateKey
from tests.web.cases_world import World, build_world
from tests.web.officer_login import Clock, csrf, login, make_login_ready
from whistle.db import transaction
from whistle.models import AuditEntry, IdentityRequest, Officer, ShareRelease, utcnow
from whistle.services.cases.transitions import CaseNotFound
from whistle.services.custody import escalation, releases
from whistle.services.custody.escalation_state import ephemeral_context, release_context
from whistle.services.operations import sweep
from whistle.services.reporter import reports
from whistle.web.state import state

IDENTITY = {"name": "Rahmat Hidayat", "nik": "3201010101010001", "phone": "081234567890"}
REASON = "Keterangan pelapor diperlukan sebagai saksi dalam pemeriksaan lapangan."
BASIS, BASIS_TEXT = "witness", "Pasal 12 ayat (2) Peraturan Menteri PANRB 2019"
DECISION = "Pemeriksaan lapangan memerlukan keterangan langsung dari pelapor."


@pytest.fixture
def world(app: Flask) -> World:
    return build_world(state(app).db)


@pytest.fixture
def case_id(world: World) -> str:
    cid, _ = world.file(anonymity=reports.CONFIDENTIAL, identity=IDENTITY)
    return cid


def _me(db: Session, world: World, who: str) -> Officer:
    o = db.get(Officer, world.officer_id(who))
    assert o is not None
    return o


def _step(factory: sessionmaker[Session], world: World, who: str, fn: Any, *args: Any,
          **kw: Any) -> Any:
    with transaction(factory) as db:
        return fn(db, _me(db, world, who), world.keys(who), *args, **kw)


def ask(f: sessionmaker[Session], world: World, case_id: str, who: str = "ver",
        **kw: Any) -> IdentityRequest:
    return _step(f, world, who, escalation.request_identity, case_id, REASON, BASIS, BASIS_TEXT,
                 **kw)


def approve(f: sessionmaker[Session], world: World, req_id: str, **kw: Any) -> None:
    _step(f, world, "pyb", escalation.decide, req_id, True, True, DECISION, **kw)


def open_as(f: sessionmaker[Session], world: World, who: str, req_id: str,
            **kw: Any) -> releases.Disclosure:
    with transaction(f) as db:
        return releases.open_identity(db, _me(db, world, who), world.officers[who].private_key,
                                      world.keys(who), req_id, **kw)


def row(f: sessionmaker[Session], req_id: str) -> IdentityRequest:
    with transaction(f) as db:
        found = db.get(IdentityRequest, req_id)
        assert found is not None
        return found


def test_full_escalation_opens_once_and_destroys_its_keys(app: Flask, world: World,
                                                          case_id: str) -> None:
    f = state(app).db
    req = ask(f, world, case_id)
    # The ephemeral private half is sealed to the requester (and only to them).
    r = row(f, req.id)
    ver_key = world.officers["ver"].private_key
    context = ephemeral_context(req.id, case_id, world.officer_id("ver"))
    assert r.ephemeral_sealed is not None and r.ephemeral_public is not None
    ephemeral = PrivateKey.from_bytes(ver_key.unwrap(r.ephemeral_sealed, context=context))
    assert ephemeral.public_key().to_bytes() == r.ephemeral_public
    with pytest.raises(CryptoError):
        world.officers["pk"].private_key.unwrap(r.ephemeral_sealed, context=context)
    assert r.requester_role == "verifikator" and r.status == escalation.PENDING

    # Nobody releases before the decision; the requester cannot decide.
    with pytest.raises(escalation.EscalationError):
        _step(f, world, "uki", releases.release_share, req.id)
    with pytest.raises(escalation.EscalationError):
        _step(f, world, "ver", escalation.decide, req.id, True, True, DECISION)
    with transaction(f) as db:
        found = escalation.records(db, db.get(IdentityRequest, req.id), world.keys("pyb"))
        assert found is not None and (found.reason, found.basis, found.basis_text) == (
            REASON, BASIS, BASIS_TEXT)
        assert escalation.records(db, db.get(IdentityRequest, req.id), world.keys("uki")) is None
        assert [x.id for x in escalation.overview(db, _me(db, world, "pyb"),
                                                  world.keys("pyb"))["decide"]] == [req.id]
    approve(f, world, req.id)
    assert any("identitas" in text for author, text in world.thread(case_id) if author == "system")
    with transaction(f) as db:
        found = escalation.records(db, db.get(IdentityRequest, req.id), world.keys("ver"))
        assert found is not None and found.decision_reason == DECISION

    with pytest.raises(escalation.EscalationError):  # no share yet
        open_as(f, world, "ver", req.id)
    assert _step(f, world, "uki", releases.release_share, req.id) == 1
    with pytest.raises(escalation.EscalationError):  # one custodian, one share
        _step(f, world, "uki", releases.release_share, req.id)
    assert _step(f, world, "pyb", releases.release_share, req.id) == 2
    with transaction(f) as db:
        rel = db.scalars(select(ShareRelease).where(ShareRelease.request_id == req.id)).all()
        assert len(rel) == 2
        for x in rel:  # released to the EPHEMERAL key, never to the requester's own key
            with pytest.raises(CryptoError):
                ver_key.unwrap(x.blob, context=release_context(req.id, case_id, x.idx))
            assert ephemeral.unwrap(x.blob, context=release_context(req.id, case_id, x.idx))
        with pytest.raises(CaseNotFound):  # another officer cannot open it, nor learn of it
            releases.open_identity(db, _me(db, world, "pyb"), world.officers["pyb"].private_key,
                                   world.keys("pyb"), req.id)
    shown = open_as(f, world, "ver", req.id)
    assert shown.identity == IDENTITY

    r = row(f, req.id)
    assert r.status == escalation.OPENED and r.opened_at is not None and r.ended_at is not None
    assert r.ephemeral_sealed is None
    with transaction(f) as db:
        assert db.scalars(select(ShareRelease).where(ShareRelease.request_id == req.id)).all() == []
    with pytest.raises(escalation.EscalationError, match="new request"):
        open_as(f, world, "ver", req.id)
    # A new request is a new approval, a new ephemeral key, new releases.
    again = ask(f, world, case_id)
    assert row(f, again.id).status == escalation.PENDING
    with transaction(f) as db:
        actions = list(db.scalars(select(AuditEntry.action)))
    for step in ("identity.request", "identity.approve", "identity.share_release", "identity.open"):
        assert step in actions
    assert actions.count("identity.share_release") == 2 and actions.count("identity.open") == 1


def test_two_tabs_open_it_once(app: Flask, world: World, case_id: str) -> None:
    """Two openings at the same instant (two tabs): the conditional UPDATE lets exactly one
    through; the other is refused (or loses the write lock and is told to retry), and there is
    one opening in the audit log."""
    from tests.concurrency import run_at_once
    from whistle.db import Conflict

    f = state(app).db
    req = ask(f, world, case_id)
    approve(f, world, req.id)
    _step(f, world, "uki", releases.release_share, req.id)
    _step(f, world, "pyb", releases.release_share, req.id)
    results, errors = run_at_once(lambda: open_as(f, world, "ver", req.id))
    assert len(results) == 1 and results[0].identity == IDENTITY
    assert len(errors) == 1 and isinstance(errors[0], (escalation.EscalationError, Conflict)), errors
    with transaction(f) as db:
        assert len(db.scalars(select(AuditEntry).where(
            AuditEntry.action == "identity.open")).all()) == 1
    assert row(f, req.id).ephemeral_sealed is None


def test_refusal_destroys_and_silence_is_kept(app: Flask, world: World, case_id: str) -> None:
    f = state(app).db
    req = ask(f, world, case_id)
    with pytest.raises(escalation.EscalationError):  # a decision needs a reason
        _step(f, world, "pyb", escalation.decide, req.id, False, True, "")
    _step(f, world, "pyb", escalation.decide, req.id, False, True, "Tidak ada dasar hukum yang cukup.")
    r = row(f, req.id)
    assert r.status == escalation.REFUSED and r.ephemeral_sealed is None and r.ended_at
    with pytest.raises(escalation.EscalationError):
        _step(f, world, "uki", releases.release_share, req.id)
    with transaction(f) as db:
        found = escalation.records(db, db.get(IdentityRequest, req.id), world.keys("ver"))
        assert found is not None and found.decision_reason == "Tidak ada dasar hukum yang cukup."
    before = world.thread(case_id)
    req2 = ask(f, world, case_id)  # "telling the reporter would harm the investigation"
    _step(f, world, "pyb", escalation.decide, req2.id, True, False, DECISION)
    assert world.thread(case_id) == before
    assert row(f, req2.id).tell_reporter is False


def test_request_rules(app: Flask, world: World, case_id: str) -> None:
    f = state(app).db
    anon_case, _ = world.file()

    def refused(*args: Any, who: str = "ver") -> None:
        with pytest.raises(escalation.EscalationError):
            _step(f, world, who, escalation.request_identity, *args)

    refused(anon_case, REASON, BASIS, BASIS_TEXT)
    refused(case_id, "too short", BASIS, BASIS_TEXT)
    refused(case_id, REASON, "because", BASIS_TEXT)  # not a basis of the fixed list
    refused(case_id, REASON, BASIS, "")  # the provision must be named
    refused(case_id, REASON, "consent", "")  # no consent given by the reporter
    with pytest.raises(CaseNotFound):  # an officer who cannot read the case
        _step(f, world, "pk_kw", escalation.request_identity, case_id, REASON, BASIS, BASIS_TEXT)
    with transaction(f) as db:
        assert db.scalars(select(IdentityRequest)).all() == []  # nothing half-written
    ask(f, world, case_id)
    refused(case_id, REASON, BASIS, BASIS_TEXT)  # one open request at a time


# -- expiry ------------------------------------------------------------------------------------

def test_pending_request_expires_and_a_backdated_one_is_refused(app: Flask, world: World,
                                                                case_id: str) -> None:
    f = state(app).db
    now = utcnow()
    req = ask(f, world, case_id, now=now)
    with pytest.raises(escalation.EscalationError, match="expired"):
        approve(f, world, req.id, now=now + timedelta(days=7, seconds=1))
    assert row(f, req.id).status == escalation.PENDING  # refused on read, nothing written
    # A request back-dated in the database by 400 days cannot be approved either.
    req2 = ask(f, world, case_id, now=now + timedelta(days=8))  # the old one no longer counts
    with transaction(f) as db:
        db.execute(update(IdentityRequest).where(IdentityRequest.id == req2.id)
                   .values(created_at=now - timedelta(days=400)))
    with pytest.raises(escalation.EscalationError):
        approve(f, world, req2.id)
    # A request moved into the future does not get a longer life.
    with transaction(f) as db:
        db.execute(update(IdentityRequest).where(IdentityRequest.id == req2.id)
                   .values(created_at=now + timedelta(days=30)))
    with pytest.raises(escalation.EscalationError):
        approve(f, world, req2.id)


def test_approved_request_expires_then_the_sweep_destroys_its_keys(app: Flask, world: World,
                                                                   case_id: str) -> None:
    f = state(app).db
    now = utcnow()
    req = ask(f, world, case_id, now=now)
    approve(f, world, req.id, now=now + timedelta(days=1))
    _step(f, world, "uki", releases.release_share, req.id, now=now + timedelta(days=2))
    late = now + timedelta(days=4, seconds=1)  # approval + 3 days
    with pytest.raises(escalation.EscalationError, match="expired"):
        _step(f, world, "pyb", releases.release_share, req.id, now=late)
    assert row(f, req.id).status == escalation.APPROVED and row(f, req.id).ephemeral_sealed
    report = sweep.run(f, now=late, send_mail=False)
    assert report.identity_expired == 1
    r = row(f, req.id)
    assert r.status == escalation.EXPIRED and r.ephemeral_sealed is None and r.ended_at == late
    with transaction(f) as db:
        assert db.scalars(select(ShareRelease).where(ShareRelease.request_id == req.id)).all() == []
        audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "identity.expire")).all()
        assert [(a.actor, a.object) for a in audit] == [("system", f"case:{case_id}")]
    with pytest.raises(escalation.EscalationError):
        _step(f, world, "pyb", releases.release_share, req.id, now=late)
    with pytest.raises(escalation.EscalationError):
        open_as(f, world, "ver", req.id, now=late)
    assert sweep.run(f, now=late, send_mail=False).identity_expired == 0  # idempotent


def test_lives_are_configurable(make_app: Any) -> None:
    app = make_app(identity_decide_days=1, identity_release_days=1)
    world = build_world(state(app).db)
    cid, _ = world.file(anonymity=reports.CONFIDENTIAL, identity=IDENTITY)
    f = state(app).db
    now = utcnow()
    req = ask(f, world, cid, now=now, config=state(app).config)
    with pytest.raises(escalation.EscalationError, match="expired"):
        approve(f, world, req.id, now=now + timedelta(days=1, seconds=1), config=state(app).config)
    approve(f, world, req.id, now=now + timedelta(hours=23), config=state(app).config)


# -- through the pages ---------------------------------------------------------------------

def test_escalation_through_the_pages(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import whistle.blueprints.officer.identity as identity_pages
    import whistle.services.people.accounts as accounts_mod

    app = make_app(identity_reading_seconds=60)
    world = build_world(state(app).db)
    case_id, _ = world.file(anonymity=reports.CONFIDENTIAL, identity=IDENTITY)
    clock = Clock()
    monkeypatch.setattr(accounts_mod, "now", clock)
    wall = [1_000_000.0]
    monkeypatch.setattr(identity_pages.time, "time", lambda: wall[0])
    clients = {}
    for who in ("ver", "pyb", "uki", "pk_kw"):
        with transaction(state(app).db) as db:
            secret = make_login_ready(db, _me(db, world, who), app)
        c = app.test_client()
        assert login(c, who, world.officers[who].passphrase, secret, clock).status_code == 303
        clients[who] = c
    ver, pyb, uki = clients["ver"], clients["pyb"], clients["uki"]
    form = f"/officer/cases/{case_id}/identity"
    assert f'href="{form}"' in ver.get(f"/officer/cases/{case_id}").get_data(as_text=True)
    # Bad input: a clear message, the text kept, nothing written.
    bad = ver.post(form, data={"csrf_token": csrf(ver, form), "reason": REASON, "basis": ""})
    assert bad.status_code == 422 and REASON in bad.get_data(as_text=True)
    resp = ver.post(form, data={"csrf_token": csrf(ver, form), "reason": REASON, "basis": BASIS,
                                "basis_text": BASIS_TEXT})
    assert resp.status_code == 303
    detail = resp.headers["Location"]
    req_id = detail.rsplit("/", 1)[-1]
    assert clients["pk_kw"].get(detail).status_code == 404
    page = pyb.get(detail).get_data(as_text=True)
    assert REASON in page and BASIS_TEXT in page and "Setujui" in page  # Approve
    assert uki.get(detail).status_code == 404  # custodians act only once it is approved
    # A decision without a reason is refused and changes nothing.
    pyb.post(f"/officer/identity/{req_id}/decide",
             data={"csrf_token": csrf(pyb, detail), "decision": "approve"})
    assert 'data-status="pending"' in ver.get(detail).get_data(as_text=True)
    pyb.post(f"/officer/identity/{req_id}/decide", data={
        "csrf_token": csrf(pyb, detail), "decision": "approve", "decision_reason": DECISION})
    html = ver.get(detail).get_data(as_text=True)
    assert 'data-status="approved"' in html and DECISION in html and "Rahmat" not in html
    assert 'id="open-form"' not in html  # shares still missing
    listing = uki.get("/officer/identity").get_data(as_text=True)
    assert f"/officer/identity/{req_id}/release" in listing
    uki.post(f"/officer/identity/{req_id}/release", data={"csrf_token": csrf(uki, "/officer/identity")})
    pyb.post(f"/officer/identity/{req_id}/release", data={"csrf_token": csrf(pyb, "/officer/identity")})
    html = ver.get(detail).get_data(as_text=True)
    assert 'id="open-form"' in html and "Rahmat" not in html  # GET alone opens nothing
    shown = ver.post(f"/officer/identity/{req_id}/open", data={"csrf_token": csrf(ver, detail)},
                     follow_redirects=True)
    html = shown.get_data(as_text=True)
    assert "Rahmat Hidayat" in html and "3201010101010001" in html
    assert "no-store" in shown.headers["Cache-Control"]
    assert re.search(r'id="status" data-status="opened">', html)
    for other in (pyb, uki):
        assert "Rahmat" not in other.get(detail).get_data(as_text=True)
    wall[0] += 30  # a reload within the reading window shows it again
    assert "Rahmat Hidayat" in ver.get(detail).get_data(as_text=True)
    wall[0] += 31  # past the window: gone, even from the session
    html = ver.get(detail).get_data(as_text=True)
    assert "Rahmat" not in html and 'id="gone"' in html
    again = ver.post(f"/officer/identity/{req_id}/open", data={"csrf_token": csrf(ver, detail)},
                     follow_redirects=True)
    assert "Rahmat" not in again.get_data(as_text=True)
    assert "permintaan baru" in again.get_data(as_text=True)  # "needs a new request"
