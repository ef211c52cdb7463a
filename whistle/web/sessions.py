"""Server-side sessions whose records are sealed under a key that lives only in the cookie.

Cookie value: base64url(session_id[16] || key[32]). The server stores, under SHA-256(session_id),
``crypto.encrypt(key, payload, aad=id_hash)``. So a copy of the session store opens nothing
(no key), and a stolen cookie alone opens nothing once the record is gone (log-out, timeout).
Unsealed officer keys parked in a session are therefore never at rest in the clear.

Anonymous visitors who never write to the session get no record and no cookie: a landing-page
visit leaves no trace. flask-wtf writes its CSRF token into the session only when a form is
rendered, which is exactly when a session becomes necessary.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from flask import Flask, Request, session
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import Engine, Table, delete, insert, select, update
from werkzeug.datastructures import CallbackDict
from werkzeug.wrappers import Response

from crypto import CryptoError, decrypt, encrypt
from whistle.config import Config

SID_BYTES = 16
KEY_BYTES = 32
KIND_REPORTER = "reporter"
KIND_OFFICER = "officer"
# An unchanged session is re-saved at most this often just to move its idle deadline; keeps
# read-only page views from writing the store on every request.
TOUCH_INTERVAL = 30.0
PAYLOAD_VERSION = 1

_serializer = TaggedJSONSerializer()  # handles bytes (base64), tuples, datetimes, uuids


class ServerSideSession(CallbackDict[str, Any], SessionMixin):
    """The dict a request sees as ``flask.session``, plus the bookkeeping to store it."""

    def __init__(
        self,
        initial: dict[str, Any] | None = None,
        *,
        sid: bytes | None = None,
        key: bytes | None = None,
        created: float = 0.0,
        last_seen: float = 0.0,
        kind: str = KIND_REPORTER,
    ) -> None:
        def on_update(obj: "ServerSideSession") -> None:
            obj.modified = True
            obj.accessed = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.key = key
        self.created = created
        self.last_seen = last_seen
        self.kind = kind
        self.new = sid is None
        self.modified = False
        self.accessed = False
        self.rotate = False
        self.destroyed = False
        self.drop_cookie = False  # the browser sent a cookie that no longer opens a record

    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        return super().get(key, default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        return super().setdefault(key, default)

    @property
    def id_hash(self) -> bytes | None:
        return hash_sid(self.sid) if self.sid else None


# -- helpers for views -------------------------------------------------------------------

def rotate_session(kind: str | None = None) -> None:
    """New id and key for the current session (call on log-in and any privilege change).

    The old record is deleted when the response is saved; the data moves to the new record.
    The absolute timeout restarts: it measures time since the privilege was granted.
    """
    sess = _current()
    sess.rotate = True
    if kind is not None:
        if kind not in (KIND_REPORTER, KIND_OFFICER):
            raise ValueError(f"unknown session kind {kind!r}")
        sess.kind = kind
    sess.modified = True


def destroy_session() -> None:
    """Log-out: forget the data, delete the record and the cookie."""
    sess = _current()
    sess.clear()
    sess.destroyed = True


def session_kind() -> str:
    return _current().kind


def _current() -> ServerSideSession:
    sess = session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(sess, ServerSideSession):
        raise RuntimeError("whistle's session interface is not installed")
    return sess


# -- cookie format -----------------------------------------------------------------------

def hash_sid(sid: bytes) -> bytes:
    return hashlib.sha256(sid).digest()


def encode_cookie(sid: bytes, key: bytes) -> str:
    return base64.urlsafe_b64encode(sid + key).rstrip(b"=").decode("ascii")


def decode_cookie(value: str) -> tuple[bytes, bytes] | None:
    """(session_id, key) or None for anything malformed (never raises on client input)."""
    if len(value) != 64:  # 48 bytes base64url without padding
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "==")
    except (binascii.Error, ValueError):
        return None
    if len(raw) != SID_BYTES + KEY_BYTES:
        return None
    return raw[:SID_BYTES], raw[SID_BYTES:]


def request_session_id_hash(request: Request, cookie_name: str) -> bytes | None:
    """SHA-256 of the session id named by the request's cookie (no store lookup)."""
    raw = request.cookies.get(cookie_name)
    parsed = decode_cookie(raw) if raw else None
    return hash_sid(parsed[0]) if parsed else None


# -- stores ------------------------------------------------------------------------------

class SessionStore(Protocol):
    def load(self, id_hash: bytes, now: float) -> bytes | None: ...
    def save(self, id_hash: bytes, blob: bytes, *, created: float, last_seen: float,
             expires: float) -> None: ...
    def delete(self, id_hash: bytes) -> None: ...
    def purge_expired(self, now: float) -> int: ...


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class DbSessionStore:
    """``server_sessions`` table. Each operation is its own short transaction."""

    def __init__(self, engine: Engine) -> None:
        from whistle.models import ServerSession  # late: keeps import order simple

        self.engine = engine
        # The mapped table is typed as a FromClause; it is a Table, which update/insert need.
        self.table = cast(Table, ServerSession.__table__)
        # INSERT ... ON CONFLICT DO UPDATE where the dialect has it (SQLite, PostgreSQL).
        self._upsert: Any = None
        if engine.dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            self._upsert = sqlite_insert
        elif engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            self._upsert = pg_insert

    def load(self, id_hash: bytes, now: float) -> bytes | None:
        t = self.table
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.c.blob, t.c.expires_at).where(t.c.id_hash == id_hash)
            ).first()
        if row is None:
            return None
        expires_at = row.expires_at
        if expires_at.tzinfo is None:  # defensive: SQLite drops tzinfo
            expires_at = expires_at.replace(tzinfo=UTC)
        if expires_at.timestamp() <= now:
            self.delete(id_hash)
            return None
        return bytes(row.blob)

    def save(self, id_hash: bytes, blob: bytes, *, created: float, last_seen: float,
             expires: float) -> None:
        t = self.table
        values = {"blob": blob, "last_seen_at": _dt(last_seen), "expires_at": _dt(expires)}
        with self.engine.begin() as conn:
            if self._upsert is not None:
                # One statement per save (a new visitor's first save was UPDATE-then-INSERT, two
                # statements inside SQLite's write lock); created_at is kept on conflict.
                stmt = self._upsert(t).values(id_hash=id_hash, created_at=_dt(created), **values)
                conn.execute(stmt.on_conflict_do_update(index_elements=[t.c.id_hash], set_=values))
                return
            done = conn.execute(update(t).where(t.c.id_hash == id_hash).values(**values))
            if done.rowcount == 0:
                conn.execute(insert(t).values(id_hash=id_hash, created_at=_dt(created), **values))

    def delete(self, id_hash: bytes) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(self.table).where(self.table.c.id_hash == id_hash))

    def purge_expired(self, now: float) -> int:
        with self.engine.begin() as conn:
            res = conn.execute(delete(self.table).where(self.table.c.expires_at <= _dt(now)))
            return int(res.rowcount or 0)


class RedisSessionStore:
    """Redis keys ``whistle:sess:<hex id_hash>`` with a TTL = time to the nearer timeout."""

    def __init__(self, url: str, prefix: str = "whistle:sess:") -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        self.prefix = prefix

    def _key(self, id_hash: bytes) -> str:
        return self.prefix + id_hash.hex()

    def load(self, id_hash: bytes, now: float) -> bytes | None:
        value = self.client.get(self._key(id_hash))
        return bytes(value) if value is not None else None  # type: ignore[arg-type]

    def save(self, id_hash: bytes, blob: bytes, *, created: float, last_seen: float,
             expires: float) -> None:
        ttl_ms = max(1, int((expires - last_seen) * 1000))
        self.client.set(self._key(id_hash), blob, px=ttl_ms)

    def delete(self, id_hash: bytes) -> None:
        self.client.delete(self._key(id_hash))

    def purge_expired(self, now: float) -> int:
        return 0  # Redis expires keys itself


# -- the interface -----------------------------------------------------------------------

class EncryptedSessionInterface(SessionInterface):
    def __init__(self, store: SessionStore, config: Config,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.config = config
        self.clock = clock

    def timeouts(self, kind: str) -> tuple[int, int]:
        """(idle, absolute) seconds for a session kind."""
        c = self.config
        if kind == KIND_OFFICER:
            return c.officer_idle_timeout, c.officer_absolute_timeout
        return c.reporter_idle_timeout, c.reporter_absolute_timeout

    def expires_at(self, kind: str, created: float, last_seen: float) -> float:
        idle, absolute = self.timeouts(kind)
        return min(last_seen + idle, created + absolute)

    # Flask calls this at the start of every request.
    def open_session(self, app: Flask, request: Request) -> ServerSideSession:
        name = self.get_cookie_name(app)
        raw = request.cookies.get(name)
        if not raw:
            return ServerSideSession()
        opened = self._open(raw)
        if opened is None:
            fresh = ServerSideSession()
            fresh.drop_cookie = True
            return fresh
        return opened

    def _open(self, raw: str) -> ServerSideSession | None:
        parsed = decode_cookie(raw)
        if parsed is None:
            return None
        sid, key = parsed
        id_hash = hash_sid(sid)
        now = self.clock()
        blob = self.store.load(id_hash, now)
        if blob is None:
            return None
        try:
            payload = json.loads(decrypt(key, blob, aad=id_hash))
            if payload.get("v") != PAYLOAD_VERSION:
                raise ValueError("unknown payload version")
            created, last_seen = float(payload["c"]), float(payload["l"])
            kind = str(payload["k"])
            data = _serializer.loads(payload["d"])
        except (CryptoError, ValueError, KeyError, TypeError):
            return None  # wrong key or tampered record: treat as no session
        # The sealed timestamps are authoritative: the store's own expiry is only for sweeping
        # and could be altered by whoever can write the store.
        if now >= self.expires_at(kind, created, last_seen):
            self.store.delete(id_hash)
            return None
        return ServerSideSession(data, sid=sid, key=key, created=created,
                                 last_seen=last_seen, kind=kind)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSideSession)
        name = self.get_cookie_name(app)
        if session.destroyed or (not session.new and not session and session.modified):
            if session.id_hash is not None:
                self.store.delete(session.id_hash)
            self._delete_cookie(app, response, name)
            return
        if session.new and not session:
            # Nothing was ever stored: no record, and any stale cookie is cleared.
            if session.drop_cookie:
                self._delete_cookie(app, response, name)
            return
        now = self.clock()
        if not (session.new or session.modified or session.rotate
                or now - session.last_seen >= TOUCH_INTERVAL):
            return
        if session.rotate and session.id_hash is not None:
            self.store.delete(session.id_hash)
        set_cookie = session.new or session.rotate
        if set_cookie:
            session.sid = secrets.token_bytes(SID_BYTES)
            session.key = secrets.token_bytes(KEY_BYTES)
            session.created = now
        assert session.sid is not None and session.key is not None
        session.last_seen = now
        id_hash = hash_sid(session.sid)
        payload = json.dumps({
            "v": PAYLOAD_VERSION, "c": session.created, "l": session.last_seen,
            "k": session.kind, "d": _serializer.dumps(dict(session)),
        }, separators=(",", ":")).encode("utf-8")
        blob = encrypt(session.key, payload, aad=id_hash)
        self.store.save(id_hash, blob, created=session.created, last_seen=now,
                        expires=self.expires_at(session.kind, session.created, now))
        if set_cookie:
            # No Expires/Max-Age: a browser-session cookie, gone when the browser closes.
            response.set_cookie(
                name, encode_cookie(session.sid, session.key), path="/",
                secure=self.config.secure_cookies, httponly=True, samesite="Strict",
            )
        session.new = session.rotate = False

    def _delete_cookie(self, app: Flask, response: Response, name: str) -> None:
        response.delete_cookie(name, path="/", secure=self.config.secure_cookies,
                               httponly=True, samesite="Strict")

    def get_cookie_name(self, app: Flask) -> str:
        return self.config.session_cookie_name


def make_store(config: Config, engine: Engine) -> SessionStore:
    if config.session_backend == "redis":
        return RedisSessionStore(config.sessions_redis_url)
    return DbSessionStore(engine)
