"""Officer accounts: creation, one-time enrolment, log-in with passphrase + TOTP, throttling.

Design choices (docs/ARCHITECTURE.md, DESIGN.md §3):

* The passphrase is verified by opening the officer's sealed private key: one Argon2id per
  log-in, and a passphrase that opens the key is by construction the right one. An unknown,
  deactivated, not-yet-enrolled or throttled account opens a dummy sealed key made with the
  same parameters, so every failed attempt costs the same work and takes the same time.
* Every failure gives the caller the same answer (``None``); the page shows one message.
* Throttling is per account and never per client address (behind Tor all clients share one):
  from the 5th consecutive failure the account waits 2^(n-5) minutes, capped at 15, so a
  guesser gets a handful of tries an hour while the real officer is never locked out for good.
  Attempts during the wait are not evaluated and do not extend it.
* Enrolment secrets are random, shown once, stored as SHA-256 (their entropy makes a slow
  hash unnecessary) and expire after 72 hours.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, cast

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

import crypto
from crypto import PrivateKey, WrongPassphrase
from crypto import kdf as _kdf

from ...domain.constants import Role
from ...models import Officer, Unit, utcnow
from ..custody import audit, membership, teams
from ..messages import N_, Refusal
from . import totp
from .passphrases import passphrase_problems

ENROLMENT_TTL = timedelta(hours=72)
THROTTLE_AFTER = 5
THROTTLE_CAP = timedelta(minutes=15)
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
ROLES: tuple[str, ...] = tuple(r.value for r in Role)

# Tests replace this to move time without sleeping.
now: Callable[[], datetime] = utcnow


class AccountError(Refusal):
    """A refused account operation; the message is safe to show to the admin."""


# -- audit actors --------------------------------------------------------------------------

def actor_of(officer: Officer) -> str:
    return f"officer:{officer.id}"


# -- enrolment secrets ---------------------------------------------------------------------

def normalise_username(username: str) -> str:
    return username.strip().lower()


def new_enrolment_secret() -> str:
    """120 random bits as 24 base32 characters in groups of four (read aloud or typed)."""
    raw = base64.b32encode(secrets.token_bytes(15)).decode("ascii")
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def _secret_digest(secret: str) -> bytes:
    canonical = "".join(ch for ch in secret.upper() if ch.isalnum())
    return hashlib.sha256(b"whistle/enrolment|" + canonical.encode("ascii", "replace")).digest()


def _issue_enrolment(officer: Officer, at: datetime) -> str:
    secret = new_enrolment_secret()
    officer.enrolment_hash = _secret_digest(secret)
    officer.enrolment_expires_at = at + ENROLMENT_TTL
    return secret


# -- admin operations ----------------------------------------------------------------------

def create_unit(db: Session, actor: str, code: str, name: str) -> Unit:
    code, name = code.strip().upper(), name.strip()
    if not re.fullmatch(r"[A-Z0-9_-]{1,32}", code) or not name or len(name) > 200:
        raise AccountError(N_("Unit code: 1-32 letters, digits, '-' or '_'; name: 1-200 characters."))
    if db.scalar(select(Unit.id).where(Unit.code == code)) is not None:
        raise AccountError(N_("A unit with this code exists already."))
    unit = Unit(code=code, name=name)
    db.add(unit)
    db.flush()
    audit.append(db, actor, "unit.create", f"unit:{unit.id}", f"code={code}")
    return unit


def create_officer(db: Session, actor: str, username: str, display_name: str, role: str,
                   unit_id: int | None, email: str | None = None) -> tuple[Officer, str]:
    """A new account awaiting enrolment, and its one-time enrolment secret (show it once)."""
    username = normalise_username(username)
    display_name = display_name.strip()
    email = (email or "").strip() or None
    if not USERNAME_RE.fullmatch(username):
        raise AccountError(N_("Username: 3-64 lower-case letters, digits, '.', '_' or '-'."))
    if role not in ROLES:
        raise AccountError(N_("Unknown role."))
    if not display_name or len(display_name) > 200:
        raise AccountError(N_("Display name: 1-200 characters."))
    if email is not None and (len(email) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email)):
        raise AccountError(N_("Not an e-mail address."))
    if role in (Role.ADMIN, Role.AUDITOR):
        unit_id = unit_id or None  # system-wide roles need no unit
    elif unit_id is None or db.get(Unit, unit_id) is None:
        raise AccountError(N_("Case-handling officers belong to a unit."))
    if db.scalar(select(Officer.id).where(func.lower(Officer.username) == username)) is not None:
        raise AccountError(N_("This username is taken."))
    officer = Officer(username=username, display_name=display_name, role=role, unit_id=unit_id,
                      email=email, active=True, totp_last_step=0, failed_logins=0)
    secret = _issue_enrolment(officer, now())
    db.add(officer)
    db.flush()
    audit.append(db, actor, "officer.create", f"officer:{officer.id}",
                 f"username={username} role={role} unit={unit_id}")
    return officer, secret


def lost_teams(db: Session, officer: Officer) -> list[str]:
    """"unit / role" of the teams whose key only this officer (among active officers) holds."""
    return [teams.team_label(t) for t in teams.sole_holder_teams(db, officer.id)]


def _refuse_if_last_holder(db: Session, officer: Officer) -> None:
    lost = lost_teams(db, officer)
    if lost:
        raise AccountError(N_("Refused: this officer is the last key holder of %(teams)s. "
                              "Nobody could open those teams' cases and identity shares any "
                              "more. Add another member, have them approved, then try again."),
                           teams=", ".join(lost))


def reset_enrolment(db: Session, actor: str, officer: Officer) -> str:
    """Forgotten passphrase or lost phone: wipe the credentials, issue a new enrolment secret.

    Refused for the last key holder of a team (the team key would be lost for good). The old
    keypair is discarded (its passphrase is gone), so the old wraps are dropped and every
    membership waits for the team's key holders to approve the new key, exactly like a
    newcomer's (``custody.membership``). Existing sessions die at their next request (see
    ``web.officer_auth``: the enrolment time no longer matches).
    """
    _refuse_if_last_holder(db, officer)
    officer.passphrase_hash = None
    officer.sealed_private_key = None
    officer.public_key = None
    officer.totp_secret_enc = None
    officer.totp_last_step = 0
    officer.enrolled_at = None
    officer.failed_logins = 0
    officer.throttle_until = None
    secret = _issue_enrolment(officer, now())
    db.flush()
    pending = membership.pending_again(db, actor, officer)
    audit.append(db, actor, "officer.reset", f"officer:{officer.id}",
                 "credentials wiped; memberships pending approval: "
                 + (",".join(f"team:{t}" for t in pending) or "none"))
    return secret


def set_active(db: Session, actor: str, officer: Officer, active: bool) -> None:
    """Deactivation keeps the team wraps so it can be undone; the account just cannot log in.
    Refused for the last active key holder of a team, whose cases nobody could open then."""
    if officer.active == active:
        return
    if not active:
        _refuse_if_last_holder(db, officer)
    officer.active = active
    db.flush()
    audit.append(db, actor, "officer.activate" if active else "officer.deactivate",
                 f"officer:{officer.id}")


def create_first_admin(db: Session, username: str = "admin",
                       display_name: str = "Administrator") -> tuple[Officer, str]:
    """Bootstrap for ``whistle init`` / ``whistle create-admin``: no default password anywhere,
    only a one-time enrolment secret printed to the operator's terminal."""
    return create_officer(db, "cli", username, display_name, Role.ADMIN, None)


# -- enrolment -----------------------------------------------------------------------------

def find_enrolment(db: Session, username: str, secret: str) -> Officer | None:
    """The account this (username, enrolment secret) pair opens, if valid and unexpired."""
    officer = db.scalar(select(Officer).where(
        func.lower(Officer.username) == normalise_username(username)))
    digest = _secret_digest(secret)
    stored = officer.enrolment_hash if officer is not None else None
    # Compare even for a missing account so the answer time does not reveal the username.
    match = hmac.compare_digest(stored or bytes(32), digest)
    if officer is None or stored is None or not match or not officer.active:
        return None
    if officer.enrolment_expires_at is None or officer.enrolment_expires_at <= now():
        return None
    return officer


@dataclass(frozen=True)
class EnrolmentResult:
    officer: Officer
    private_key: PrivateKey


def complete_enrolment(db: Session, officer_id: int, enrolment_digest: bytes, passphrase: str,
                       totp_secret: str, code: str, totp_key: bytes) -> EnrolmentResult:
    """Finish enrolment: new keypair sealed under the passphrase, TOTP secret sealed at rest.

    ``enrolment_digest`` is re-checked so a secret reset by the admin meanwhile is not used.
    """
    officer = db.get(Officer, officer_id)
    at = now()
    if (officer is None or not officer.active or officer.enrolment_hash is None
            or not hmac.compare_digest(officer.enrolment_hash, enrolment_digest)
            or officer.enrolment_expires_at is None or officer.enrolment_expires_at <= at):
        raise AccountError(N_("The enrolment secret is no longer valid. Ask the administrator for a new one."))
    problems = passphrase_problems(passphrase, officer.username)
    if problems:
        raise AccountError(problems[0].msgid, **problems[0].params)
    step = totp.match_step(totp_secret, code, at, 0)
    if step is None:
        raise AccountError(N_("The code from the authenticator app is not right. Check the phone's clock and try again."))
    key = PrivateKey.generate()
    officer.public_key = key.public_key().to_bytes()
    officer.sealed_private_key = crypto.seal_private_key(key, passphrase)
    officer.passphrase_hash = None  # the sealed key is the verifier (one Argon2 per log-in)
    officer.totp_secret_enc = totp.seal_secret(totp_key, officer.id, totp_secret)
    officer.totp_last_step = step  # the confirmation code cannot be replayed at log-in
    officer.enrolment_hash = None
    officer.enrolment_expires_at = None
    officer.enrolled_at = at.replace(microsecond=0)
    officer.failed_logins = 0
    officer.throttle_until = None
    db.flush()
    audit.append(db, actor_of(officer), "officer.enrol", f"officer:{officer.id}",
                 f"key={key.public_key().fingerprint()}")
    return EnrolmentResult(officer, key)


def enrolment_digest(secret: str) -> bytes:
    return _secret_digest(secret)


# -- log-in --------------------------------------------------------------------------------

_dummy_blobs: dict[_kdf.Argon2Params, bytes] = {}


def _dummy_sealed() -> bytes:
    """A sealed key nobody can open, made with the current passphrase parameters."""
    params = _kdf.passphrase_default()
    blob = _dummy_blobs.get(params)
    if blob is None:
        from crypto import SUITE_X25519
        blob = crypto.seal_private_key(PrivateKey.generate(SUITE_X25519),
                                       secrets.token_urlsafe(24), params)
        _dummy_blobs[params] = blob
    return blob


def _burn(passphrase: str) -> None:
    try:
        crypto.open_sealed_key(_dummy_sealed(), passphrase or "-")
    except WrongPassphrase:
        pass


def throttle_delay(failures: int) -> timedelta | None:
    if failures < THROTTLE_AFTER:
        return None
    return min(timedelta(minutes=2 ** (failures - THROTTLE_AFTER)), THROTTLE_CAP)


def is_throttled(officer: Officer, at: datetime) -> bool:
    return officer.throttle_until is not None and officer.throttle_until > at


def _record_failure(db: Session, officer: Officer, at: datetime) -> None:
    # Atomic increment: parallel guesses must each count.
    db.execute(update(Officer).where(Officer.id == officer.id)
               .values(failed_logins=Officer.failed_logins + 1))
    db.refresh(officer, ["failed_logins"])
    delay = throttle_delay(officer.failed_logins)
    if delay is not None:
        officer.throttle_until = at + delay
    db.flush()
    audit.append(db, "system", "login.fail", f"officer:{officer.id}",
                 f"failures={officer.failed_logins}")


@dataclass(frozen=True)
class LoginResult:
    officer: Officer
    private_key: PrivateKey


def authenticate(db: Session, username: str, passphrase: str, code: str,
                 totp_key: bytes) -> LoginResult | None:
    """Check passphrase then TOTP. ``None`` for every kind of failure (one message for all)."""
    at = now()
    officer = db.scalar(select(Officer).where(
        func.lower(Officer.username) == normalise_username(username)))
    if (officer is None or not officer.active or officer.sealed_private_key is None
            or officer.totp_secret_enc is None or is_throttled(officer, at)):
        _burn(passphrase)
        return None
    try:
        key = crypto.open_sealed_key(officer.sealed_private_key, passphrase or "-")
    except WrongPassphrase:
        _record_failure(db, officer, at)
        return None
    secret = totp.open_secret(totp_key, officer.id, officer.totp_secret_enc)
    step = totp.match_step(secret, code, at, officer.totp_last_step)
    # Conditional update so two parallel log-ins cannot both spend the same code.
    # Session.execute is typed as Result; a bulk UPDATE returns a CursorResult (rowcount).
    claimed = step is not None and cast(CursorResult[Any], db.execute(
        update(Officer).where(Officer.id == officer.id, Officer.totp_last_step < step)
        .values(totp_last_step=step))).rowcount == 1
    if not claimed:
        _record_failure(db, officer, at)
        return None
    db.refresh(officer, ["totp_last_step"])
    officer.failed_logins = 0
    officer.throttle_until = None
    if crypto.needs_reseal(officer.sealed_private_key):
        # Parameters were raised since this key was sealed; upgrade while the passphrase is here.
        officer.sealed_private_key = crypto.seal_private_key(key, passphrase)
    db.flush()
    audit.append(db, actor_of(officer), "login.ok", f"officer:{officer.id}")
    return LoginResult(officer, key)
