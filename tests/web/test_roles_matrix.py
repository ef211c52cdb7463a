"""Every URL under /officer and /admin, tried anonymously and as each role.

* anonymous: never a 200 on a protected page (a redirect to the log-in page);
* a role not allowed: 403;
* an allowed role: anything but 401/403/500 (404 for the dummy ids is fine);
* never a 500, for anybody.

The table ALLOWED says who may use each endpoint. Add your endpoints here when you add routes
(cases engineer: extend freely). An endpoint missing from the table falls back to the roles
declared on its ``@officer_required`` decorator; an endpoint with neither is reported as
unprotected, so a route cannot slip in without a role check.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Final

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from whistle.db import transaction
from whistle.domain.constants import Role
from whistle.web.state import state
from tests.factories import make_unit
from tests.web.officer_login import Clock, Enrolled, clock, enrol, login_as  # noqa: F401

PUBLIC: Final = "public"
ANY_OFFICER: Final = frozenset(r.value for r in Role)
ROLES: Final = tuple(r.value for r in Role)
CASE_ROLES: Final = frozenset({"penerima", "verifikator", "pyb", "pengkaji", "uki"})

# endpoint -> PUBLIC or the set of roles allowed.
ALLOWED: dict[str, str | frozenset[str]] = {
    # accounts (officer/auth.py)
    "officer.login": PUBLIC,
    "officer.logout": PUBLIC,
    "officer.enrol": PUBLIC,
    "officer.enrol_setup": PUBLIC,
    "officer.enrol_qr": PUBLIC,
    "officer.account": ANY_OFFICER,
    "officer.approve_pending": ANY_OFFICER,
    # admin area
    "admin.index": frozenset({"admin"}),
    "admin.units": frozenset({"admin"}),
    "admin.officers": frozenset({"admin"}),
    "admin.officer": frozenset({"admin"}),
    "admin.reset": frozenset({"admin"}),
    "admin.set_active": frozenset({"admin"}),
    "admin.teams_page": frozenset({"admin"}),
    "admin.create_team": frozenset({"admin"}),
    "admin.add_member": frozenset({"admin"}),
    "admin.remove_member": frozenset({"admin"}),
    "admin.calendar": frozenset({"admin"}),
    "admin.calendar_delete": frozenset({"admin"}),
    "admin.audit": frozenset({"auditor"}),
    "admin.stats": frozenset({"auditor", "admin", "pyb", "uki"}),  # the dashboard (issue 11)
    "admin.stats_export": frozenset({"auditor", "admin", "pyb", "uki"}),
    "admin.stats_metadata": frozenset({"auditor", "admin"}),
    "admin.agency_keys": frozenset({"admin"}),
    "admin.agency_key_remove": frozenset({"admin"}),
    "admin.first_unit": frozenset({"admin"}),
    # referral packages and the SP4N-LAPOR! record (officer/referral.py)
    "officer.referral_form": frozenset({"verifikator", "pyb"}),
    "officer.referral_build": frozenset({"verifikator", "pyb"}),
    "officer.lapor_export": frozenset({"verifikator", "pyb"}),
    # case work (officer/cases.py, officer/intake.py)
    "officer.cases": frozenset({"verifikator", "pyb", "pengkaji", "uki"}),
    "officer.case": frozenset({"verifikator", "pyb", "pengkaji", "uki"}),
    "officer.case_action": frozenset({"verifikator", "pyb", "pengkaji", "uki"}),
    "officer.case_message": frozenset({"verifikator", "pyb", "pengkaji", "uki"}),
    "officer.case_checklist": frozenset({"verifikator", "pyb", "pengkaji", "uki"}),
    "officer.case_file": frozenset({"verifikator", "pyb", "pengkaji", "uki"}),
    "officer.intake": frozenset({"penerima"}),
    "officer.intake_record": frozenset({"penerima"}),
    "officer.intake_done": frozenset({"penerima"}),
    "officer.intake_status": frozenset({"penerima"}),  # the desk's register-number status
    "officer.intake_status_lookup": frozenset({"penerima"}),
}

# Endpoints whose side effects would end the test's own sessions.
SKIP_LOGGED_IN: Final = {"officer.logout", "officer.enrol"}

DUMMY_ARGS: dict[str, object] = {"int": 999_999, "default": "0" * 32, "path": "x",
                                 "string": "0" * 32, "uuid": "00000000-0000-0000-0000-000000000000"}


def _url(app: Flask, rule: Rule) -> str:
    values = {}
    for name in rule.arguments:
        conv = type(rule._converters[name]).__name__.lower().replace("converter", "")  # type: ignore[attr-defined]
        values[name] = DUMMY_ARGS.get(conv, DUMMY_ARGS["default"])
        if name == "day":
            values[name] = "2026-01-01"
    with app.test_request_context():
        from flask import url_for
        return url_for(rule.endpoint, **values)


def _allowed(app: Flask, endpoint: str) -> str | frozenset[str] | None:
    if endpoint in ALLOWED:
        return ALLOWED[endpoint]
    roles = getattr(app.view_functions[endpoint], "whistle_roles", None)
    if roles is None:
        return None
    return frozenset(roles) or ANY_OFFICER


def _rules(app: Flask) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules()
                   if r.rule.startswith("/officer") or r.rule.startswith("/admin")),
                  key=lambda r: r.rule)


@pytest.fixture
def role_clients(app: Flask, clock: Clock) -> dict[str, FlaskClient]:
    with transaction(state(app).db) as db:
        unit_id = make_unit(db).id
    clients = {}
    for role in ROLES:
        who: Enrolled = enrol(app, f"user-{role}", role,
                              None if role in ("admin", "auditor") else unit_id)
        client = app.test_client()
        login_as(client, who, clock)
        clients[role] = client
    return clients


def _call(client: FlaskClient, method: str, url: str) -> int:
    return client.open(url, method=method, data={}).status_code


def test_every_officer_and_admin_url_is_role_checked(app: Flask,
                                                     role_clients: dict[str, FlaskClient]) -> None:
    app.config["WTF_CSRF_ENABLED"] = False  # let POSTs reach the role check itself
    problems: list[str] = []
    anon = app.test_client()
    rules = _rules(app)
    assert any(r.endpoint == "officer.login" for r in rules)
    for rule in rules:
        allowed = _allowed(app, rule.endpoint)
        if allowed is None:
            problems.append(f"{rule.endpoint} {rule.rule}: no @officer_required and not in ALLOWED")
            continue
        url = _url(app, rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            status = _call(anon, method, url)
            if status >= 500:
                problems.append(f"anonymous {method} {url}: {status}")
            if allowed != PUBLIC:
                if status == 200 or not (status == 302 and "/officer/login" in
                                         anon.open(url, method=method).headers.get("Location", "")):
                    problems.append(f"anonymous {method} {url}: {status}, expected redirect to log-in")
                    continue
            if allowed == PUBLIC or rule.endpoint in SKIP_LOGGED_IN:
                continue
            for role, client in role_clients.items():
                status = _call(client, method, url)
                if status >= 500:
                    problems.append(f"{role} {method} {url}: {status}")
                elif role in allowed and status in (401, 403):
                    problems.append(f"{role} {method} {url}: {status} but the role is allowed")
                elif role not in allowed and status != 403:
                    problems.append(f"{role} {method} {url}: {status}, expected 403")
    # Every session survived the sweep (no route logged anybody out by accident).
    for role, client in role_clients.items():
        if client.get("/officer/account").status_code != 200:
            problems.append(f"{role}: session lost during the sweep")
    assert not problems, "\n".join(problems)


def test_admin_and_auditor_get_403_on_case_routes(app: Flask,
                                                  role_clients: dict[str, FlaskClient]) -> None:
    """The admin manages accounts and keys but never reaches a case page."""
    case_rules = [r for r in _rules(app) if r.rule.startswith("/officer")
                  and isinstance(_allowed(app, r.endpoint), frozenset)
                  and _allowed(app, r.endpoint) != ANY_OFFICER]
    for rule in case_rules:
        assert "admin" not in _allowed(app, rule.endpoint)  # type: ignore[operator]
        url = _url(app, rule)
        if "GET" in (rule.methods or ()):
            assert role_clients["admin"].get(url).status_code == 403, url
            assert role_clients["auditor"].get(url).status_code == 403, url


def test_table_matches_decorators(app: Flask) -> None:
    """Where both exist, the table and the decorator agree (a drifted table hides bugs)."""
    mismatched = []
    for endpoint, roles in ALLOWED.items():
        view: Callable[..., object] | None = app.view_functions.get(endpoint)
        declared = getattr(view, "whistle_roles", None)
        if view is None or declared is None or roles == PUBLIC:
            continue
        if (frozenset(declared) or ANY_OFFICER) != roles:
            mismatched.append(endpoint)
    assert not mismatched
