"""Officer log-in: success and failure paths, TOTP replay, throttling, equal Argon2 work."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import crypto.kdf
from whistle.db import transaction
from whistle.domain.constants import Role
from whistle.models import AuditEntry, Officer
from whistle.services.people import accounts
from whistle.services.people import totp
from whistle.web.state import state
from tests.factories import make_unit
from tests.web.officer_login import Clock, Enrolled, clock, code_for, enrol, login, login_as  # noqa: F401

FAILED = "Gagal masuk:"  # "Log-in failed:" in the default locale (id)


@pytest.fixture
def unit_id(app: Flask) -> int:
    with transaction(state(app).db) as db:
        return make_unit(db).id


@pytest.fixture
def officer(app: Flask, unit_id: int, clock: Clock) -> Enrolled:
    return enrol(app, "siti", Role.VERIFIKATOR, unit_id)


def _officer(app: Flask, officer_id: int) -> Officer:
    with transaction(state(app).db) as db:
        found = db.get(Officer, officer_id)
        assert found is not None
        return found


def test_login_success_lands_and_rotates_session(client: FlaskClient, officer: Enrolled,
                                                  clock: Clock) -> None:
    client.get("/officer/login")
    before = client.get_cookie("whistle")
    login_as(client, officer, clock)
    after = client.get_cookie("whistle")
    assert after is not None and (before is None or before.value != after.value)
    page = client.get("/officer/account")
    assert page.status_code == 200
    assert "siti" in page.get_data(as_text=True)


@pytest.mark.parametrize("what", ["username", "passphrase", "code", "empty"])
def test_login_failures_same_message(client: FlaskClient, officer: Enrolled, clock: Clock,
                                     what: str) -> None:
    username, passphrase, code = officer.username, officer.passphrase, None
    if what == "username":
        username = "nobody"
    elif what == "passphrase":
        passphrase = "wrong wrong wrong"
    elif what == "code":
        clock.advance(seconds=30)
        code = code_for(officer.totp_secret, clock() + timedelta(minutes=5))
    else:
        username = passphrase = code = ""
    resp = login(client, username, passphrase, officer.totp_secret, clock, code=code)
    assert resp.status_code == 401
    body = resp.get_data(as_text=True)
    assert FAILED in body
    assert client.get("/officer/account").status_code == 302


def test_totp_replay_refused(client: FlaskClient, app: Flask, officer: Enrolled,
                             clock: Clock) -> None:
    clock.advance(seconds=30)
    code = code_for(officer.totp_secret, clock())
    ok = login(client, officer.username, officer.passphrase, officer.totp_secret, code=code)
    assert ok.status_code == 303
    other = app.test_client()
    again = login(other, officer.username, officer.passphrase, officer.totp_secret, code=code)
    assert again.status_code == 401
    # An earlier step (still inside the drift window) is refused too.
    earlier = code_for(officer.totp_secret, clock() - timedelta(seconds=30))
    assert login(other, officer.username, officer.passphrase, officer.totp_secret,
                 code=earlier).status_code == 401
    # The next step is fine (drift of one step ahead allowed).
    later = code_for(officer.totp_secret, clock() + timedelta(seconds=30))
    assert login(other, officer.username, officer.passphrase, officer.totp_secret,
                 code=later).status_code == 303


def test_enrolment_code_cannot_be_replayed_at_login(client: FlaskClient, officer: Enrolled,
                                                    clock: Clock) -> None:
    resp = login(client, officer.username, officer.passphrase, officer.totp_secret)  # same step
    assert resp.status_code == 401


def test_throttle_backs_off_then_expires_and_resets(client: FlaskClient, app: Flask,
                                                    officer: Enrolled, clock: Clock) -> None:
    for _ in range(4):
        assert login(client, officer.username, "bad passphrase!!", officer.totp_secret,
                     clock).status_code == 401
    assert _officer(app, officer.id).throttle_until is None
    assert login(client, officer.username, "bad passphrase!!", officer.totp_secret,
                 clock).status_code == 401  # 5th failure: wait 1 minute
    t = _officer(app, officer.id).throttle_until
    assert t is not None and t == clock() + timedelta(minutes=1)
    # While throttled even the right credentials are refused, and the wait is not extended.
    clock.advance(seconds=0)
    assert login(client, officer.username, officer.passphrase, officer.totp_secret,
                 clock).status_code == 401
    assert _officer(app, officer.id).throttle_until == t
    assert _officer(app, officer.id).failed_logins == 5
    clock.advance(seconds=30)  # login() adds 30 s more: past the 1-minute wait
    assert login(client, officer.username, "bad passphrase!!", officer.totp_secret,
                 clock).status_code == 401  # 6th: 2 minutes
    assert _officer(app, officer.id).throttle_until == clock() + timedelta(minutes=2)
    # The back-off is capped at 15 minutes.
    assert accounts.throttle_delay(9) == timedelta(minutes=15)
    assert accounts.throttle_delay(40) == timedelta(minutes=15)
    clock.advance(minutes=2)
    assert login(client, officer.username, officer.passphrase, officer.totp_secret,
                 clock).status_code == 303
    fresh = _officer(app, officer.id)
    assert fresh.failed_logins == 0 and fresh.throttle_until is None


def test_throttle_is_per_account_not_per_client(app: Flask, officer: Enrolled, unit_id: int,
                                                clock: Clock) -> None:
    other = enrol(app, "budi", Role.VERIFIKATOR, unit_id)
    client = app.test_client()
    for _ in range(6):
        login(client, officer.username, "bad passphrase!!", officer.totp_secret, clock)
    # Same client (same address, same cookie): another account is unaffected.
    assert login(client, other.username, other.passphrase, other.totp_secret,
                 clock).status_code == 303


def test_wrong_username_costs_same_argon2_as_wrong_passphrase(
        client: FlaskClient, officer: Enrolled, clock: Clock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[crypto.kdf.Argon2Params] = []
    real = crypto.kdf.derive_key

    def counting(secret: bytes, salt: bytes, params: crypto.kdf.Argon2Params) -> bytes:
        calls.append(params)
        return real(secret, salt, params)

    monkeypatch.setattr(crypto.kdf, "derive_key", counting)
    login(client, "nobody-here", "whatever passphrase", officer.totp_secret, clock)
    unknown = list(calls)
    calls.clear()
    login(client, officer.username, "whatever passphrase", officer.totp_secret, clock)
    wrong = list(calls)
    calls.clear()
    login(client, officer.username, officer.passphrase, officer.totp_secret, clock)
    right = list(calls)
    assert len(unknown) == len(wrong) == len(right) == 1
    assert unknown == wrong == right


def test_deactivated_officer_cannot_log_in_and_session_ends(client: FlaskClient, app: Flask,
                                                             officer: Enrolled,
                                                             clock: Clock) -> None:
    login_as(client, officer, clock)
    with transaction(state(app).db) as db:
        o = db.get(Officer, officer.id)
        assert o is not None
        accounts.set_active(db, "test", o, False)
    assert client.get("/officer/account").status_code == 302
    assert login(client, officer.username, officer.passphrase, officer.totp_secret,
                 clock).status_code == 401


def test_logout(client: FlaskClient, officer: Enrolled, clock: Clock) -> None:
    login_as(client, officer, clock)
    token = client.get("/officer/account").get_data(as_text=True)
    import re
    m = re.search(r'name="csrf_token" value="([^"]+)"', token)
    assert m
    resp = client.post("/officer/logout", data={"csrf_token": m.group(1)})
    assert resp.status_code == 303
    assert client.get("/officer/account").status_code == 302


def test_logout_requires_csrf(client: FlaskClient, officer: Enrolled, clock: Clock) -> None:
    login_as(client, officer, clock)
    assert client.post("/officer/logout").status_code == 400
    assert client.get("/officer/account").status_code == 200


def test_idle_and_absolute_timeouts(make_app, unit_id: int, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    who = enrol(app, "rina", Role.PENGKAJI, unit_id)
    now = [1_000_000.0]
    app.session_interface.clock = lambda: now[0]  # type: ignore[attr-defined]
    client = app.test_client()
    login_as(client, who, clock)
    now[0] += 29 * 60
    assert client.get("/officer/account").status_code == 200
    now[0] += 31 * 60  # 31 minutes idle
    assert client.get("/officer/account").status_code == 302
    # Absolute: active every 20 minutes, still out after 12 hours.
    login_as(client, who, clock)
    for _ in range(35):  # 35 * 20 min = 11 h 40
        now[0] += 20 * 60
        assert client.get("/officer/account").status_code == 200
    now[0] += 21 * 60
    assert client.get("/officer/account").status_code == 302


def test_failed_logins_audited_without_unknown_names(client: FlaskClient, app: Flask,
                                                     officer: Enrolled, clock: Clock) -> None:
    login(client, "typo-of-a-name", "x" * 14, officer.totp_secret, clock)
    login(client, officer.username, "x" * 14, officer.totp_secret, clock)
    with transaction(state(app).db) as db:
        rows = db.scalars(select(AuditEntry)).all()
        text = " ".join(f"{r.actor} {r.action} {r.object} {r.detail}" for r in rows)
    assert "typo-of-a-name" not in text
    assert "login.fail" in text


def test_totp_secret_not_in_database_plaintext(app: Flask, officer: Enrolled) -> None:
    url = state(app).config.db_url
    if url.startswith("sqlite:///"):
        # The raw files (database + WAL), so free pages and journal copies are covered too.
        state(app).engine.dispose()
        import pathlib
        path = pathlib.Path(url[len("sqlite:///"):])
        data = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    else:
        # PostgreSQL: every value of every table.
        from whistle.models import Base
        parts: list[bytes] = []
        with state(app).engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                for row in conn.execute(table.select()):
                    for value in row:
                        parts.append(bytes(value) if isinstance(value, (bytes, memoryview))
                                     else str(value).encode())
        data = b"\x00".join(parts)
    secret = officer.totp_secret.encode()
    assert secret not in data and secret.lower() not in data
    assert totp.group_secret(officer.totp_secret).encode() not in data
    import base64
    assert base64.b32decode(secret) not in data


@pytest.mark.parametrize("target,lands", [
    ("/officer/account", "/officer/account"),
    ("//evil.example/officer/", None),
    ("https://evil.example/officer/x", None),
    ("/\\evil.example", None),
    ("/elsewhere", None),
])
def test_next_is_local_only(client: FlaskClient, officer: Enrolled, clock: Clock,
                            target: str, lands: str | None) -> None:
    from tests.web.officer_login import csrf
    clock.advance(seconds=30)
    resp = client.post("/officer/login", data={
        "csrf_token": csrf(client, "/officer/login"), "username": officer.username,
        "passphrase": officer.passphrase, "code": code_for(officer.totp_secret, clock()),
        "next": target})
    assert resp.status_code == 303
    location = resp.headers["Location"]
    assert "evil" not in location
    if lands:
        assert location.endswith(lands)


def test_protected_page_redirects_to_login_with_next(client: FlaskClient) -> None:
    resp = client.get("/officer/account")
    assert resp.status_code == 302
    assert "/officer/login?next=/officer/account" in resp.headers["Location"].replace("%2F", "/")
