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
from .kdf import (
    PASSPHRASE_DEFAULT,
    TICKET_DEFAULT,
    Argon2Params,
    decode_params,
    derive_key,
    encode_params,
)
from .envelope import Envelope
from .keys import PrivateKey, PublicKey
from .sealed import needs_reseal, open_sealed_key, reseal, seal_private_key, sealed_params
from .shares import Share, combine_shares, split_secret
from .stream import (
    StreamEncryptor,
    decrypt_stream,
    encrypt_stream,
    encrypted_size,
    iter_decrypt,
)
from .suites import SUITE_MLKEM768_X25519, SUITE_X25519, VERSION
from .tickets import (
    dummy_reporter_key,
    new_ticket,
    parse_ticket,
    reporter_key,
    ticket_lookup_id,
)

__all__ = [
    "VERSION",
    "SUITE_MLKEM768_X25519",
    "SUITE_X25519",
    # errors
    "CryptoError",
    "DecryptionError",
    "WrongPassphrase",
    "StreamError",
    "MalformedBlob",
    "UnsupportedVersion",
    "UnsupportedSuite",
    "TicketTypo",
    "ShareError",
    # symmetric
    "generate_key",
    "encrypt",
    "decrypt",
    # Argon2id
    "Argon2Params",
    "PASSPHRASE_DEFAULT",
    "TICKET_DEFAULT",
    "derive_key",
    "encode_params",
    "decode_params",
    # HPKE keys
    "PrivateKey",
    "PublicKey",
    # sealed private keys
    "seal_private_key",
    "open_sealed_key",
    "reseal",
    "sealed_params",
    "needs_reseal",
    # envelopes
    "Envelope",
    # shares
    "Share",
    "split_secret",
    "combine_shares",
    # tickets
    "new_ticket",
    "parse_ticket",
    "ticket_lookup_id",
    "reporter_key",
    "dummy_reporter_key",
    # streams
    "encrypt_stream",
    "decrypt_stream",
    "iter_decrypt",
    "StreamEncryptor",
    "encrypted_size",
    # helpers
    "constant_time_equal",
]
