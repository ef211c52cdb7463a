"""Symmetric "secretbox": AES-256-GCM with a versioned blob and mandatory associated data.

Blob layout (see SPEC.md, "Symmetric blob")::

    0x01 | 0x10 | nonce (12 bytes, random) | ciphertext || tag (16 bytes)

The GCM associated data is ``header (2 bytes) || aad``.  Binding the header means a blob
relabelled with another version/format byte fails authentication; binding the caller's
``aad`` (e.g. ``b"case:<id>|field:<name>"``) means a ciphertext moved to another record or
field fails too.

Random 96-bit nonces are safe here because each key encrypts few messages (a case key
encrypts at most thousands of fields/messages; the NIST limit for random nonces is 2^32).
Large files use :mod:`crypto.stream` instead.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .compare import require_bytes
from .errors import DecryptionError, MalformedBlob
from .suites import FORMAT_AEAD, VERSION, check_header

__all__ = ["KEY_SIZE", "NONCE_SIZE", "TAG_SIZE", "OVERHEAD", "generate_key", "encrypt", "decrypt"]

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
_HEADER = bytes([VERSION, FORMAT_AEAD])
OVERHEAD = len(_HEADER) + NONCE_SIZE + TAG_SIZE  # 30 bytes


def generate_key() -> bytes:
    """Return a fresh random 256-bit key (from ``secrets``, i.e. the OS CSPRNG)."""
    return secrets.token_bytes(KEY_SIZE)


def _check_key(key: object) -> bytes:
    key = require_bytes(key, "key")
    if len(key) != KEY_SIZE:
        raise ValueError(f"key must be {KEY_SIZE} bytes, got {len(key)}")
    return key


def encrypt(key: bytes, plaintext: bytes, *, aad: bytes) -> bytes:
    """Encrypt ``plaintext`` under ``key``; ``aad`` is authenticated, not encrypted.

    ``aad`` is keyword-only and required: every ciphertext in whistle names what it is
    (case id + field name), so forgetting it must be a TypeError, not a silent default.
    """
    key = _check_key(key)
    plaintext = require_bytes(plaintext, "plaintext")
    aad = require_bytes(aad, "aad")
    nonce = secrets.token_bytes(NONCE_SIZE)
    return _HEADER + nonce + AESGCM(key).encrypt(nonce, plaintext, _HEADER + aad)


def decrypt(key: bytes, blob: bytes, *, aad: bytes) -> bytes:
    """Inverse of :func:`encrypt`.

    Raises :class:`DecryptionError` (or its subclasses ``MalformedBlob`` /
    ``UnsupportedVersion`` / ``UnsupportedSuite``) on any tamper, wrong key or wrong aad.
    """
    key = _check_key(key)
    blob = require_bytes(blob, "blob")
    aad = require_bytes(aad, "aad")
    check_header(blob, FORMAT_AEAD, "symmetric blob")
    if len(blob) < OVERHEAD:
        raise MalformedBlob("symmetric blob: too short")
    nonce = blob[2 : 2 + NONCE_SIZE]
    try:
        return AESGCM(key).decrypt(nonce, blob[2 + NONCE_SIZE :], _HEADER + aad)
    except InvalidTag:
        raise DecryptionError("symmetric blob: authentication failed") from None
