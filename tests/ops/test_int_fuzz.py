"""Oversized integers in every URL and form: zero 5xx, for every role, on both databases.

Every rule in ``app.url_map`` is called with each of its ``int`` arguments set to values an id
column cannot hold (INTEGER is 32 bits on PostgreSQL, 64 on SQLite), and every form / query field name used by any template (plus the
ones routes read directly) set to such values, by an anonymous visitor, a logged-in reporter
and an officer of every role. Officers are real team members of a unit that holds a real case,
so case routes get past the "not found" stage and parse their forms. Expected: 404 for an
out-of-range id in a path, 4xx for an out-of-range form value; never a 5xx.
"""
from __future__ import annotations

import re
from pathlib import Path

from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import Rule

from tests.web.officer_login import Clock, Enrolled, clock, enrol, login_as  # noqa: F401
from tests.web.reporter_helpers import confirm, file_report
from whistle.db import transaction
from whistle.domain.constants import Role
from whistle.models import Attachment, Case, Officer, Team, Unit
from whistle.services.custody import teams
from whistle.web.ints import MAX_DB_INT
from whistle.web.state import state

ROOT = Path(__file__).resolve().parents[2]
HUGE = [str(MAX_DB_INT + 1), str(2**63), str(2**64), "9" * 40, str(-(2**63) - 1)]
# Names routes read without a template field (query strings, dynamic names).
EXTRA_FIELDS = ("page", "after", "k", "lang", "id", "ok", "verify", "ok_1", "note_1", "year",
                "team_id", "officer_id", "unit_id", "version")
SKIP = {"officer.logout", "reporter.logout", "static"}  # would end the test's own sessions


def _field_names() -> list[str]:
    names: set[str] = set(EXTRA_FIELDS)
    for path in (ROOT / "templates").rglob("*.html"):
        names.update(re.findall(r'name="([a-z_0-9]+)"', path.read_text(encoding="utf-8")))
    names.discard("csrf_token")
    return sorted(names)


def _url(app: Flask, rule: Rule, value: str, ids: dict[str, str]) -> str:
    args: dict[str, object] = {}
    for name in rule.arguments:
        conv = type(rule._converters[name]).__name__  # type: ignore[attr-defined]
        if "Integer" in conv:
            args[name] = 0  # placeholder, replaced textually below (url_for refuses huge ints)
        elif name == "day":
            args[name] = "2026-01-01"
        else:
            args[name] = ids.get(name, value)
    with app.test_request_context():
        url = url_for(rule.endpoint, **args)
    if any("Integer" in type(rule._converters[n]).__name__  # type: ignore[attr-defined]
           for n in rule.arguments):
        # Replace each integer segment the placeholder produced with the huge value.
        url = re.sub(r"(?<=/)0(?=/|$)", value.lstrip("-"), url)
    return url


def _world(app: Flask, clock: Clock) -> tuple[dict[str, FlaskClient], dict[str, str]]:
    with transaction(state(app).db) as db:
        db.add(Unit(code="PUSAT", name="Unit Pusat"))
    with transaction(state(app).db) as db:
        unit_id = db.scalar(select(Unit.id))
    who: dict[str, Enrolled] = {}
    for role in Role:
        who[role.value] = enrol(app, f"u-{role.value}", role.value,
                                None if role.value in ("admin", "auditor") else unit_id)
    with transaction(state(app).db) as db:
        unit = db.get(Unit, unit_id)
        for role in teams.TEAM_ROLES:
            officer = db.get(Officer, who[role].id)
            assert unit is not None and officer is not None
            teams.create_team(db, "test", unit, role, officer)
    reporter = app.test_client()
    ticket, page = file_report(reporter, files=[(b"evidence bytes", "bukti.txt")])
    confirm(reporter, page.get_data(as_text=True), ticket)
    assert reporter.get("/laporan").status_code == 200  # confirming the ticket logs in
    clients = {"anonymous": app.test_client(), "reporter": reporter}
    for role, enrolled in who.items():
        client = app.test_client()
        login_as(client, enrolled, clock)
        clients[role] = client
    with transaction(state(app).db) as db:
        case_id = db.scalar(select(Case.id))
        att_id = db.scalar(select(Attachment.id)) or "0" * 32
    ids = {"case_id": str(case_id), "att_id": str(att_id), "attachment_id": str(att_id)}
    return clients, ids


def test_huge_integers_never_cause_a_5xx(app: Flask, clock: Clock) -> None:
    clients, ids = _world(app, clock)
    app.config["WTF_CSRF_ENABLED"] = False  # reach the parsing, not the CSRF check
    app.config["PROPAGATE_EXCEPTIONS"] = False  # count 500 pages instead of raising
    fields = _field_names()
    assert {"officer_id", "unit_id", "team_id", "version"} <= set(fields)
    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in SKIP]
    assert any(r.endpoint == "admin.officer" for r in rules)
    problems: list[str] = []
    calls = 0
    for rule in sorted(rules, key=lambda r: r.rule):
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        for value in HUGE:
            url = _url(app, rule, value, ids)
            form = {name: value for name in fields}
            query = "?" + "&".join(f"{n}={value}" for n in fields)
            for who, client in clients.items():
                for method in methods:
                    if method == "GET":
                        resp = client.get(url + query)
                    else:
                        resp = client.open(url, method=method, data=form)
                    calls += 1
                    if resp.status_code >= 500:
                        problems.append(f"{who} {method} {url}: {resp.status_code}")
    assert calls > 500  # the sweep really ran over the map
    assert not problems, "\n".join(problems)


def test_huge_path_ids_are_404_for_the_admin(app: Flask, clock: Clock) -> None:
    """The routes the review named: an out-of-range id is 'no such page', not an error."""
    clients, _ids = _world(app, clock)
    admin = clients["admin"]
    app.config["WTF_CSRF_ENABLED"] = False
    for value in HUGE[:4]:
        assert admin.get(f"/admin/officers/{value}").status_code == 404
        assert admin.post(f"/admin/teams/{value}/members",
                          data={"officer_id": "1"}).status_code == 404
        assert admin.post(f"/admin/teams/1/members/{value}/remove").status_code == 404
    # The same id in range but absent is the ordinary 404; an in-range real id still works.
    assert admin.get(f"/admin/officers/{MAX_DB_INT}").status_code == 404
    with transaction(state(app).db) as db:
        real = db.scalar(select(Officer.id).where(Officer.username == "u-verifikator"))
    assert admin.get(f"/admin/officers/{real}").status_code == 200


def test_huge_form_values_are_422_on_admin_forms(app: Flask, clock: Clock) -> None:
    clients, _ids = _world(app, clock)
    admin = clients["admin"]
    app.config["WTF_CSRF_ENABLED"] = False
    with transaction(state(app).db) as db:
        team_id = db.scalar(select(Team.id))
        unit_id = db.scalar(select(Unit.id))
    for value in HUGE:
        resp = admin.post(f"/admin/teams/{team_id}/members", data={"officer_id": value})
        assert resp.status_code == 422, value
        resp = admin.post("/admin/teams", data={"unit_id": value, "officer_id": "1",
                                                "role": "pengkaji"})
        assert resp.status_code == 422, value
        resp = admin.post("/admin/officers", data={"username": "baru", "display_name": "Baru",
                                                   "role": "pengkaji", "unit_id": value})
        assert resp.status_code == 422, value
    with transaction(state(app).db) as db:  # nothing was half-created
        assert db.scalar(select(Officer.id).where(Officer.username == "baru")) is None
    # A well-formed form still works (the check is not a blanket refusal).
    resp = admin.post("/admin/officers", data={"username": "baru", "display_name": "Baru",
                                               "role": "pengkaji", "unit_id": str(unit_id)})
    assert resp.status_code == 200
