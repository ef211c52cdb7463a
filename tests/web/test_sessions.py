"""Encrypted server-side sessions: neither the store nor the cookie alone opens anything."""
from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest
import redis
from flask import Flask, render_template_string, session
from flask.testing import FlaskClient
from sqlalchemy import func, select

import crypto
from whistle.models import ServerSession
from whistle.web.sessions import (
    KIND_OFFICER,
    decode_cookie,
    destroy_session,
    encode_cookie,
    hash_sid,
    rotate_session,
    session_kind,
)
from whistle.web.state import state

SECRET = "rahasia-pelapor-4242"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def add_routes(app: Flask) -> Clock:
    @app.get("/t/set")
    def set_value() -> str:
        session["value"] = SECRET
        session["raw"] = b"\x00\x01bytes"
        return "ok"

    @app.get("/t/get")
    def get_value() -> str:
        return json.dumps({"value": session.get("value"), "kind": session_kind(),
                           "raw": session.get("raw", b"").hex()})

    @app.get("/t/login")
    def login() -> str:
        rotate_session(KIND_OFFICER)
        session["officer"] = 7
        return "in"

    @app.get("/t/logout")
    def logout() -> str:
        destroy_session()
        return "out"

    @app.get("/t/form")
    def form() -> str:
        return render_template_string(
            '<form method="post" action="/t/form"><input type="hidden" name="csrf_token" '
            'value="{{ csrf_token() }}"><button>go</button></form>')

    @app.post("/t/form")
    def post_form() -> str:
        return "posted"

    clock = Clock()
    app.session_interface.clock = clock  # type: ignore[attr-defined]
    return clock


@pytest.fixture
def sapp(app: Flask) -> Flask:
    add_routes(app)
    return app


def cookie_value(client: FlaskClient, name: str = "whistle") -> str | None:
    cookie = client.get_cookie(name)
    return cookie.value if cookie else None


def rows(app: Flask) -> list[ServerSession]:
    with state(app).db() as db:
        return list(db.scalars(select(ServerSession)))


def test_round_trip_including_bytes(sapp: Flask) -> None:
    client = sapp.test_client()
    client.get("/t/set")
    data = client.get("/t/get").get_json(force=True)
    assert data == {"value": SECRET, "kind": "reporter", "raw": "0001" + b"bytes".hex()}


def test_landing_visit_creates_no_record_and_no_cookie(sapp: Flask) -> None:
    client = sapp.test_client()
    for path in ("/", "/t/get", "/healthz", "/static/whistle.css", "/missing"):
        response = client.get(path)
        assert "Set-Cookie" not in response.headers or "whistle=" not in response.headers["Set-Cookie"]
    assert rows(sapp) == []
    assert cookie_value(client) is None


def test_rendering_a_form_creates_a_session_for_csrf(sapp: Flask, csrf_token) -> None:
    client = sapp.test_client()
    token = csrf_token(client, "/t/form")
    assert len(rows(sapp)) == 1
    assert client.post("/t/form", data={"csrf_token": token}).status_code == 200


def test_csrf_refuses_post_without_or_with_wrong_token(sapp: Flask, csrf_token) -> None:
    client = sapp.test_client()
    assert client.post("/t/form").status_code == 400  # no session at all
    csrf_token(client, "/t/form")
    assert client.post("/t/form").status_code == 400
    assert client.post("/t/form", data={"csrf_token": "x" * 40}).status_code == 400
    other = sapp.test_client()
    foreign = csrf_token(other, "/t/form")  # a valid token from another session
    response = client.post("/t/form", data={"csrf_token": foreign})
    assert response.status_code == 400
    assert b"Traceback" not in response.data


def test_cookie_flags(sapp: Flask) -> None:
    response = sapp.test_client().get("/t/set")
    header = response.headers["Set-Cookie"]
    assert header.startswith("whistle=")
    assert "HttpOnly" in header and "SameSite=Strict" in header and "Path=/" in header
    assert "Expires" not in header and "Max-Age" not in header  # browser-session cookie
    assert "Domain" not in header


def test_secure_cookies_use_host_prefix(make_app: Callable[..., Flask]) -> None:
    app = make_app(secure_cookies=True)
    add_routes(app)
    response = app.test_client().get("/t/set", base_url="https://localhost")
    header = response.headers["Set-Cookie"]
    assert header.startswith("__Host-whistle=")
    assert "Secure" in header and "Path=/" in header and "Domain" not in header


def test_record_is_ciphertext_bound_to_cookie_key(sapp: Flask) -> None:
    client = sapp.test_client()
    client.get("/t/set")
    [row] = rows(sapp)
    assert SECRET.encode() not in row.blob
    assert b"value" not in row.blob
    sid, key = decode_cookie(cookie_value(client) or "")  # type: ignore[misc]
    assert row.id_hash == hash_sid(sid)
    # The cookie holds the key; the store holds only its id's hash, never the id or key.
    assert sid not in row.blob and key not in row.blob and row.id_hash != sid
    assert SECRET in crypto.decrypt(key, row.blob, aad=row.id_hash).decode()


def test_store_alone_cannot_open(sapp: Flask) -> None:
    client = sapp.test_client()
    client.get("/t/set")
    [row] = rows(sapp)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(crypto.generate_key(), row.blob, aad=row.id_hash)
    # A forged cookie naming the right record but with another key opens nothing.
    sid, _ = decode_cookie(cookie_value(client) or "")  # type: ignore[misc]
    thief = sapp.test_client()
    thief.set_cookie("whistle", encode_cookie(sid, crypto.generate_key()))
    assert thief.get("/t/get").get_json(force=True)["value"] is None


def test_cookie_alone_cannot_open(sapp: Flask) -> None:
    client = sapp.test_client()
    client.get("/t/set")
    raw = cookie_value(client) or ""
    assert SECRET not in base64.urlsafe_b64decode(raw + "==").decode("latin-1")
    with state(sapp).db.begin() as db:  # the record is gone (e.g. swept): the cookie is useless
        db.execute(ServerSession.__table__.delete())
    thief = sapp.test_client()
    thief.set_cookie("whistle", raw)
    response = thief.get("/t/get")
    assert response.get_json(force=True)["value"] is None
    assert "whistle=;" in response.headers.get("Set-Cookie", "")  # stale cookie cleared


def test_tampered_record_is_rejected(sapp: Flask) -> None:
    client = sapp.test_client()
    client.get("/t/set")
    [row] = rows(sapp)
    flipped = row.blob[:-1] + bytes([row.blob[-1] ^ 1])
    with state(sapp).db.begin() as db:
        db.execute(ServerSession.__table__.update().values(blob=flipped))
    assert client.get("/t/get").get_json(force=True)["value"] is None


@pytest.mark.parametrize("garbage", ["", "x", "!!!!", "A" * 64, "A" * 200, "é" * 64])
def test_garbage_cookie_is_not_an_error(sapp: Flask, garbage: str) -> None:
    client = sapp.test_client()
    client.set_cookie("whistle", garbage)
    response = client.get("/t/get")
    assert response.status_code == 200
    assert response.get_json(force=True)["value"] is None


def test_idle_timeout_reporter(sapp: Flask) -> None:
    clock: Clock = sapp.session_interface.clock  # type: ignore[attr-defined]
    client = sapp.test_client()
    client.get("/t/set")
    clock.now += 14 * 60
    assert client.get("/t/get").get_json(force=True)["value"] == SECRET  # touch moves deadline
    clock.now += 14 * 60
    assert client.get("/t/get").get_json(force=True)["value"] == SECRET
    clock.now += 15 * 60 + 1
    assert client.get("/t/get").get_json(force=True)["value"] is None
    assert rows(sapp) == []  # the expired record was deleted


def test_absolute_timeout_officer(make_app: Callable[..., Flask]) -> None:
    app = make_app(officer_idle_timeout=1800, officer_absolute_timeout=3600)
    clock = add_routes(app)
    client = app.test_client()
    client.get("/t/login")
    assert client.get("/t/get").get_json(force=True)["kind"] == "officer"
    for _ in range(3):  # active all along: idle never trips, absolute does
        clock.now += 20 * 60
        client.get("/t/get")
    assert client.get("/t/get").get_json(force=True)["kind"] == "reporter"  # a fresh session
    assert client.get("/t/get").get_json(force=True)["value"] is None


def test_officer_idle_timeout_is_longer(sapp: Flask) -> None:
    clock: Clock = sapp.session_interface.clock  # type: ignore[attr-defined]
    client = sapp.test_client()
    client.get("/t/login")
    clock.now += 20 * 60
    assert client.get("/t/get").get_json(force=True)["kind"] == "officer"
    clock.now += 31 * 60
    assert client.get("/t/get").get_json(force=True)["kind"] == "reporter"


def test_rotate_changes_id_and_deletes_old_record(sapp: Flask) -> None:
    client = sapp.test_client()
    client.get("/t/set")
    before = cookie_value(client)
    [old] = rows(sapp)
    client.get("/t/login")
    after = cookie_value(client)
    assert after and after != before
    [new] = rows(sapp)
    assert new.id_hash != old.id_hash
    data = client.get("/t/get").get_json(force=True)
    assert data["value"] == SECRET and data["kind"] == "officer"  # data carried over
    replay = sapp.test_client()
    replay.set_cookie("whistle", before or "")
    assert replay.get("/t/get").get_json(force=True)["value"] is None  # fixation defeated


def test_logout_destroys(sapp: Flask) -> None:
    client = sapp.test_client()
    client.get("/t/login")
    raw = cookie_value(client)
    response = client.get("/t/logout")
    assert "whistle=;" in response.headers["Set-Cookie"]
    assert rows(sapp) == []
    replay = sapp.test_client()
    replay.set_cookie("whistle", raw or "")
    assert replay.get("/t/get").get_json(force=True)["kind"] == "reporter"


def test_purge_expired(sapp: Flask) -> None:
    clock: Clock = sapp.session_interface.clock  # type: ignore[attr-defined]
    sapp.test_client().get("/t/set")
    store = sapp.session_interface.store  # type: ignore[attr-defined]
    assert store.purge_expired(clock.now) == 0
    assert store.purge_expired(clock.now + 16 * 60) == 1
    with state(sapp).db() as db:
        assert db.scalar(select(func.count()).select_from(ServerSession)) == 0


def test_redis_backend(make_app: Callable[..., Flask], redis_url: str) -> None:
    app = make_app(session_backend="redis", redis_url=redis_url)
    add_routes(app)
    client = app.test_client()
    client.get("/t/set")
    assert client.get("/t/get").get_json(force=True)["value"] == SECRET
    sid, key = decode_cookie(cookie_value(client) or "")  # type: ignore[misc]
    r = redis.Redis.from_url(redis_url)
    name = "whistle:sess:" + hash_sid(sid).hex()
    blob = r.get(name)
    assert blob is not None and SECRET.encode() not in blob
    assert 0 < r.pttl(name) <= 15 * 60 * 1000
    assert SECRET in crypto.decrypt(key, blob, aad=hash_sid(sid)).decode()
    assert rows(app) == []  # nothing in the database
    client.get("/t/login")
    assert r.get(name) is None  # rotated away
    client.get("/t/logout")
    assert not [k for k in r.scan_iter("whistle:sess:*") if k.decode().endswith(hash_sid(sid).hex())]
    anon = app.test_client()
    anon.get("/t/get")
    assert cookie_value(anon) is None
