"""The guided first unit: one admin form, three enrolment secrets, teams founded as each
officer enrols (a new key for the founder only), and then the service takes reports."""
from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from tests.factories import make_officer
from tests.web.officer_login import Clock, Enrolled, clock, code_for, csrf, login_as, make_login_ready  # noqa: F401
from whistle.db import transaction
from whistle.models import AuditEntry, Officer, Team, TeamMember, TeamPlan
from whistle.services.people import setup
from whistle.web.state import state


def _admin(app: Flask, clock: Clock) -> object:
    with transaction(state(app).db) as db:
        admin = make_officer(db, None, "admin", "root")
        secret = make_login_ready(db, db.get(Officer, admin.officer.id), app)
    c = app.test_client()
    login_as(c, Enrolled(admin.officer.id, "root", admin.passphrase, secret), clock)
    return c


def _enrol(app: Flask, clock: Clock, username: str, secret: str) -> None:
    c = app.test_client()
    c.post("/officer/enrol", data={"csrf_token": csrf(c, "/officer/enrol"), "username": username,
                                   "secret": secret})
    page = c.get("/officer/enrol/setup").get_data(as_text=True)
    totp = re.search(r'id="totp-secret"[^>]*>([^<]+)<', page) or re.search(r"([A-Z2-7]{4}(?: [A-Z2-7]{4}){5,})", page)
    assert totp, page[:1500]
    raw = totp.group(1).replace(" ", "")
    clock.advance(seconds=30)
    resp = c.post("/officer/enrol/setup", data={
        "csrf_token": csrf(c, "/officer/enrol/setup"), "passphrase": "lautan biru di pagi hari",
        "confirm": "lautan biru di pagi hari", "code": code_for(raw, clock())})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:800]


def test_first_unit_from_one_form_to_accepting_reports(app: Flask, clock: Clock) -> None:
    c = _admin(app, clock)
    form = {"csrf_token": csrf(c, "/admin/first-unit"), "code": "PUSAT", "name": "Kantor Pusat"}
    for role in ("verifikator", "uki", "pyb"):
        form |= {f"{role}_username": f"{role}1", f"{role}_name": f"Petugas {role}"}
    bad = c.post("/admin/first-unit", data={**form, "uki_username": "X"})
    assert bad.status_code == 422 and 'id="error"' in bad.get_data(as_text=True)
    with transaction(state(app).db) as db:
        assert db.scalar(select(Officer.id).where(Officer.username == "verifikator1")) is None  # nothing half-made
    done = c.post("/admin/first-unit", data=form)
    assert done.status_code == 200
    html = done.get_data(as_text=True)
    found = re.findall(r'<td>([a-z0-9]+1)</td><td class="ticket" id="secret-[^"]*">([^<]+)</td>', html)
    assert len(found) == 3, html[-1500:]
    with transaction(state(app).db) as db:
        assert len(list(db.scalars(select(TeamPlan)))) == 3 and db.scalar(select(Team.id)) is None
    for username, secret in found:
        _enrol(app, clock, username, secret)
    with transaction(state(app).db) as db:
        teams = list(db.scalars(select(Team)))
        assert sorted(t.role for t in teams) == ["pyb", "uki", "verifikator"]
        for t in teams:  # each key wrapped to its founder and nobody else
            holders = list(db.scalars(select(TeamMember).where(TeamMember.team_id == t.id)))
            assert len(holders) == 1 and holders[0].wrapped_key is not None
            assert db.get(Officer, holders[0].officer_id).role == t.role
        assert not list(db.scalars(select(TeamPlan)))
        steps = setup.checklist(db)
        assert setup.accepts_web_reports(steps) and setup.accepts_identity(steps)
        assert db.scalar(select(AuditEntry).where(AuditEntry.action == "unit.guided_setup"))
    assert 'id="setup-ready"' in c.get("/admin/").get_data(as_text=True)
