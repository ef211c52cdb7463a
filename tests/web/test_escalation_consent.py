"""The reporter's side: consent from the case page (skips the PYB, never the custodians),
withdrawal until it is used, and the list of openings (date, role, consent or approval; never
a name). Services and pages, on SQLite and PostgreSQL."""
from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.web.escalation_attacker import attack
from tests.web.reporter_helpers import csrf as page_csrf
from tests.web.reporter_helpers import login as reporter_login
from tests.web.test_escalation_cheats import DECISION, REASON, Scene
from whistle.db import transaction
from whistle.models import AuditEntry, IdentityConsent, IdentityRequest, new_id, utcnow
from whistle.services.custody import escalation, releases

from tests.web.test_escalation_cheats import scene  # noqa: F401  (fixture)


def reporter(scene: Scene) -> FlaskClient:
    c = scene.app.test_client()
    assert reporter_login(c, scene.ticket).status_code == 303
    return c


def give_consent(c: FlaskClient, confirm: bool = True) -> Any:
    html = c.get("/laporan").get_data(as_text=True)
    data = {"csrf_token": page_csrf(html)}
    if confirm:
        data["confirm"] = "1"
    return c.post("/laporan/identitas/setuju", data=data)


def consent_request(scene: Scene, who: str = "ver") -> str:
    req = scene.step(who, escalation.request_identity, scene.case_id, REASON, "consent", "")
    return str(req.id)


def test_consent_skips_the_approval_but_not_the_custodians(scene: Scene) -> None:
    c = reporter(scene)
    html = c.get("/laporan").get_data(as_text=True)
    assert 'id="consent-give"' in html and 'id="openings-none"' in html
    bad = give_consent(c, confirm=False)  # the box must be ticked: a clear message, nothing kept
    assert bad.status_code == 422 and 'id="consent-give"' in bad.get_data(as_text=True)
    with transaction(scene.f) as db:
        assert db.scalars(select(IdentityConsent)).all() == []
    assert give_consent(c).status_code == 303
    assert 'data-consent="given"' in c.get("/laporan").get_data(as_text=True)

    req = consent_request(scene)
    with transaction(scene.f) as db:
        row = db.get(IdentityRequest, req)
        assert row is not None and row.status == escalation.APPROVED and row.approver_id is None
        assert db.scalars(select(IdentityRequest).where(
            IdentityRequest.status == escalation.PENDING)).all() == []  # nothing for the PYB
    # Still two custodians: one share opens nothing, for the requester or anybody.
    assert scene.step("uki", releases.release_share, req) == 1
    with pytest.raises(escalation.EscalationError):
        scene.open("ver", req)
    assert attack(scene.engine, passphrases=scene.creds("ver")).identities == {}
    assert scene.step("pyb", releases.release_share, req) == 2
    assert scene.open("ver", req).identity["name"] == "Rahmat Hidayat"
    with transaction(scene.f) as db:
        used = db.scalars(select(IdentityConsent)).one()
        assert used.used_at is not None
        actions = list(db.scalars(select(AuditEntry.action)))
    assert "identity.consent" in actions and "identity.open" in actions
    # One consent, one opening: a second consent request is refused until consent is given again.
    with pytest.raises(escalation.EscalationError):
        consent_request(scene)
    # The reporter's page lists the opening: date, role, with consent; never a name.
    page = c.get("/laporan").get_data(as_text=True)
    openings = re.search(r'<ul id="openings">(.*?)</ul>', page, re.S)
    assert openings is not None
    assert 'data-consent="1"' in openings.group(1) and "Verifikator" in openings.group(1)
    assert "Sutrisno" not in page and "dengan persetujuan Anda" in openings.group(1)
    # Used: there is nothing to withdraw any more.
    html = c.get("/laporan").get_data(as_text=True)
    assert 'id="consent-withdraw"' not in html


def test_withdrawal_ends_requests_that_relied_on_it(scene: Scene) -> None:
    c = reporter(scene)
    assert give_consent(c).status_code == 303
    req = consent_request(scene)
    scene.step("uki", releases.release_share, req)
    html = c.get("/laporan").get_data(as_text=True)
    assert 'id="consent-withdraw"' in html
    resp = c.post("/laporan/identitas/tarik", data={"csrf_token": page_csrf(html)})
    assert resp.status_code == 303
    with transaction(scene.f) as db:
        row = db.get(IdentityRequest, req)
        assert row is not None and row.status == escalation.WITHDRAWN
        assert row.ephemeral_sealed is None and scene.releases(req) == []
        assert db.scalars(select(IdentityConsent)).one().withdrawn_at is not None
    with pytest.raises(escalation.EscalationError):
        scene.step("pyb", releases.release_share, req)
    with pytest.raises(escalation.EscalationError):
        scene.open("ver", req)
    assert attack(scene.engine, passphrases=scene.creds("ver")).identities == {}
    # A second withdrawal: a clear message, not an error page.
    html = c.get("/laporan").get_data(as_text=True)
    again = c.post("/laporan/identitas/tarik", data={"csrf_token": page_csrf(html)},
                   follow_redirects=True)
    assert again.status_code == 200 and "Tidak ada persetujuan" in again.get_data(as_text=True)
    # With consent withdrawn, the basis "consent" is refused; the approval path stays open.
    with pytest.raises(escalation.EscalationError):
        consent_request(scene)


def test_a_consent_row_the_reporter_did_not_seal_is_refused(scene: Scene) -> None:
    with transaction(scene.f) as db:  # an insider inserts "consent" into the database
        db.add(IdentityConsent(id=new_id(), case_id=scene.case_id, blob=b"\x01\x10forged",
                               given_at=utcnow()))
    with pytest.raises(escalation.TamperedRequest):
        consent_request(scene)
    with transaction(scene.f) as db:
        assert db.scalars(select(IdentityRequest)).all() == []


def test_approval_openings_are_listed_and_the_reporter_is_told(scene: Scene) -> None:
    req = scene.step("ver", escalation.request_identity, scene.case_id, REASON,
                     "witness", "Pasal 12 Peraturan Menteri PANRB 2019")
    scene.step("pyb", escalation.decide, req.id, True, True, DECISION)
    scene.release_both(req.id)
    scene.open("ver", req.id)
    c = reporter(scene)
    page = c.get("/laporan").get_data(as_text=True)
    openings = re.search(r'<ul id="openings">(.*?)</ul>', page, re.S)
    assert openings is not None and 'data-consent="0"' in openings.group(1)
    assert "disetujui pejabat yang berwenang" in openings.group(1)
    assert "Pejabat yang berwenang telah menyetujui" in page  # told in the thread
    assert "Sutrisno" not in page and "Rahmat" not in page


def test_no_identity_no_consent_form(app: Flask, scene: Scene) -> None:
    _, ticket = scene.world.file()  # anonymous: nothing to consent for
    c = app.test_client()
    assert reporter_login(c, ticket).status_code == 303
    html = c.get("/laporan").get_data(as_text=True)
    assert 'id="identity-side"' not in html
    resp = c.post("/laporan/identitas/setuju", data={"csrf_token": page_csrf(html), "confirm": "1"},
                  follow_redirects=True)
    assert resp.status_code == 200
    assert 'id="consent-refused"' in resp.get_data(as_text=True)  # told, not an error page
    with transaction(scene.f) as db:
        assert db.scalars(select(IdentityConsent)).all() == []
