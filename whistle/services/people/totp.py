"""TOTP (RFC 6238) for officers: secrets encrypted at rest, replay-proof checks, QR as PNG.

The secret is stored encrypted under the instance's ``totp_key`` (instance/secrets/totp_key),
never in the database in clear, so a database copy cannot mint codes. The associated data names
the officer row, so a blob moved to another officer does not open.

A code is accepted for the current 30-second step and one step either side (clock drift), and
only if its step is *later* than the last accepted one: a code seen over a shoulder, or replayed
from a proxy log, is refused even inside its validity window.
"""
from __future__ import annotations

import hmac
import io
from datetime import datetime

import pyotp
import segno

import crypto

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
ISSUER = "Whistle"


def new_secret() -> str:
    """160 random bits as base32 (RFC 4226's recommended length), for authenticator apps."""
    return pyotp.random_base32(32)


def _aad(officer_id: int) -> bytes:
    return f"whistle/totp|officer:{officer_id}".encode()


def seal_secret(totp_key: bytes, officer_id: int, secret: str) -> bytes:
    return crypto.encrypt(totp_key, secret.encode("ascii"), aad=_aad(officer_id))


def open_secret(totp_key: bytes, officer_id: int, blob: bytes) -> str:
    return crypto.decrypt(totp_key, blob, aad=_aad(officer_id)).decode("ascii")


def step_of(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def code_at_step(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def normalise_code(code: str) -> str:
    # Authenticator apps show "123 456"; people type it that way.
    return "".join(ch for ch in code if not ch.isspace())


def match_step(secret: str, code: str, now: datetime, last_step: int) -> int | None:
    """The step the code belongs to (within ±DRIFT_STEPS, strictly after ``last_step``), or None.

    Every candidate is compared in constant time and the loop never exits early, so timing
    does not tell which window matched.
    """
    code = normalise_code(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    current = step_of(now)
    found: int | None = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        ok = hmac.compare_digest(code_at_step(secret, step).encode(), code.encode())
        if ok and step > last_step and found is None:
            found = step
    return found


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=ISSUER)


def qr_png(secret: str, username: str) -> bytes:
    """The otpauth URI as a PNG rendered here: no JavaScript, no SVG, no third-party service."""
    buf = io.BytesIO()
    segno.make(provisioning_uri(secret, username), error="m").save(
        buf, kind="png", scale=6, border=4)
    return buf.getvalue()


def group_secret(secret: str) -> str:
    """Base32 secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
