"""Passphrase-sealed private keys (officer keys).

The Argon2id parameters and salt are stored *in* the blob, so the defaults can be raised
later: old blobs keep opening with their own parameters and :func:`reseal` (or
:func:`needs_reseal` at login) upgrades them.

Layout (SPEC.md "Sealed private key")::

    0x01 | 0x30 | memory_kib u32be | iterations u32be | lanes u32be | salt (16)
         | symmetric blob (crypto.aead: 0x01 0x10 nonce ct tag)

The symmetric blob's AAD is the 30-byte prefix above, so parameters and salt are
authenticated: editing them makes the blob fail to open rather than quietly weakening it.
A wrong passphrase and a tampered blob are indistinguishable; both raise
:class:`WrongPassphrase`.  Both run exactly one Argon2id derivation with the blob's
parameters, so timing does not separate a right from a wrong passphrase.
"""

from __future__ import annotations

import secrets
import struct
import unicodedata

from . import aead, kdf
from .compare import require_bytes
from .errors import DecryptionError, MalformedBlob, WrongPassphrase
from .kdf import Argon2Params
from .keys import PrivateKey
from .suites import FORMAT_SEALED_KEY, VERSION, check_header

__all__ = [
    "seal_private_key",
    "open_sealed_key",
    "reseal",
    "sealed_params",
    "needs_reseal",
    "encode_passphrase",
]

SALT_SIZE = 16
_PARAMS = struct.Struct(">III")
PREFIX_SIZE = 2 + _PARAMS.size + SALT_SIZE  # 30


def encode_passphrase(passphrase: str) -> bytes:
    """UTF-8 of the NFC-normalised passphrase (same text typed on any keyboard -> same bytes)."""
    if not isinstance(passphrase, str):
        raise TypeError("passphrase must be str")
    if not passphrase:
        raise ValueError("passphrase must not be empty")
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def _parse(blob: bytes) -> tuple[Argon2Params, bytes, bytes, bytes]:
    """Return (params, salt, prefix, inner aead blob) or raise MalformedBlob/Unsupported*."""
    blob = require_bytes(blob, "blob")
    check_header(blob, FORMAT_SEALED_KEY, "sealed key")
    if len(blob) < PREFIX_SIZE + aead.OVERHEAD:
        raise MalformedBlob("sealed key: too short")
    memory_kib, iterations, lanes = _PARAMS.unpack_from(blob, 2)
    try:
        params = Argon2Params(memory_kib=memory_kib, iterations=iterations, lanes=lanes)
    except ValueError as exc:
        raise MalformedBlob(f"sealed key: bad Argon2 parameters ({exc})") from None
    salt = blob[2 + _PARAMS.size : PREFIX_SIZE]
    return params, salt, blob[:PREFIX_SIZE], blob[PREFIX_SIZE:]


def seal_private_key(
    key: PrivateKey, passphrase: str, params: Argon2Params | None = None
) -> bytes:
    """Seal ``key`` under Argon2id(passphrase); ``params`` default: ``kdf.PASSPHRASE_DEFAULT``."""
    if not isinstance(key, PrivateKey):
        raise TypeError("key must be a PrivateKey")
    params = params or kdf.passphrase_default()
    salt = secrets.token_bytes(SALT_SIZE)
    prefix = (
        bytes([VERSION, FORMAT_SEALED_KEY])
        + _PARAMS.pack(params.memory_kib, params.iterations, params.lanes)
        + salt
    )
    wrapping_key = kdf.derive_key(encode_passphrase(passphrase), salt, params)
    return prefix + aead.encrypt(wrapping_key, key.to_bytes(), aad=prefix)


def open_sealed_key(blob: bytes, passphrase: str) -> PrivateKey:
    """Open a sealed key; :class:`WrongPassphrase` if the passphrase (or blob) is wrong."""
    params, salt, prefix, inner = _parse(blob)
    wrapping_key = kdf.derive_key(encode_passphrase(passphrase), salt, params)
    try:
        raw = aead.decrypt(wrapping_key, inner, aad=prefix)
    except DecryptionError:
        raise WrongPassphrase("sealed key: wrong passphrase") from None
    return PrivateKey.from_bytes(raw)


def sealed_params(blob: bytes) -> Argon2Params:
    """The Argon2 parameters a sealed blob was made with (no passphrase needed)."""
    return _parse(blob)[0]


def needs_reseal(blob: bytes, params: Argon2Params | None = None) -> bool:
    """True if the blob is weaker than ``params`` (default: current passphrase default) in
    any dimension; call at login, when the passphrase is at hand, then :func:`reseal`."""
    have = sealed_params(blob)
    want = params or kdf.passphrase_default()
    return have.memory_kib < want.memory_kib or have.iterations < want.iterations


def reseal(blob: bytes, old: str, new: str, params: Argon2Params | None = None) -> bytes:
    """Re-seal under passphrase ``new`` (may equal ``old``) with fresh salt and ``params``.

    ``params`` default: the current passphrase default.  Raises :class:`WrongPassphrase` if
    ``old`` is wrong.  The private key itself is unchanged (no re-wrapping needed elsewhere).
    """
    key = open_sealed_key(blob, old)
    return seal_private_key(key, new, params)
