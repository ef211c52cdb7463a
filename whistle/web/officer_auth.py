"""Officer authentication helpers used by every officer and admin route.

The session (server-side, sealed under a key only the cookie holds; see web/sessions.py) keeps:

* ``officer_id`` and ``officer_epoch`` (the account's enrolment time: a reset by the admin
  changes it, which ends every older session at its next request);
* ``officer_key``: the officer's unsealed private key bytes;
* ``team_keys``: ``{str(team_id): team private key bytes}`` unwrapped at log-in, so no page
  needs Argon2. They are re-synchronised with the memberships table on each request: a
  removed membership drops its key at once, a newly approved one is unwrapped (HPKE only).
  That key logic lives in ``services/custody/membership.py``; this module only calls the
  function installed with :func:`install_team_key_sync` (web/ is plumbing and imports no
  service). Without one installed, sessions hold no team keys at all (fail closed).

Usage::

    @bp.get("/cases")
    @officer_required("verifikator", "pyb")
    def cases(): ...
        me = current_officer()          # detached snapshot; re-get it in your own DB session
        keys = team_keys()              # {team_id: crypto.PrivateKey}
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from crypto import PrivateKey
from whistle.db import transaction
from whistle.models import Officer
from whistle.web.sessions import KIND_OFFICER, destroy_session, rotate_session, session_kind
from whistle.web.state import state

F = TypeVar("F", bound=Callable[..., Any])
# (db, officer_id, session team keys, session officer key bytes) -> new team keys or None
TeamKeySync = Callable[[Session, int, Mapping[str, bytes], bytes], "dict[str, bytes] | None"]
SYNC_EXTENSION = "whistle.team_key_sync"

LOGIN_ENDPOINT = "officer.login"
# Where each role lands after log-in; the first endpoint that exists wins.
LANDING: dict[str, tuple[str, ...]] = {
    "admin": ("admin.index",),
    "auditor": ("admin.audit",),
    "penerima": ("officer.intake",),  # the desk records reports; it has no inbox
}
DEFAULT_LANDING: tuple[str, ...] = ("officer.cases", "officer.case_list", "officer.index",
                                    "officer.account")


def _epoch(officer: Officer) -> str:
    return officer.enrolled_at.isoformat() if officer.enrolled_at else ""


def start_officer_session(officer: Officer, private_key: PrivateKey,
                          keys: dict[int, PrivateKey]) -> None:
    """Call after a successful log-in: fresh session id and key, then park the keys in it."""
    session.clear()
    rotate_session(KIND_OFFICER)
    session["officer_id"] = officer.id
    session["officer_epoch"] = _epoch(officer)
    session["officer_key"] = private_key.to_bytes()
    session["team_keys"] = {str(tid): k.to_bytes() for tid, k in keys.items()}
    g.pop("whistle_officer", None)
    g.pop("whistle_team_keys", None)


def end_officer_session() -> None:
    destroy_session()
    g.pop("whistle_officer", None)
    g.pop("whistle_team_keys", None)


def _load() -> Officer | None:
    """The logged-in officer for this request (cached on ``g``), or None."""
    if "whistle_officer" in g:
        return cast("Officer | None", g.whistle_officer)
    officer: Officer | None = None
    officer_id = session.get("officer_id")
    if officer_id is not None and session_kind() == KIND_OFFICER:
        with transaction(state().db) as db:
            found = db.scalar(select(Officer).options(joinedload(Officer.unit))
                              .where(Officer.id == int(officer_id)))
            if (found is not None and found.active and found.enrolled_at is not None
                    and session.get("officer_epoch") == _epoch(found)):
                officer = found
                _sync_team_keys(db, found)
        if officer is None:
            end_officer_session()  # deactivated, reset or deleted: the session is over
    g.whistle_officer = officer
    return officer


def install_team_key_sync(app: Flask, sync: TeamKeySync) -> None:
    """Register the function that keeps a session's team keys equal to its memberships."""
    app.extensions[SYNC_EXTENSION] = sync


def _sync_team_keys(db: Session, officer: Officer) -> None:
    """Keep ``session['team_keys']`` equal to the officer's completed memberships."""
    held: dict[str, bytes] = dict(session.get("team_keys") or {})
    sync: TeamKeySync | None = current_app.extensions.get(SYNC_EXTENSION)
    if sync is None:
        fresh: dict[str, bytes] | None = {} if held else None  # nothing can vouch for them
    else:
        fresh = sync(db, officer.id, held, session["officer_key"])
    if fresh is not None:
        session["team_keys"] = fresh
        g.pop("whistle_team_keys", None)


def current_officer() -> Officer:
    """The logged-in officer (detached snapshot with ``unit`` loaded). Only inside
    ``officer_required`` views; raises 401-as-redirect otherwise."""
    officer = _load()
    if officer is None:
        abort(401)
    return officer


def is_logged_in() -> bool:
    return _load() is not None


def team_keys() -> dict[int, PrivateKey]:
    """Unsealed private keys of the officer's teams: ``{team_id: PrivateKey}``."""
    if _load() is None:
        return {}
    cached = g.get("whistle_team_keys")
    if cached is None:
        raw: dict[str, bytes] = session.get("team_keys") or {}
        cached = {int(tid): PrivateKey.from_bytes(blob) for tid, blob in raw.items()}
        g.whistle_team_keys = cached
    return dict(cached)


def officer_private_key() -> PrivateKey:
    if _load() is None:
        abort(401)
    return PrivateKey.from_bytes(session["officer_key"])


def safe_next(target: str | None) -> str | None:
    """Only a local path inside the officer or admin areas (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or not (target.startswith("/officer/") or target.startswith("/admin")):
        return None
    return target


def landing_url(officer: Officer) -> str:
    for endpoint in LANDING.get(officer.role, DEFAULT_LANDING):
        if endpoint in current_app.view_functions:
            return url_for(endpoint)
    return url_for("officer.account")


def officer_required(*roles: str) -> Callable[[F], F]:
    """Not logged in -> redirect to the log-in page; wrong role -> 403; no roles -> any officer."""
    allowed = frozenset(str(r) for r in roles)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            officer = _load()
            if officer is None:
                nxt = request.full_path.rstrip("?") if request.method == "GET" else None
                return redirect(url_for(LOGIN_ENDPOINT, next=safe_next(nxt)))
            if allowed and officer.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.whistle_roles = allowed  # type: ignore[attr-defined]  # read by the roles matrix test
        return cast(F, wrapped)

    return decorator
