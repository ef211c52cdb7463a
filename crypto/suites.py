"""Version / suite / format identifiers and HPKE suite objects.

Every serialised object starts with ``VERSION`` (0x01) followed by one *suite or format*
byte taken from a single registry, so a blob of one kind fed to the parser of another kind
fails with ``UnsupportedSuite`` instead of being misinterpreted:

    0x01  HPKE  hybrid KEM ML-KEM-768 + X25519, HKDF-SHA256, AES-256-GCM (default)
    0x02  HPKE  DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM
    0x10  symmetric secretbox: AES-256-GCM, 96-bit random nonce
    0x11  STREAM file encryption: HKDF-SHA256 + AES-256-GCM, 64 KiB chunks
    0x20  Shamir share over GF(2^8) with HMAC-SHA256 commitment
    0x30  sealed private key: Argon2id + AES-256-GCM
    0x40  multi-recipient envelope

See ``crypto/SPEC.md`` for the byte layouts.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hpke

from .errors import MalformedBlob, UnsupportedSuite, UnsupportedVersion

__all__ = [
    "VERSION",
    "SUITE_MLKEM768_X25519",
    "SUITE_X25519",
    "HPKE_SUITES",
    "FORMAT_AEAD",
    "FORMAT_STREAM",
    "FORMAT_SHARE",
    "FORMAT_SEALED_KEY",
    "FORMAT_ENVELOPE",
    "FORMAT_KDF_PARAMS",
    "hpke_suite",
    "check_header",
]

VERSION = 0x01

SUITE_MLKEM768_X25519 = 0x01
SUITE_X25519 = 0x02
HPKE_SUITES = (SUITE_MLKEM768_X25519, SUITE_X25519)

FORMAT_AEAD = 0x10
FORMAT_STREAM = 0x11
FORMAT_SHARE = 0x20
FORMAT_SEALED_KEY = 0x30
FORMAT_ENVELOPE = 0x40
FORMAT_KDF_PARAMS = 0x50

# Built once: Suite objects are immutable and cheap to share.
_HPKE: dict[int, hpke.Suite] = {
    SUITE_MLKEM768_X25519: hpke.Suite(
        hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM
    ),
    SUITE_X25519: hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
}

# Length of the KEM encapsulation ("enc") per suite, from the KEM itself.
HPKE_ENC_LEN: dict[int, int] = {
    SUITE_MLKEM768_X25519: hpke.KEM.MLKEM768_X25519.enc_length(),  # 1120
    SUITE_X25519: hpke.KEM.X25519.enc_length(),  # 32
}


def hpke_suite(suite: int) -> hpke.Suite:
    """Return the HPKE ``Suite`` for a suite byte, or raise ``UnsupportedSuite``."""
    try:
        return _HPKE[suite]
    except KeyError:
        raise UnsupportedSuite(f"unknown HPKE suite 0x{suite:02x}") from None


def check_header(data: bytes, expected: tuple[int, ...] | int, what: str) -> int:
    """Validate ``VERSION || suite`` at the start of ``data`` and return the suite byte.

    Raises ``MalformedBlob`` if shorter than 2 bytes, ``UnsupportedVersion`` for an unknown
    version byte, ``UnsupportedSuite`` if the suite byte is not in ``expected``.
    """
    if len(data) < 2:
        raise MalformedBlob(f"{what}: too short")
    if data[0] != VERSION:
        raise UnsupportedVersion(f"{what}: unsupported version 0x{data[0]:02x}")
    allowed = (expected,) if isinstance(expected, int) else expected
    if data[1] not in allowed:
        raise UnsupportedSuite(f"{what}: unsupported suite/format 0x{data[1]:02x}")
    return data[1]
