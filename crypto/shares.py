"""Shamir secret sharing, k-of-n over GF(2^8), with a split id and a commitment.

Construction (Shamir 1979, byte-wise as in SLIP-0039 / HashiCorp Vault):

* Field GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1 (0x11B).  Addition is XOR.
* For each byte s of the secret a random polynomial f(x) = s + a_1 x + ... + a_{k-1} x^{k-1}
  is drawn (coefficients from ``secrets``); share i (x = i, 1 <= i <= n <= 255) holds f(i)
  for every byte.
* Combining k shares evaluates the Lagrange interpolation at x = 0:
  s = sum_i y_i * prod_{j != i} x_j / (x_j - x_i)   (minus is XOR in GF(2^8)).

Multiplication is a branch-free shift-and-add loop and inversion is a^254, so no secret-indexed
table lookups are made (CPython gives no real constant-time guarantee; the arithmetic runs
only on custodians' shares in memory).

Integrity: every share carries ``commitment = HMAC-SHA256(key=secret, msg=label || split_id
|| k)``.  After interpolation the result is checked against it, so bad shares, shares from
another split, duplicate indices or too few shares raise :class:`ShareError` and never yield
a silently wrong key.  Hiding: k-1 shares are *information-theoretically* independent of the
secret; the commitment is a keyed hash whose key is the secret itself, so for a uniformly
random >= 128-bit (here 256-bit) secret it reveals nothing short of brute-forcing the key.
Only high-entropy secrets (keys) may be split -- a low-entropy secret could be brute-forced
from the commitment.

Share layout (SPEC.md "Shares")::

    0x01 | 0x20 | split_id (16) | k u8 | index u8 | commitment (32) | y (len(secret))
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from .compare import constant_time_equal, require_bytes
from .errors import MalformedBlob, ShareError
from .suites import FORMAT_SHARE, VERSION, check_header

__all__ = ["Share", "split_secret", "combine_shares", "gf_mul", "gf_inv"]

SPLIT_ID_SIZE = 16
COMMITMENT_SIZE = 32
MIN_SECRET_SIZE = 16
MAX_SECRET_SIZE = 1024
COMMITMENT_LABEL = b"whistle/share-commitment/v1"
_FIXED = 2 + SPLIT_ID_SIZE + 1 + 1 + COMMITMENT_SIZE  # 52


def gf_mul(a: int, b: int) -> int:
    """Multiply in GF(2^8) mod 0x11B without data-dependent branches."""
    p = 0
    for _ in range(8):
        p ^= -(b & 1) & a  # add a if the low bit of b is set
        b >>= 1
        # multiply a by x, reducing by 0x11B when the high bit falls out
        a = ((a << 1) ^ (-((a >> 7) & 1) & 0x11B)) & 0xFF
    return p


def gf_inv(a: int) -> int:
    """Multiplicative inverse a^254 (a^255 = 1 for a != 0); gf_inv(0) = 0 is never used."""
    result = 1
    base = a
    exp = 254
    while exp:  # exponent is public, so branching on it is fine
        if exp & 1:
            result = gf_mul(result, base)
        base = gf_mul(base, base)
        exp >>= 1
    return result


def _commitment(secret: bytes, split_id: bytes, k: int) -> bytes:
    return hmac.new(secret, COMMITMENT_LABEL + split_id + bytes([k]), hashlib.sha256).digest()


@dataclass(frozen=True, repr=False)
class Share:
    """One share.  ``to_bytes()`` is SECRET (wrap it to a custodian, never store it raw)."""

    split_id: bytes
    k: int
    index: int
    commitment: bytes
    value: bytes

    def __post_init__(self) -> None:
        if len(self.split_id) != SPLIT_ID_SIZE or len(self.commitment) != COMMITMENT_SIZE:
            raise MalformedBlob("share: bad split id / commitment length")
        if not 2 <= self.k <= 255 or not 1 <= self.index <= 255:
            raise MalformedBlob("share: k or index out of range")
        if not MIN_SECRET_SIZE <= len(self.value) <= MAX_SECRET_SIZE:
            raise MalformedBlob("share: bad value length")

    def to_bytes(self) -> bytes:
        return (
            bytes([VERSION, FORMAT_SHARE])
            + self.split_id
            + bytes([self.k, self.index])
            + self.commitment
            + self.value
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Share:
        data = require_bytes(data, "data")
        check_header(data, FORMAT_SHARE, "share")
        if len(data) < _FIXED + MIN_SECRET_SIZE:
            raise MalformedBlob("share: too short")
        sid = data[2 : 2 + SPLIT_ID_SIZE]
        k, index = data[2 + SPLIT_ID_SIZE], data[3 + SPLIT_ID_SIZE]
        commitment = data[4 + SPLIT_ID_SIZE : _FIXED]
        return cls(split_id=sid, k=k, index=index, commitment=commitment, value=data[_FIXED:])

    def __repr__(self) -> str:  # never print the share value
        return f"Share(split_id={self.split_id.hex()[:8]}.., k={self.k}, index={self.index})"


def split_secret(secret: bytes, k: int, n: int) -> list[Share]:
    """Split ``secret`` (16..1024 bytes, a random key) into ``n`` shares, any ``k`` recover it.

    Requires 2 <= k <= n <= 255 (k = 1 would hand out the secret itself).
    """
    secret = require_bytes(secret, "secret")
    if not MIN_SECRET_SIZE <= len(secret) <= MAX_SECRET_SIZE:
        raise ValueError(f"secret must be {MIN_SECRET_SIZE}..{MAX_SECRET_SIZE} bytes")
    if isinstance(k, bool) or isinstance(n, bool) or not 2 <= k <= n <= 255:
        raise ValueError("need 2 <= k <= n <= 255")
    split_id = secrets.token_bytes(SPLIT_ID_SIZE)
    commitment = _commitment(secret, split_id, k)
    # coeffs[j] holds coefficient a_{j+1} for every byte position.
    coeffs = [secrets.token_bytes(len(secret)) for _ in range(k - 1)]
    shares = []
    for x in range(1, n + 1):
        out = bytearray(len(secret))
        for pos, s in enumerate(secret):
            # Horner: (((a_{k-1}) x + a_{k-2}) x + ... ) x + s
            y = 0
            for c in reversed(coeffs):
                y = gf_mul(y ^ c[pos], x)
            out[pos] = y ^ s
        shares.append(Share(split_id, k, x, commitment, bytes(out)))
    return shares


def combine_shares(shares: Sequence[Share]) -> bytes:
    """Recover the secret from at least ``k`` shares of one split.

    Raises :class:`ShareError` for: no shares, mixed splits (split id, k, commitment or
    length differ), duplicate indices, fewer than k shares, or a result that does not match
    the commitment (a corrupted or forged share).  When more than k shares are given the k
    lowest indices are used; the others are checked only for consistency of their headers.
    """
    shares = list(shares)
    if not shares:
        raise ShareError("no shares given")
    if not all(isinstance(s, Share) for s in shares):
        raise TypeError("shares must be Share objects (use Share.from_bytes)")
    first = shares[0]
    for s in shares[1:]:
        if (
            s.split_id != first.split_id
            or s.k != first.k
            or s.commitment != first.commitment
            or len(s.value) != len(first.value)
        ):
            raise ShareError("shares come from different splits")
    indices = [s.index for s in shares]
    if len(set(indices)) != len(indices):
        raise ShareError("duplicate share index")
    if len(shares) < first.k:
        raise ShareError(f"need {first.k} shares, got {len(shares)}")
    used = sorted(shares, key=lambda s: s.index)[: first.k]
    xs = [s.index for s in used]
    # Lagrange basis at 0: l_i = prod_{j != i} x_j / (x_j ^ x_i)
    basis = []
    for i, xi in enumerate(xs):
        num, den = 1, 1
        for j, xj in enumerate(xs):
            if i != j:
                num = gf_mul(num, xj)
                den = gf_mul(den, xj ^ xi)
        basis.append(gf_mul(num, gf_inv(den)))
    secret = bytearray(len(first.value))
    for li, s in zip(basis, used, strict=True):
        for pos, y in enumerate(s.value):
            secret[pos] ^= gf_mul(y, li)
    result = bytes(secret)
    if not constant_time_equal(_commitment(result, first.split_id, first.k), first.commitment):
        raise ShareError("shares do not reconstruct the committed secret (bad or forged share)")
    return result
