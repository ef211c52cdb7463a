"""Admin area: units, officers, teams and their keys, resets, calendar, audit trail."""
from __future__ import annotations

import pathlib
import re
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import crypto
from crypto import PrivateKey
from whistle.db import transaction
from whistle.domain.constants import Role
from whistle.models import AuditEntry, CalendarOverride, Officer, Team, TeamMember, Unit
from whistle.services.people import accounts
from whistle.services.custody import teams
from whistle.services.custody.casekeys import team_key_context
from whistle.web.state import state
from tests.web.officer_login import (  # noqa: F401
    Clock, Enrolled, clock, csrf, finish_enrolment, login_as)


@dataclass
class Admin:
    who: Enrolled
    client: FlaskClient


@pytest.fixture
def admin(app: Flask, clock: Clock) -> Admin:
    with transaction(state(app).db) as db:
        officer, secret = accounts.create_first_admin(db, "root")
        who = finish_enrolment(app, db, officer.id, secret)
    client = app.test_client()
    login_as(client, who, clock)
    return Admin(who, client)


def _post(client: FlaskClient, form_page: str, action: str, **data: object) -> object:
    data["csrf_token"] = csrf(client, form_page)
    return client.post(action, data=data)


def _create_unit(a: Admin, code: str = "ITJEN") -> int:
    resp = _post(a.client, "/admin/units", "/admin/units", code=code, name="Inspektorat Jenderal")
    assert resp.status_code == 303  # type: ignore[attr-defined]
    with transaction(state(a.client.application).db) as db:
        return db.scalar(select(Unit.id).where(Unit.code == code))  # type: ignore[return-value]


def _create_officer(a: Admin, username: str, role: str, unit_id: int | None) -> tuple[int, str]:
    resp = _post(a.client, "/admin/officers", "/admin/officers", username=username,
                 display_name=username.title(), role=role, unit_id=unit_id or "",
                 email=f"{username}@example.go.id")
    html = resp.get_data(as_text=True)  # type: ignore[attr-defined]
    assert resp.status_code == 200, html  # type: ignore[attr-defined]
    secret = re.search(r'id="enrolment-secret">([^<]+)<', html).group(1)  # type: ignore[union-attr]
    with transaction(state(a.client.application).db) as db:
        return db.scalar(select(Officer.id).where(Officer.username == username)), secret  # type: ignore[return-value]


def _enrolled(a: Admin, username: str, role: str, unit_id: int) -> Enrolled:
    officer_id, secret = _create_officer(a, username, role, unit_id)
    app = a.client.application
    with transaction(state(app).db) as db:
        return finish_enrolment(app, db, officer_id, secret)


def _team_key_of(app: Flask, who: Enrolled, team_id: int) -> PrivateKey | None:
    with transaction(state(app).db) as db:
        o = db.get(Officer, who.id)
        m = db.get(TeamMember, (team_id, who.id))
        assert o is not None and o.sealed_private_key is not None
        if m is None or m.wrapped_key is None:
            return None
        key = crypto.open_sealed_key(o.sealed_private_key, who.passphrase)
        return PrivateKey.from_bytes(key.unwrap(m.wrapped_key, context=team_key_context(team_id)))


def _team_id(app: Flask, unit_id: int, role: str) -> int:
    with transaction(state(app).db) as db:
        return db.scalar(select(Team.id).where(Team.unit_id == unit_id, Team.role == role))  # type: ignore[return-value]


def _session_team_ids(app: Flask, client: FlaskClient) -> set[int]:
    """Ask the app which team keys this client's session holds (through the real helper)."""
    from whistle.web import officer_auth
    cookie = client.get_cookie("whistle")
    assert cookie is not None
    with app.test_request_context("/officer/account", headers={"Cookie": f"whistle={cookie.value}"}):
        app.preprocess_request()
        from flask import session
        app.session_interface.save_session(app, session, app.response_class())  # type: ignore[arg-type]
        return set(officer_auth.team_keys())


def test_admin_pages_render(admin: Admin) -> None:
    for path in ("/admin/", "/admin/units", "/admin/officers", "/admin/teams", "/admin/calendar"):
        resp = admin.client.get(path)
        assert resp.status_code == 200, path
        assert "<script" not in resp.get_data(as_text=True)


def test_create_officer_bad_input_422(admin: Admin) -> None:
    resp = _post(admin.client, "/admin/officers", "/admin/officers", username="X",
                 display_name="", role="nope", unit_id="")
    assert resp.status_code == 422  # type: ignore[attr-defined]


def _approve(app: Flask, client: FlaskClient, team_id: int, officer_id: int) -> object:
    """A key holder approves through the approval page, with the fingerprint it shows."""
    page = f"/officer/team/{team_id}/members/{officer_id}"
    html = client.get(page).get_data(as_text=True)
    fp = re.search(r'id="fingerprint">([0-9A-F ]+)<', html).group(1)  # type: ignore[union-attr]
    return _post(client, page, page + "/approve", fingerprint=fp, compared="1")


def test_team_key_to_first_member_only_and_a_holder_log_in_hands_nothing_on(
        admin: Admin, app: Flask, clock: Clock) -> None:
    unit_id = _create_unit(admin)
    ani = _enrolled(admin, "ani", Role.VERIFIKATOR, unit_id)
    budi = _enrolled(admin, "budi", Role.VERIFIKATOR, unit_id)
    resp = _post(admin.client, "/admin/teams", "/admin/teams", unit_id=unit_id,
                 role=Role.VERIFIKATOR.value, officer_id=ani.id)
    assert resp.status_code == 303  # type: ignore[attr-defined]
    team_id = _team_id(app, unit_id, Role.VERIFIKATOR)
    with transaction(state(app).db) as db:
        team_pub = db.get(Team, team_id).public_key  # type: ignore[union-attr]
    key = _team_key_of(app, ani, team_id)
    assert key is not None and key.public_key().to_bytes() == team_pub
    # The team private key is nowhere in the database unwrapped.
    url = state(app).config.db_url
    if url.startswith("sqlite:///"):
        path = pathlib.Path(url[len("sqlite:///"):])
        blob = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert key.to_bytes() not in blob and key.to_bytes()[3:35] not in blob

    assert _post(admin.client, "/admin/teams", f"/admin/teams/{team_id}/members",
                 officer_id=budi.id).status_code == 303  # type: ignore[attr-defined]
    assert _team_key_of(app, budi, team_id) is None  # pending
    budi_client = app.test_client()
    login_as(budi_client, budi, clock)
    assert _session_team_ids(app, budi_client) == set()
    page = budi_client.get("/officer/account").get_data(as_text=True)
    assert "menunggu: anggota lain harus menyetujui Anda" in page  # pending

    ani_client = app.test_client()
    login_as(ani_client, ani, clock)  # the holder's log-in hands nothing on
    assert _team_key_of(app, budi, team_id) is None
    assert _approve(app, ani_client, team_id, budi.id).status_code == 303  # type: ignore[attr-defined]
    budi_key = _team_key_of(app, budi, team_id)
    assert budi_key is not None and budi_key.public_key().to_bytes() == team_pub
    # Budi's running session picks the key up at its next request, without logging in again.
    assert _session_team_ids(app, budi_client) == {team_id}
    with transaction(state(app).db) as db:
        actions = [(e.actor, e.action, e.object) for e in db.scalars(select(AuditEntry))]
    assert (f"officer:{ani.id}", "team.member_wrap", f"team:{team_id}") in actions
    assert (f"officer:{admin.who.id}", "team.create", f"team:{team_id}") in actions


def test_team_rules(admin: Admin, app: Flask) -> None:
    unit_id = _create_unit(admin)
    not_enrolled, _ = _create_officer(admin, "dodi", Role.PENGKAJI, unit_id)
    resp = _post(admin.client, "/admin/teams", "/admin/teams", unit_id=unit_id,
                 role="pengkaji", officer_id=not_enrolled)
    assert resp.status_code == 422  # type: ignore[attr-defined]
    assert "Anggota pertama harus sudah menyelesaikan pendaftaran." in resp.get_data(  # type: ignore[attr-defined]
        as_text=True)  # "The first member must have completed enrolment."
    wrong_role = _enrolled(admin, "eka", Role.UKI, unit_id)
    resp = _post(admin.client, "/admin/teams", "/admin/teams", unit_id=unit_id,
                 role="pengkaji", officer_id=wrong_role.id)
    assert resp.status_code == 422  # type: ignore[attr-defined]
    resp = _post(admin.client, "/admin/teams", "/admin/teams", unit_id=unit_id,
                 role="admin", officer_id=admin.who.id)
    assert resp.status_code == 422  # type: ignore[attr-defined]
    with transaction(state(app).db) as db:
        assert db.scalar(select(Team.id)) is None


def test_reset_keeps_team_access_through_other_member(admin: Admin, app: Flask,
                                                      clock: Clock) -> None:
    unit_id = _create_unit(admin)
    ani = _enrolled(admin, "ani", Role.PENGKAJI, unit_id)
    budi = _enrolled(admin, "budi", Role.PENGKAJI, unit_id)
    _post(admin.client, "/admin/teams", "/admin/teams", unit_id=unit_id, role="pengkaji",
          officer_id=ani.id)
    team_id = _team_id(app, unit_id, Role.PENGKAJI)
    _post(admin.client, "/admin/teams", f"/admin/teams/{team_id}/members", officer_id=budi.id)
    ani_client = app.test_client()
    login_as(ani_client, ani, clock)
    assert _approve(app, ani_client, team_id, budi.id).status_code == 303  # type: ignore[attr-defined]
    assert _team_key_of(app, budi, team_id) is not None

    # The officer detail page warns only when a reset would lose a team key.
    page = admin.client.get(f"/admin/officers/{ani.id}").get_data(as_text=True)
    assert 'id="sole-holder"' not in page
    resp = _post(admin.client, f"/admin/officers/{ani.id}", f"/admin/officers/{ani.id}/reset")
    html = resp.get_data(as_text=True)  # type: ignore[attr-defined]
    new_secret = re.search(r'id="enrolment-secret">([^<]+)<', html).group(1)  # type: ignore[union-attr]
    with transaction(state(app).db) as db:
        o = db.get(Officer, ani.id)
        assert o is not None and o.sealed_private_key is None and o.totp_secret_enc is None
        assert db.get(TeamMember, (team_id, ani.id)).wrapped_key is None  # type: ignore[union-attr]
    # Ani's open session ends at once.
    assert ani_client.get("/officer/account").status_code == 302
    with transaction(state(app).db) as db:
        old_pub = db.get(Officer, budi.id).public_key  # type: ignore[union-attr]
        ani2 = finish_enrolment(app, db, ani.id, new_secret, "sebuah frasa sandi baru")
        new_pub = db.get(Officer, ani.id).public_key  # type: ignore[union-attr]
    assert new_pub != old_pub
    login_as(app.test_client(), ani2, clock)
    assert _team_key_of(app, ani2, team_id) is None  # still pending: ani holds no key herself
    budi_client = app.test_client()
    login_as(budi_client, budi, clock)
    assert _team_key_of(app, ani2, team_id) is None  # budi's log-in hands nothing on either
    assert _approve(app, budi_client, team_id, ani.id).status_code == 303  # type: ignore[attr-defined]
    key = _team_key_of(app, ani2, team_id)
    with transaction(state(app).db) as db:
        assert key is not None and key.public_key().to_bytes() == db.get(Team, team_id).public_key  # type: ignore[union-attr]


def test_sole_holder_warning_and_remove_refused(admin: Admin, app: Flask) -> None:
    unit_id = _create_unit(admin)
    ani = _enrolled(admin, "ani", Role.UKI, unit_id)
    _post(admin.client, "/admin/teams", "/admin/teams", unit_id=unit_id, role="uki",
          officer_id=ani.id)
    team_id = _team_id(app, unit_id, Role.UKI)
    assert "satu-satunya pemegang kunci" in admin.client.get(f"/admin/officers/{ani.id}").get_data(as_text=True)
    resp = _post(admin.client, "/admin/teams", f"/admin/teams/{team_id}/members/{ani.id}/remove")
    assert resp.status_code == 422  # type: ignore[attr-defined]


def test_deactivate_and_audit_trail(admin: Admin, app: Flask, clock: Clock) -> None:
    unit_id = _create_unit(admin)
    ani = _enrolled(admin, "ani", Role.PENERIMA, unit_id)
    resp = _post(admin.client, f"/admin/officers/{ani.id}", f"/admin/officers/{ani.id}/active",
                 active="0")
    assert resp.status_code == 303  # type: ignore[attr-defined]
    with transaction(state(app).db) as db:
        assert db.get(Officer, ani.id).active is False  # type: ignore[union-attr]
    _post(admin.client, "/admin/calendar", "/admin/calendar", day="2026-04-03", kind="holiday",
          note="Libur tambahan")
    with transaction(state(app).db) as db:
        row = db.get(CalendarOverride, __import__("datetime").date(2026, 4, 3))
        assert row is not None and row.is_holiday
        entries = db.scalars(select(AuditEntry).where(
            AuditEntry.actor == f"officer:{admin.who.id}")).all()
    actions = {e.action for e in entries}
    assert {"unit.create", "officer.create", "officer.deactivate", "calendar.set"} <= actions
    # No secret or passphrase ever lands in the audit trail.
    assert all("secret" not in (e.detail or "").lower() or "wiped" in (e.detail or "")
               for e in entries)
    resp = _post(admin.client, "/admin/calendar", "/admin/calendar/2026-04-03/delete")
    assert resp.status_code == 303  # type: ignore[attr-defined]
    bad = _post(admin.client, "/admin/calendar", "/admin/calendar", day="not-a-day", kind="holiday")
    assert bad.status_code == 422  # type: ignore[attr-defined]


def test_admin_holds_no_team_keys_and_cannot_be_team_member(admin: Admin, app: Flask) -> None:
    assert _session_team_ids(app, admin.client) == set()
    with transaction(state(app).db) as db:
        unit = db.get(Unit, _create_unit(admin))
        o = db.get(Officer, admin.who.id)
        assert unit is not None and o is not None
        with pytest.raises(teams.TeamError):
            teams.create_team(db, "test", unit, Role.ADMIN, o)


def test_auditor_reads_paginated_audit_log(admin: Admin, app: Flask, clock: Clock) -> None:
    officer_id, secret = _create_officer(admin, "audra", Role.AUDITOR, None)
    with transaction(state(app).db) as db:
        audra = finish_enrolment(app, db, officer_id, secret)
        for i in range(60):
            from whistle.services.custody import audit
            audit.append(db, "system", "test.filler", f"n:{i}")
    client = app.test_client()
    resp = login_as(client, audra, clock)
    assert resp.headers["Location"].endswith("/admin/audit")
    page1 = client.get("/admin/audit").get_data(as_text=True)
    assert "test.filler" in page1 and "Halaman 1 dari 2" in page1
    assert client.get("/admin/audit?page=2").status_code == 200
    verified = client.get("/admin/audit?verify=1").get_data(as_text=True)
    assert "Rantai utuh" in verified  # "Chain intact"
    assert admin.client.get("/admin/audit").status_code == 403  # admins do not audit themselves
    assert client.get("/admin/officers").status_code == 403


def test_admin_navigation(admin: Admin) -> None:
    html = admin.client.get("/admin/units").get_data(as_text=True)
    assert html.count('action="/officer/logout"') == 1
    assert 'href="/admin/teams"' in html and 'href="/officer/account"' in html
