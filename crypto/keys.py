"""HPKE (RFC 9180) key pairs with versioned serialisation, and wrap/unwrap of short secrets.

Two suites (see :mod:`crypto.suites`):

* ``SUITE_MLKEM768_X25519`` (0x01, default): hybrid post-quantum KEM.  A ciphertext recorded
  today stays sealed unless *both* ML-KEM-768 and X25519 are broken.
* ``SUITE_X25519`` (0x02): classical DHKEM(X25519), smaller, for interop/tests.

``cryptography``'s ``MLKEM768X25519PrivateKey`` has no serialisation, so a
:class:`PrivateKey` keeps the component keys (ML-KEM-768 64-byte seed, X25519 32-byte
scalar) and builds the hybrid object on demand.

Byte layouts (SPEC.md "Keys", "Wrapped secret")::

    public key : 0x01 | suite | 0x50 ('P') | body
    private key: 0x01 | suite | 0x53 ('S') | body
    wrapped    : 0x01 | suite | HPKE enc | HPKE ciphertext||tag

The kind byte (P/S) stops an X25519 private key (same length as a public one) from ever
being accepted where a public key is expected, e.g. if columns are mixed up.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

from .compare import require_bytes
from .errors import DecryptionError, MalformedBlob
from .suites import (
    HPKE_ENC_LEN,
    HPKE_SUITES,
    SUITE_MLKEM768_X25519,
    SUITE_X25519,
    VERSION,
    check_header,
    hpke_suite,
)

__all__ = ["PrivateKey", "PublicKey", "KIND_PUBLIC", "KIND_PRIVATE"]

KIND_PUBLIC = 0x50  # 'P'
KIND_PRIVATE = 0x53  # 'S'

MLKEM768_PUBLIC_LEN = 1184
MLKEM768_SEED_LEN = 64
X25519_LEN = 32
HPKE_TAG_LEN = 16

_PUBLIC_BODY_LEN = {
    SUITE_MLKEM768_X25519: MLKEM768_PUBLIC_LEN + X25519_LEN,
    SUITE_X25519: X25519_LEN,
}
_PRIVATE_BODY_LEN = {
    SUITE_MLKEM768_X25519: MLKEM768_SEED_LEN + X25519_LEN,
    SUITE_X25519: X25519_LEN,
}

_HpkePub = hpke.MLKEM768X25519PublicKey | x25519.X25519PublicKey
_HpkePriv = hpke.MLKEM768X25519PrivateKey | x25519.X25519PrivateKey


def _check_context(context: object) -> bytes:
    context = require_bytes(context, "context")
    if not context:
        # An empty context would let a wrapped secret be replayed into any slot.
        raise ValueError("context must be non-empty (e.g. b'whistle/case-key/<case_id>')")
    return context


def _hpke_info(suite: int, context: bytes) -> bytes:
    # Bind the blob header into HPKE's info so that version/suite are authenticated too.
    return bytes([VERSION, suite]) + context


class PublicKey:
    """An HPKE public key. Safe to store and publish."""

    __slots__ = ("_suite", "_mlkem", "_x25519", "_hpke", "_bytes")

    def __init__(
        self,
        suite: int,
        x25519_key: x25519.X25519PublicKey,
        mlkem_key: mlkem.MLKEM768PublicKey | None = None,
    ) -> None:
        """Internal: use :meth:`PrivateKey.public_key` or :meth:`from_bytes`."""
        if suite not in HPKE_SUITES:
            hpke_suite(suite)  # raises UnsupportedSuite
        if (suite == SUITE_MLKEM768_X25519) != (mlkem_key is not None):
            raise ValueError("ML-KEM component must be given exactly for the hybrid suite")
        self._suite = suite
        self._x25519 = x25519_key
        self._mlkem = mlkem_key
        self._hpke: _HpkePub = (
            hpke.MLKEM768X25519PublicKey(mlkem_key, x25519_key)
            if mlkem_key is not None
            else x25519_key
        )
        body = (mlkem_key.public_bytes_raw() if mlkem_key is not None else b"") + (
            x25519_key.public_bytes_raw()
        )
        self._bytes = bytes([VERSION, suite, KIND_PUBLIC]) + body

    @property
    def suite(self) -> int:
        return self._suite

    def to_bytes(self) -> bytes:
        """Versioned serialisation: ``0x01 | suite | 0x50 | body``."""
        return self._bytes

    @classmethod
    def from_bytes(cls, data: bytes) -> PublicKey:
        """Parse :meth:`to_bytes` output; raises ``MalformedBlob``/``Unsupported*``."""
        data = require_bytes(data, "data")
        suite = check_header(data, HPKE_SUITES, "public key")
        if len(data) < 3 or data[2] != KIND_PUBLIC:
            raise MalformedBlob("public key: not a public key (kind byte)")
        body = data[3:]
        if len(body) != _PUBLIC_BODY_LEN[suite]:
            raise MalformedBlob("public key: wrong length")
        try:
            if suite == SUITE_MLKEM768_X25519:
                mk = mlkem.MLKEM768PublicKey.from_public_bytes(body[:MLKEM768_PUBLIC_LEN])
                xk = x25519.X25519PublicKey.from_public_bytes(body[MLKEM768_PUBLIC_LEN:])
                return cls(suite, xk, mk)
            return cls(suite, x25519.X25519PublicKey.from_public_bytes(body))
        except ValueError as exc:  # e.g. ML-KEM encapsulation key fails its modulus check
            raise MalformedBlob(f"public key: invalid key material ({exc})") from None

    def fingerprint(self) -> str:
        """First 16 bytes of SHA-256(to_bytes()) as 32 lowercase hex chars (128 bits)."""
        return hashlib.sha256(self._bytes).hexdigest()[:32]

    def wrap(self, secret: bytes, *, context: bytes) -> bytes:
        """HPKE base-mode seal of ``secret`` to this key; ``context`` becomes HPKE ``info``.

        Output: ``0x01 | suite | enc | ct``.  The same ``context`` must be given to
        :meth:`PrivateKey.unwrap`; use it to say what the secret is and where it belongs,
        e.g. ``b"whistle/case-key/" + case_id``.
        """
        secret = require_bytes(secret, "secret")
        context = _check_context(context)
        ct = hpke_suite(self._suite).encrypt(
            secret, self._hpke, info=_hpke_info(self._suite, context)
        )
        return bytes([VERSION, self._suite]) + ct

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other._bytes == self._bytes

    def __hash__(self) -> int:
        return hash(self._bytes)

    def __repr__(self) -> str:
        return f"PublicKey(suite=0x{self._suite:02x}, fingerprint={self.fingerprint()})"


class PrivateKey:
    """An HPKE private key.  ``to_bytes()`` is SECRET: seal it or wrap it, never store it raw."""

    __slots__ = ("_suite", "_mlkem", "_x25519", "_hpke", "_public")

    def __init__(
        self,
        suite: int,
        x25519_key: x25519.X25519PrivateKey,
        mlkem_key: mlkem.MLKEM768PrivateKey | None = None,
    ) -> None:
        """Internal: use :meth:`generate` or :meth:`from_bytes`."""
        if suite not in HPKE_SUITES:
            hpke_suite(suite)
        if (suite == SUITE_MLKEM768_X25519) != (mlkem_key is not None):
            raise ValueError("ML-KEM component must be given exactly for the hybrid suite")
        self._suite = suite
        self._x25519 = x25519_key
        self._mlkem = mlkem_key
        self._hpke: _HpkePriv = (
            hpke.MLKEM768X25519PrivateKey(mlkem_key, x25519_key)
            if mlkem_key is not None
            else x25519_key
        )
        self._public = PublicKey(
            suite,
            x25519_key.public_key(),
            mlkem_key.public_key() if mlkem_key is not None else None,
        )

    @classmethod
    def generate(cls, suite: int = SUITE_MLKEM768_X25519) -> PrivateKey:
        """Fresh key pair from the OS CSPRNG (via ``cryptography``)."""
        if suite == SUITE_MLKEM768_X25519:
            return cls(
                suite, x25519.X25519PrivateKey.generate(), mlkem.MLKEM768PrivateKey.generate()
            )
        if suite == SUITE_X25519:
            return cls(suite, x25519.X25519PrivateKey.generate())
        hpke_suite(suite)  # raises UnsupportedSuite
        raise AssertionError("unreachable")

    @property
    def suite(self) -> int:
        return self._suite

    def public_key(self) -> PublicKey:
        return self._public

    def to_bytes(self) -> bytes:
        """SECRET. ``0x01 | suite | 0x53 | [ML-KEM seed 64] | X25519 scalar 32``."""
        body = (self._mlkem.private_bytes_raw() if self._mlkem is not None else b"") + (
            self._x25519.private_bytes_raw()
        )
        return bytes([VERSION, self._suite, KIND_PRIVATE]) + body

    @classmethod
    def from_bytes(cls, data: bytes) -> PrivateKey:
        """Parse :meth:`to_bytes` output; raises ``MalformedBlob``/``Unsupported*``."""
        data = require_bytes(data, "data")
        suite = check_header(data, HPKE_SUITES, "private key")
        if len(data) < 3 or data[2] != KIND_PRIVATE:
            raise MalformedBlob("private key: not a private key (kind byte)")
        body = data[3:]
        if len(body) != _PRIVATE_BODY_LEN[suite]:
            raise MalformedBlob("private key: wrong length")
        if suite == SUITE_MLKEM768_X25519:
            mk = mlkem.MLKEM768PrivateKey.from_seed_bytes(body[:MLKEM768_SEED_LEN])
            xk = x25519.X25519PrivateKey.from_private_bytes(body[MLKEM768_SEED_LEN:])
            return cls(suite, xk, mk)
        return cls(suite, x25519.X25519PrivateKey.from_private_bytes(body))

    def unwrap(self, blob: bytes, *, context: bytes) -> bytes:
        """Inverse of :meth:`PublicKey.wrap`; ``DecryptionError`` on wrong key/context/tamper."""
        blob = require_bytes(blob, "blob")
        context = _check_context(context)
        suite = check_header(blob, HPKE_SUITES, "wrapped secret")
        if suite != self._suite:
            raise DecryptionError("wrapped secret: made for a key of another suite")
        if len(blob) < 2 + HPKE_ENC_LEN[suite] + HPKE_TAG_LEN:
            raise MalformedBlob("wrapped secret: too short")
        try:
            return hpke_suite(suite).decrypt(blob[2:], self._hpke, info=_hpke_info(suite, context))
        except (InvalidTag, ValueError):
            # ValueError: e.g. a malformed X25519 share in enc; treat as tamper.
            raise DecryptionError("wrapped secret: authentication failed") from None

    def __repr__(self) -> str:
        # Never print key material.
        return f"PrivateKey(suite=0x{self._suite:02x}, public={self._public.fingerprint()})"

    def __reduce__(self) -> str | tuple[object, ...]:
        # Refuse pickling: a pickled private key in a cache/session store would be a leak.
        raise TypeError("PrivateKey cannot be pickled; seal or wrap it instead")
