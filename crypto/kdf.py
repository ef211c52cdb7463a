"""Argon2id key derivation (RFC 9106) for anything derived from a human secret.

Parameters travel *with* the data they protect (sealed keys store them in the blob), so
defaults can be raised later without breaking old blobs: old blobs still open with their own
parameters and ``reseal`` upgrades them.

Defaults:

* ``PASSPHRASE_DEFAULT`` = 64 MiB, t=3, p=4 -- RFC 9106 section 4 "second recommended option"
  (64 MiB, t=3); used for officer passphrases, which are low-entropy and worth protecting
  with a deliberately slow (~100+ ms) derivation.
* ``TICKET_DEFAULT`` -- tickets carry 95 bits of randomness, so stretching adds little; it is
  tuned to cost <= ~20 ms of CPU on the reference machine because a reporter-key derivation
  runs on every reporter login *and* on every miss (dummy derivation), i.e. it is on the
  unauthenticated request path.  See SECURITY.md "Ticket strength" for the arithmetic.

Module defaults are looked up **at call time** by every function in this package (never bound
as Python default arguments), so tests can make Argon2 cheap with :func:`set_test_params` /
``monkeypatch.setattr(crypto.kdf, "PASSPHRASE_DEFAULT", ...)``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw

from .compare import require_bytes
from .errors import MalformedBlob
from .suites import FORMAT_KDF_PARAMS, VERSION, check_header

__all__ = [
    "Argon2Params",
    "PASSPHRASE_DEFAULT",
    "TICKET_DEFAULT",
    "TEST_PARAMS",
    "KEY_SIZE",
    "MIN_SALT_SIZE",
    "derive_key",
    "set_test_params",
    "passphrase_default",
    "ticket_default",
    "encode_params",
    "decode_params",
]

KEY_SIZE = 32
MIN_SALT_SIZE = 16

# Upper bounds accepted when *parsing* parameters from a blob: a forged blob must not be able
# to make us allocate 4 TiB or spin for an hour (denial of service).
MAX_MEMORY_KIB = 4 * 1024 * 1024  # 4 GiB
MAX_ITERATIONS = 64
MAX_LANES = 64


@dataclass(frozen=True)
class Argon2Params:
    """Argon2id cost parameters: memory in KiB, passes over memory, parallel lanes."""

    memory_kib: int
    iterations: int
    lanes: int

    def __post_init__(self) -> None:
        for name in ("memory_kib", "iterations", "lanes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be int")
        if not 1 <= self.lanes <= MAX_LANES:
            raise ValueError(f"lanes must be in 1..{MAX_LANES}")
        if not 1 <= self.iterations <= MAX_ITERATIONS:
            raise ValueError(f"iterations must be in 1..{MAX_ITERATIONS}")
        # Argon2 requires at least 8 KiB per lane.
        if not 8 * self.lanes <= self.memory_kib <= MAX_MEMORY_KIB:
            raise ValueError(f"memory_kib must be in {8 * self.lanes}..{MAX_MEMORY_KIB}")


# RFC 9106 second recommendation: 64 MiB, t=3 (p=4 as in the RFC's example).
PASSPHRASE_DEFAULT = Argon2Params(memory_kib=65536, iterations=3, lanes=4)
# Tuned on the reference machine (bench/bench_crypto.py, SECURITY.md "Ticket strength").
TICKET_DEFAULT = Argon2Params(memory_kib=16384, iterations=2, lanes=1)  # ~15 ms CPU
# Deliberately weak parameters for test suites only.
TEST_PARAMS = Argon2Params(memory_kib=8, iterations=1, lanes=1)


def passphrase_default() -> Argon2Params:
    """Current passphrase default (read at call time so tests can lower it)."""
    return PASSPHRASE_DEFAULT


def ticket_default() -> Argon2Params:
    """Current ticket default (read at call time so tests can lower it)."""
    return TICKET_DEFAULT


def set_test_params(
    passphrase: Argon2Params = TEST_PARAMS, ticket: Argon2Params = TEST_PARAMS
) -> tuple[Argon2Params, Argon2Params]:
    """TESTS ONLY: replace both module defaults; returns the previous ``(passphrase, ticket)``.

    Prefer a pytest fixture with ``monkeypatch.setattr`` so the change is undone
    automatically.  Never call this from service code.
    """
    global PASSPHRASE_DEFAULT, TICKET_DEFAULT
    previous = (PASSPHRASE_DEFAULT, TICKET_DEFAULT)
    PASSPHRASE_DEFAULT, TICKET_DEFAULT = passphrase, ticket
    return previous


def derive_key(secret: bytes, salt: bytes, params: Argon2Params) -> bytes:
    """Argon2id(secret, salt, params) -> 32-byte key (version 0x13, no secret key/AD)."""
    secret = require_bytes(secret, "secret")
    salt = require_bytes(salt, "salt")
    if len(salt) < MIN_SALT_SIZE:
        raise ValueError(f"salt must be at least {MIN_SALT_SIZE} bytes")
    if not isinstance(params, Argon2Params):
        raise TypeError("params must be Argon2Params")
    return hash_secret_raw(
        secret=secret,
        salt=salt,
        time_cost=params.iterations,
        memory_cost=params.memory_kib,
        parallelism=params.lanes,
        hash_len=KEY_SIZE,
        type=Type.ID,
    )


_PARAMS = struct.Struct(">III")
PARAMS_RECORD_SIZE = 2 + _PARAMS.size  # 14


def encode_params(params: Argon2Params) -> bytes:
    """``0x01 | 0x50 | m u32be | t u32be | p u32be``: records which cost derived a key.

    Stored beside anything derived with a *default* (e.g. each case's reporter key) so the
    default can be raised later while old tickets keep opening with their own cost.
    """
    if not isinstance(params, Argon2Params):
        raise TypeError("params must be Argon2Params")
    return bytes([VERSION, FORMAT_KDF_PARAMS]) + _PARAMS.pack(
        params.memory_kib, params.iterations, params.lanes
    )


def decode_params(record: bytes) -> Argon2Params:
    """Inverse of :func:`encode_params`; ``MalformedBlob`` / ``Unsupported*`` on a bad record."""
    record = require_bytes(record, "record")
    check_header(record, FORMAT_KDF_PARAMS, "kdf params")
    if len(record) != PARAMS_RECORD_SIZE:
        raise MalformedBlob("kdf params: wrong length")
    memory_kib, iterations, lanes = _PARAMS.unpack_from(record, 2)
    try:
        return Argon2Params(memory_kib=memory_kib, iterations=iterations, lanes=lanes)
    except ValueError as exc:
        raise MalformedBlob(f"kdf params: {exc}") from None
