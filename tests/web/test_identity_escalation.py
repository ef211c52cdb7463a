"""Identity escalation: request -> PYB decision -> two custodians release -> requester opens."""
from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from whistle.db import transaction
from whistle.models import AuditEntry, IdentityRequest, Officer, ShareRelease
from whistle.services.custody import escalation
from whistle.services.reporter import reports
from whistle.services.cases.transitions import CaseNotFound
from whistle.web.state import state
from tests.web.cases_world import World, build_world

IDENTITY = {"name": "Rahmat Hidayat", "nik": "3201010101010001", "phone": "081234567890"}
REASON = "Keterangan pelapor diperlukan sebagai saksi dalam pemeriksaan lapangan."


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


def _step(factory: sessionmaker[Session], world: World, who: str, fn, *args, **kw):  # type: ignore[no-untyped-def]
    with transaction(factory) as db:
        return fn(db, _me(db, world, who), world.keys(who), *args, **kw)


def test_full_escalation(app: Flask, world: World, case_id: str) -> None:
    f = state(app).db
    req = _step(f, world, "ver", escalation.request_identity, case_id, REASON)
    # Nobody can release before the decision; the requester cannot decide.
    with pytest.raises(escalation.EscalationError):
        _step(f, world, "uki", escalation.release_share, req.id)
    with pytest.raises(escalation.EscalationError):
        _step(f, world, "ver", escalation.decide, req.id, True, True)
    with transaction(f) as db:
        assert escalation.reason_text(db, db.get(IdentityRequest, req.id), world.keys("pyb")) == REASON
        assert escalation.reason_text(db, db.get(IdentityRequest, req.id), world.keys("uki")) is None
        assert [r.id for r in escalation.overview(db, _me(db, world, "pyb"), world.keys("pyb"))["decide"]] == [req.id]
    _step(f, world, "pyb", escalation.decide, req.id, True, True)
    # The reporter is told in the thread, before any share is released.
    assert any("identitas" in text for author, text in world.thread(case_id) if author == "system")

    with transaction(f) as db:
        with pytest.raises(escalation.EscalationError):
            escalation.open_identity(db, _me(db, world, "ver"), world.officers["ver"].private_key,
                                     world.keys("ver"), req.id)
    assert _step(f, world, "uki", escalation.release_share, req.id) == 1
    with pytest.raises(escalation.EscalationError):  # one custodian, one share
        _step(f, world, "uki", escalation.release_share, req.id)
    assert _step(f, world, "pyb", escalation.release_share, req.id) == 2
    with transaction(f) as db:
        rel = db.scalars(select(ShareRelease)).all()
        assert len(rel) == 2
        # Another officer (even a custodian) cannot open it, nor learn that it is openable.
        with pytest.raises(CaseNotFound):
            escalation.open_identity(db, _me(db, world, "pyb"), world.officers["pyb"].private_key,
                                     world.keys("pyb"), req.id)
    with transaction(f) as db:
        shown = escalation.open_identity(db, _me(db, world, "ver"), world.officers["ver"].private_key,
                                         world.keys("ver"), req.id)
    assert shown.identity == IDENTITY
    with transaction(f) as db:
        assert db.get(IdentityRequest, req.id).status == escalation.OPENED  # type: ignore[union-attr]
        actions = [a for a in db.scalars(select(AuditEntry.action))]
    for step in ("identity.request", "identity.approve", "identity.share_release", "identity.open"):
        assert step in actions
    assert actions.count("identity.share_release") == 2


def test_refusal_and_silence(app: Flask, world: World, case_id: str) -> None:
    f = state(app).db
    req = _step(f, world, "ver", escalation.request_identity, case_id, REASON)
    _step(f, world, "pyb", escalation.decide, req.id, False, True)
    with pytest.raises(escalation.EscalationError):
        _step(f, world, "uki", escalation.release_share, req.id)
    before = world.thread(case_id)
    # A new request approved with "telling the reporter would harm the investigation".
    req2 = _step(f, world, "ver", escalation.request_identity, case_id, REASON)
    _step(f, world, "pyb", escalation.decide, req2.id, True, False)
    assert world.thread(case_id) == before
    with transaction(f) as db:
        assert db.get(IdentityRequest, req2.id).tell_reporter is False  # type: ignore[union-attr]


def test_request_rules(app: Flask, world: World, case_id: str) -> None:
    f = state(app).db
    anon_case, _ = world.file()
    with pytest.raises(escalation.EscalationError):
        _step(f, world, "ver", escalation.request_identity, anon_case, REASON)
    with pytest.raises(escalation.EscalationError):
        _step(f, world, "ver", escalation.request_identity, case_id, "too short")
    with pytest.raises(CaseNotFound):  # an officer who cannot read the case
        _step(f, world, "pk_kw", escalation.request_identity, case_id, REASON)
    _step(f, world, "ver", escalation.request_identity, case_id, REASON)
    with pytest.raises(escalation.EscalationError):  # one open request at a time
        _step(f, world, "ver", escalation.request_identity, case_id, REASON)


# -- through the pages ---------------------------------------------------------------------

def test_escalation_through_the_pages(app: Flask, world: World, case_id: str) -> None:
    import re

    from tests.web.officer_login import Clock, csrf, login
    from tests.web.officer_login import make_login_ready

    clock = Clock()
    import whistle.services.people.accounts as accounts_mod
    original = accounts_mod.now
    accounts_mod.now = clock
    try:
        clients = {}
        for who in ("ver", "pyb", "uki", "pk_kw"):
            with transaction(state(app).db) as db:
                secret = make_login_ready(db, _me(db, world, who), app)
            c = app.test_client()
            assert login(c, who, world.officers[who].passphrase, secret, clock).status_code == 303
            clients[who] = c
        ver, pyb, uki = clients["ver"], clients["pyb"], clients["uki"]
        form = f"/officer/cases/{case_id}/identity"
        # The case page leads to the request form (the only way to an identity).
        assert f'href="{form}"' in ver.get(f"/officer/cases/{case_id}").get_data(as_text=True)
        resp = ver.post(form, data={"csrf_token": csrf(ver, form), "reason": REASON})
        assert resp.status_code == 303
        detail = resp.headers["Location"]
        req_id = detail.rsplit("/", 1)[-1]
        # An officer of another unit learns nothing about it.
        assert clients["pk_kw"].get(detail).status_code == 404
        assert clients["pk_kw"].get(f"/officer/cases/{case_id}/identity").status_code == 200
        page = pyb.get(detail).get_data(as_text=True)
        assert REASON in page and "Setujui" in page  # Approve
        assert uki.get(detail).status_code == 404  # custodians act only once it is approved
        pyb.post(f"/officer/identity/{req_id}/decide",
                 data={"csrf_token": csrf(pyb, detail), "decision": "approve"})
        assert "approved" in ver.get(detail).get_data(as_text=True)
        assert "Rahmat" not in ver.get(detail).get_data(as_text=True)
        listing = uki.get("/officer/identity").get_data(as_text=True)
        assert f"/officer/identity/{req_id}/release" in listing
        uki.post(f"/officer/identity/{req_id}/release",
                 data={"csrf_token": csrf(uki, "/officer/identity")})
        pyb.post(f"/officer/identity/{req_id}/release",
                 data={"csrf_token": csrf(pyb, "/officer/identity")})
        shown = ver.get(detail)
        html = shown.get_data(as_text=True)
        assert "Rahmat Hidayat" in html and "3201010101010001" in html
        assert "no-store" in shown.headers["Cache-Control"]
        for other in (pyb, uki):
            body = other.get(detail).get_data(as_text=True)
            assert "Rahmat" not in body
        assert re.search(r'id="status" data-status="opened">', html)
    finally:
        accounts_mod.now = original
