"""whistle cryptography: the only place that touches primitives.

Import everything from here (``from crypto import encrypt, PrivateKey, ...``); the public API
is described in docs/ARCHITECTURE.md and the byte formats in crypto/SPEC.md.
"""

from __future__ import annotations

from .aead import decrypt, encrypt, generate_key
from .compare import constant_time_equal
from .errors import (
    CryptoError,
    DecryptionError,
    MalformedBlob,
    ShareError,
    StreamError,
    TicketTypo,
    UnsupportedSuite,
    UnsupportedVersion,
    WrongPassphrase,
)
from .kdf import PASSPHRASE_DEFAULT, TICKET_DEFAULT, Argon2Params, derive_key
from .suites import SUITE_MLKEM768_X25519, SUITE_X25519, VERSION

__all__ = [
    "VERSION",
    "SUITE_MLKEM768_X25519",
    "SUITE_X25519",
    "CryptoError",
    "DecryptionError",
    "WrongPassphrase",
    "StreamError",
    "MalformedBlob",
    "UnsupportedVersion",
    "UnsupportedSuite",
    "TicketTypo",
    "ShareError",
    "generate_key",
    "encrypt",
    "decrypt",
    "Argon2Params",
    "PASSPHRASE_DEFAULT",
    "TICKET_DEFAULT",
    "derive_key",
    "constant_time_equal",
]
