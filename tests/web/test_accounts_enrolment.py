"""Enrolment end to end through the pages: secret, passphrase rules, QR PNG, TOTP confirmation."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from whistle.db import transaction
from whistle.domain.constants import Role
from whistle.models import Officer
from whistle.services.people import accounts
from whistle.services.people import passphrases
from whistle.services.people import totp
from whistle.web.state import state
from tests.factories import make_unit
from tests.web.officer_login import Clock, clock, code_for, csrf, login  # noqa: F401

PASS = "lima kucing tidur siang"


@pytest.fixture
def new_officer(app: Flask, clock: Clock) -> tuple[int, str]:
    with transaction(state(app).db) as db:
        unit = make_unit(db)
        officer, secret = accounts.create_officer(db, "test", "dewi", "Dewi", Role.PENGKAJI,
                                                  unit.id, "dewi@example.go.id")
        return officer.id, secret


def _start(client: FlaskClient, username: str, secret: str) -> object:
    return client.post("/officer/enrol", data={"csrf_token": csrf(client, "/officer/enrol"),
                                               "username": username, "secret": secret})


def _totp_secret(html: str) -> str:
    m = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html)
    assert m, "base32 secret shown as text"
    return m.group(1).replace(" ", "")


def test_enrolment_end_to_end(client: FlaskClient, app: Flask, new_officer: tuple[int, str],
                              clock: Clock) -> None:
    officer_id, secret = new_officer
    assert client.get("/officer/enrol/qr.png").status_code == 404  # nothing before step 1
    resp = _start(client, "Dewi ", secret.lower().replace("-", " "))  # forgiving typing
    assert resp.status_code == 303
    page = client.get("/officer/enrol/setup")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<script" not in html and "<svg" not in html
    assert 'src="/officer/enrol/qr.png"' in html
    secret_b32 = _totp_secret(html)
    qr = client.get("/officer/enrol/qr.png")
    assert qr.status_code == 200
    assert qr.mimetype == "image/png"
    assert qr.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert "no-store" in qr.headers["Cache-Control"]
    assert "img-src 'self'" in qr.headers["Content-Security-Policy"]
    # The QR encodes the same secret (decode with the segno matrix is overkill: check the URI).
    assert secret_b32 in totp.provisioning_uri(secret_b32, "dewi")

    token = csrf(client, "/officer/enrol/setup")
    bad = client.post("/officer/enrol/setup", data={
        "csrf_token": token, "passphrase": "short", "confirm": "short",
        "code": code_for(secret_b32, clock())})
    assert bad.status_code == 422 and "paling sedikit 12 karakter" in bad.get_data(as_text=True)
    common = client.post("/officer/enrol/setup", data={
        "csrf_token": token, "passphrase": "password1234", "confirm": "password1234",
        "code": code_for(secret_b32, clock())})
    assert common.status_code == 422 and "paling umum" in common.get_data(as_text=True)
    wrong_code = client.post("/officer/enrol/setup", data={
        "csrf_token": token, "passphrase": PASS, "confirm": PASS,
        "code": code_for(secret_b32, clock() + timedelta(minutes=10))})
    assert wrong_code.status_code == 422
    ok = client.post("/officer/enrol/setup", data={
        "csrf_token": token, "passphrase": PASS, "confirm": PASS,
        "code": code_for(secret_b32, clock())})
    assert ok.status_code == 303 and ok.headers["Location"].endswith("/officer/login")

    with transaction(state(app).db) as db:
        o = db.get(Officer, officer_id)
        assert o is not None
        assert o.enrolled_at is not None and o.enrolment_hash is None
        assert o.public_key and o.sealed_private_key and o.totp_secret_enc
        assert secret_b32.encode() not in o.totp_secret_enc
    # The secret is single-use, and the QR is gone with the enrolment state.
    assert client.get("/officer/enrol/qr.png").status_code == 404
    assert _start(app.test_client(), "dewi", secret).status_code == 401
    # And the officer can now log in.
    assert login(client, "dewi", PASS, secret_b32, clock).status_code == 303


def test_enrolment_secret_expires(client: FlaskClient, new_officer: tuple[int, str],
                                  clock: Clock) -> None:
    _, secret = new_officer
    clock.advance(hours=72, seconds=1)
    assert _start(client, "dewi", secret).status_code == 401


def test_enrolment_wrong_secret_or_user(client: FlaskClient, new_officer: tuple[int, str]) -> None:
    _, secret = new_officer
    assert _start(client, "dewi", "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF").status_code == 401
    assert _start(client, "nobody", secret).status_code == 401


def test_enrolment_secret_is_stored_hashed(app: Flask, new_officer: tuple[int, str]) -> None:
    officer_id, secret = new_officer
    with transaction(state(app).db) as db:
        o = db.get(Officer, officer_id)
        assert o is not None and o.enrolment_hash is not None
        assert secret.encode() not in o.enrolment_hash and len(o.enrolment_hash) == 32


def test_reset_during_enrolment_invalidates_started_enrolment(
        client: FlaskClient, app: Flask, new_officer: tuple[int, str], clock: Clock) -> None:
    officer_id, secret = new_officer
    _start(client, "dewi", secret)
    secret_b32 = _totp_secret(client.get("/officer/enrol/setup").get_data(as_text=True))
    with transaction(state(app).db) as db:
        o = db.get(Officer, officer_id)
        assert o is not None
        accounts.reset_enrolment(db, "test", o)
    resp = client.post("/officer/enrol/setup", data={
        "csrf_token": csrf(client, "/officer/enrol/setup"), "passphrase": PASS, "confirm": PASS,
        "code": code_for(secret_b32, clock())})
    assert resp.status_code == 422 and "sudah tidak berlaku" in resp.get_data(as_text=True)


@pytest.mark.parametrize("phrase,ok", [
    ("abc", False), ("password1234", False), ("Password 1234", False),
    ("aaaaaaaaaaaaaaaa", False), ("ababababababab", False), ("my name is dewi ok", False),
    ("lima kucing tidur siang", True), ("Correct Horse Battery Staple", False),
])
def test_passphrase_rules(phrase: str, ok: bool) -> None:
    assert (passphrases.passphrase_problems(phrase, "dewi") == []) is ok
