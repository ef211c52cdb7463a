"""Helpers to log officers in through the real log-in page (usable by any web test).

    from tests.web.officer_login import Clock, enrol, login, make_login_ready

* ``make_login_ready(db, officer, app)``: give an officer made by tests/factories.py a TOTP
  secret and an enrolment time so it can log in; returns the TOTP secret.
* ``enrol(app, ...)``: create + enrol an officer through the services (returns Enrolled).
* ``login(client, username, passphrase, totp_secret, clock)``: post the log-in form with a
  code for a fresh step (advances ``clock`` by one step so codes are never replays).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from whistle.db import transaction
from whistle.models import Officer
from whistle.services.people import accounts
from whistle.services.people import totp
from whistle.web.state import state

PASSPHRASE = "wortel kapal hujan senja"
_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Clock:
    """A settable clock for ``accounts.now`` (TOTP steps, throttling, enrolment expiry)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.t = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **kw: float) -> datetime:
        self.t += timedelta(**kw)
        return self.t


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(accounts, "now", c)
    return c


def csrf(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    m = _CSRF_RE.search(html)
    assert m, f"no csrf token on {path}"
    return m.group(1)


def code_for(secret: str, at: datetime) -> str:
    return totp.code_at_step(secret, totp.step_of(at))


def make_login_ready(db: Session, officer: Officer, app: Flask) -> str:
    secret = totp.new_secret()
    officer.totp_secret_enc = totp.seal_secret(state(app).secrets.totp_key, officer.id, secret)
    officer.totp_last_step = 0
    officer.enrolled_at = datetime(2026, 1, 1, tzinfo=UTC)
    db.flush()
    return secret


@dataclass
class Enrolled:
    id: int
    username: str
    passphrase: str
    totp_secret: str


def enrol(app: Flask, username: str, role: str, unit_id: int | None,
          passphrase: str = PASSPHRASE) -> Enrolled:
    with transaction(state(app).db) as db:
        officer, secret = accounts.create_officer(db, "test", username, username.title(), role,
                                                  unit_id)
        return finish_enrolment(app, db, officer.id, secret, passphrase)


def finish_enrolment(app: Flask, db: Session, officer_id: int, enrolment_secret: str,
                     passphrase: str = PASSPHRASE) -> Enrolled:
    secret = totp.new_secret()
    result = accounts.complete_enrolment(
        db, officer_id, accounts.enrolment_digest(enrolment_secret), passphrase, secret,
        code_for(secret, accounts.now()), state(app).secrets.totp_key)
    return Enrolled(officer_id, result.officer.username, passphrase, secret)


def login(client: FlaskClient, username: str, passphrase: str, totp_secret: str,
          clock: Clock | None = None, code: str | None = None,
          follow: bool = False) -> TestResponse:
    if clock is not None:
        clock.advance(seconds=totp.STEP_SECONDS)
    at = clock() if clock is not None else accounts.now()
    token = csrf(client, "/officer/login")
    return client.post("/officer/login", data={
        "csrf_token": token, "username": username, "passphrase": passphrase,
        "code": code if code is not None else code_for(totp_secret, at)},
        follow_redirects=follow)


def login_as(client: FlaskClient, who: Enrolled, clock: Clock | None = None) -> TestResponse:
    resp = login(client, who.username, who.passphrase, who.totp_secret, clock)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    return resp
