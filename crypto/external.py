"""Encryption to another agency's key, in formats they open without whistle installed.

A referral package leaves the service for an agency that holds either an ``age`` X25519
recipient (``age1...``) or an OpenPGP certificate. Neither format is ours: they are the age
v1 format (through pyrage, the age reference implementation's Rust port) and OpenPGP
(RFC 9580 / 4880, through Sequoia's Python binding), so the agency uses ``age -d`` or
``gpg --decrypt``. Nothing here is a new construction; this module only parses the pasted key
into a recipient, names it by a fingerprint a person can compare, and encrypts.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from .errors import CryptoError

AGE = "age"
OPENPGP = "openpgp"
KINDS = (AGE, OPENPGP)
MAX_KEY_TEXT = 64 * 1024  # an armoured certificate with a few subkeys fits easily


class RecipientError(CryptoError):
    """The pasted key is not an age recipient or an OpenPGP certificate with an encryption key."""


@dataclass(frozen=True)
class Recipient:
    """A parsed external recipient. ``fingerprint`` is what the officer compares aloud."""

    kind: str
    text: str  # normalised key text as pasted (public material only)
    fingerprint: str
    label: str  # the OpenPGP user id, or the age recipient abbreviated

    def encrypt(self, data: bytes) -> bytes:
        """The ciphertext as the agency's standard tool reads it (binary age / armoured PGP)."""
        if self.kind == AGE:
            import pyrage

            return bytes(pyrage.encrypt(data, [_age_recipient(self.text)]))
        import pysequoia

        cert = pysequoia.Cert.from_bytes(self.text.encode())
        return bytes(pysequoia.encrypt(data, [cert], armor=True))

    @property
    def suffix(self) -> str:
        return ".age" if self.kind == AGE else ".pgp"


def _age_recipient(text: str) -> Any:
    import pyrage

    try:
        return pyrage.x25519.Recipient.from_str(text)
    except Exception as exc:  # pyrage raises its own RecipientError / ValueError
        raise RecipientError("not an age X25519 recipient") from exc


def parse_recipient(text: str) -> Recipient:
    """An ``age1...`` recipient or an armoured / binary OpenPGP certificate; else RecipientError."""
    text = (text or "").strip()
    if not text:
        raise RecipientError("empty key")
    if len(text) > MAX_KEY_TEXT:
        raise RecipientError("key too long")
    if text.startswith("age1"):
        if any(ch.isspace() for ch in text):
            raise RecipientError("give exactly one age recipient")
        _age_recipient(text)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16].upper()
        return Recipient(AGE, text, " ".join(digest[i:i + 4] for i in range(0, 16, 4)),
                         f"{text[:12]}\u2026{text[-6:]}")
    if "PRIVATE KEY BLOCK" in text:
        # A pasted secret key is a mistake that must be neither stored nor used.
        raise RecipientError("this is a secret key; paste the public key")
    if "BEGIN PGP PUBLIC KEY BLOCK" in text:
        import pysequoia

        try:
            cert = pysequoia.Cert.from_bytes(text.encode())
        except Exception as exc:
            raise RecipientError("not a readable OpenPGP certificate") from exc
        if cert.is_revoked:
            raise RecipientError("the certificate is revoked")
        try:
            pysequoia.encrypt(b"probe", [cert])
        except Exception as exc:
            raise RecipientError("the certificate has no usable encryption key") from exc
        fpr = str(cert.fingerprint).upper()
        uids = [str(u) for u in cert.user_ids]
        return Recipient(OPENPGP, text, " ".join(fpr[i:i + 4] for i in range(0, len(fpr), 4)),
                         uids[0] if uids else fpr[-16:])
    raise RecipientError("paste an age recipient (age1...) or an OpenPGP public key block")
