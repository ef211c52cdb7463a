"""Typed exceptions for the crypto package.

Every failure raised by ``crypto`` is a :class:`CryptoError`, so callers can catch one
type at a boundary.  The hierarchy is chosen so that *anything* that prevents a blob from
opening -- a flipped bit, a truncated blob, an unknown version byte -- is a
:class:`DecryptionError`: a caller that catches ``DecryptionError`` around ``decrypt`` never
misses a tamper case just because the damage happened to hit the header.

    CryptoError
    ├── DecryptionError          authentication failed / blob cannot be opened
    │   ├── WrongPassphrase      sealed key or ticket-derived key did not open
    │   ├── StreamError          STREAM file: tamper, truncation, reordering, trailing data
    │   └── MalformedBlob        structurally invalid (length, field ranges)
    │       ├── UnsupportedVersion   unknown version byte
    │       └── UnsupportedSuite     unknown suite / format byte
    ├── TicketTypo               a ticket the user typed is not well-formed
    └── ShareError               Shamir shares cannot be combined into the committed secret

Messages never contain secret material (keys, plaintext, tickets).
"""

from __future__ import annotations

__all__ = [
    "CryptoError",
    "DecryptionError",
    "WrongPassphrase",
    "StreamError",
    "MalformedBlob",
    "UnsupportedVersion",
    "UnsupportedSuite",
    "TicketTypo",
    "ShareError",
]


class CryptoError(Exception):
    """Base class of every error raised by ``crypto``."""


class DecryptionError(CryptoError):
    """A ciphertext could not be authenticated/opened (wrong key, wrong AAD, tampering)."""


class WrongPassphrase(DecryptionError):
    """A passphrase- or ticket-derived key failed to open its blob."""


class StreamError(DecryptionError):
    """A STREAM-encrypted file is tampered, truncated, reordered or has trailing data."""


class MalformedBlob(DecryptionError):
    """A serialised object is structurally invalid (bad length, out-of-range field)."""


class UnsupportedVersion(MalformedBlob):
    """The version byte of a serialised object is not one this code understands."""


class UnsupportedSuite(MalformedBlob):
    """The suite / format byte of a serialised object is not one this code understands."""


class TicketTypo(CryptoError):
    """A typed ticket has a bad character, wrong length or wrong check symbol."""


class ShareError(CryptoError):
    """Secret shares are invalid, mixed, duplicated, too few, or fail the commitment."""
