"""Rate limits that never key on the client address, and a bound on concurrent Argon2.

Behind a Tor onion service every client arrives from the same address, and X-Forwarded-For is
whatever the client says: keying on either would either lock everybody out together or let
anybody escape. So limits are keyed on a global constant, the session cookie, or the ticket
lookup id being tried.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, has_app_context, request
from flask_limiter import Limiter
from limits import parse
from werkzeug.exceptions import ServiceUnavailable, TooManyRequests

from whistle.config import Config
from whistle.web.sessions import request_session_id_hash

GLOBAL_KEY = "global"


def global_key() -> str:
    """One bucket for the whole service."""
    return GLOBAL_KEY


def session_key() -> str:
    """Per session cookie (hash of its id, never its key); anonymous requests get a throwaway
    key so they count only against the global budget."""
    id_hash = request_session_id_hash(request, current_app.config["SESSION_COOKIE_NAME"])
    if id_hash is None:
        return "anon:" + secrets.token_hex(16)
    return "sess:" + id_hash.hex()[:32]


def ticket_lookup_key(lookup_id: bytes) -> str:
    """Key for attempts on one ticket lookup id (itself a keyed hash, so not the ticket)."""
    return "ticket:" + hashlib.sha256(b"whistle/ratelimit|" + lookup_id).hexdigest()[:32]


limiter = Limiter(key_func=global_key, default_limits=[], headers_enabled=False)


def init_limits(app: Flask, config: Config) -> None:
    app.config.update(
        RATELIMIT_STORAGE_URI=config.ratelimit_storage_uri,
        RATELIMIT_KEY_PREFIX=config.ratelimit_key_prefix,
        RATELIMIT_STRATEGY="moving-window",
        # A callable: the limiter object is shared by every app in the process (routes are
        # decorated at import time) and keeps the first provider it sees.
        RATELIMIT_APPLICATION=_global_limit,
        RATELIMIT_HEADERS_ENABLED=False,
    )
    limiter._key_prefix = ""  # likewise sticky; take this app's prefix
    limiter.init_app(app)
    app.extensions["whistle_argon2"] = threading.BoundedSemaphore(config.argon2_concurrency)
    app.extensions["whistle_argon2_wait"] = config.argon2_wait_seconds


def _global_limit() -> str:
    from whistle.web.state import state

    return state().config.ratelimit_global


@limiter.request_filter
def _exempt() -> bool:
    # Health checks and metrics come from the operator's monitoring, not from the public, and
    # must keep answering during a flood.
    return request.endpoint in ("ops.healthz", "ops.metrics", "static")


def session_limit() -> str:
    """Use as ``@limiter.limit(session_limit, key_func=session_key)`` on costly routes."""
    from whistle.web.state import state

    return state().config.ratelimit_session


def hit_ticket_attempt(lookup_id: bytes) -> None:
    """Count one attempt against a ticket lookup id; TooManyRequests (429) past the limit."""
    from whistle.web.state import state

    item = parse(state().config.ratelimit_ticket)
    if not limiter.limiter.hit(item, limiter._key_prefix or "", ticket_lookup_key(lookup_id)):
        raise TooManyRequests()


# -- Argon2 concurrency ------------------------------------------------------------------

class Busy(ServiceUnavailable):
    """Too many expensive derivations already running: the user is asked to retry shortly."""

    description = "busy"


_fallback_slots = threading.BoundedSemaphore(4)


@contextmanager
def argon2_slot(timeout: float | None = None) -> Iterator[None]:
    """Hold one of ARGON2_CONCURRENCY slots (per process) while running Argon2.

    Each Argon2 call may take 64 MiB; a flood of log-ins or ticket look-ups must queue briefly
    and then be turned away (503) instead of exhausting memory.
    """
    if has_app_context() and "whistle_argon2" in current_app.extensions:
        sem: threading.BoundedSemaphore = current_app.extensions["whistle_argon2"]
        wait = current_app.extensions["whistle_argon2_wait"] if timeout is None else timeout
    else:
        sem, wait = _fallback_slots, 3.0 if timeout is None else timeout
    if not sem.acquire(timeout=wait):
        raise Busy()
    try:
        yield
    finally:
        sem.release()
