"""The admin's set-up checklist follows the filing rules, step by step."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask

from tests.factories import make_officer, make_team, make_unit
from tests.web.officer_login import Clock, Enrolled, clock, login_as, make_login_ready  # noqa: F401
from whistle.db import transaction
from whistle.models import Officer
from whistle.services.people import setup
from whistle.web.state import state


def _admin(app: Flask, clock: Clock) -> object:
    with transaction(state(app).db) as db:
        admin = make_officer(db, None, "admin", "root")
        secret = make_login_ready(db, db.get(Officer, admin.officer.id), app)
    c = app.test_client()
    login_as(c, Enrolled(admin.officer.id, "root", admin.passphrase, secret), clock)
    return c


def test_checklist_updates_as_steps_are_done(app: Flask, clock: Clock) -> None:
    c = _admin(app, clock)
    page = c.get("/admin/").get_data(as_text=True)
    assert 'id="setup-not-ready"' in page and 'href="/admin/units"' in page
    with transaction(state(app).db) as db:
        steps = {s.key: s.done for s in setup.checklist(db)}
        assert not steps["unit"] and not steps["verifikator_team"]
        unit = make_unit(db, "PUSAT", "Pusat")
        team = make_team(db, unit, "verifikator")
        ver = make_officer(db, unit, "verifikator", "ver1", teams=(team,))  # its first member
        ver.officer.enrolled_at = datetime(2026, 1, 1, tzinfo=UTC)
    page = c.get("/admin/").get_data(as_text=True)
    assert 'id="setup-web-only"' in page
    assert 'id="step-uki_team" class="todo"' in page
    with transaction(state(app).db) as db:
        unit = db.get(type(unit), unit.id)
        uki = make_officer(db, unit, "uki", "uki1")
        pyb = make_officer(db, unit, "pyb", "pyb1")
        uki.officer.enrolled_at = pyb.officer.enrolled_at = datetime(2026, 1, 1, tzinfo=UTC)
        from whistle.services.custody import teams

        teams.create_team(db, "test", unit, "uki", db.get(Officer, uki.officer.id))
        teams.create_team(db, "test", unit, "pyb", db.get(Officer, pyb.officer.id))
    page = c.get("/admin/").get_data(as_text=True)
    assert 'id="setup-ready"' in page and 'id="step-two_holders" class="todo"' in page


def test_add_member_offers_only_officers_of_the_team_role_and_unit(app: Flask, clock: Clock) -> None:
    import re

    c = _admin(app, clock)
    with transaction(state(app).db) as db:
        unit = make_unit(db, "PUSAT", "Pusat")
        other = make_unit(db, "KANWIL", "Kanwil")
        team = make_team(db, unit, "verifikator")
        make_officer(db, unit, "verifikator", "ver-member", teams=(team,))
        make_officer(db, unit, "verifikator", "ver-new")
        make_officer(db, other, "verifikator", "ver-elsewhere")
        make_officer(db, unit, "pyb", "pyb-here")
        team_id = team.team.id
    page = c.get("/admin/teams").get_data(as_text=True)
    select = re.search(rf'<select id="add-{team_id}"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert "ver-new" in select
    for absent in ("ver-member", "ver-elsewhere", "pyb-here"):
        assert absent not in select
