"""Constant-time helpers.

Comparisons of secrets (MACs, lookup ids, commitments) must not leak, through timing, how
many leading bytes matched.  ``hmac.compare_digest`` is the stdlib's constant-time compare;
we only add strict type checks so that a ``str`` vs ``bytes`` mix-up is a loud TypeError
rather than a silent ``False``.
"""

from __future__ import annotations

import hmac

__all__ = ["constant_time_equal", "require_bytes"]


def require_bytes(value: object, name: str) -> bytes:
    """Return ``value`` as ``bytes`` or raise ``TypeError`` (accepts bytes/bytearray/memoryview).

    Text is rejected on purpose: silently encoding a ``str`` would hide bugs such as passing
    a hex string where raw key bytes were expected.
    """
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{name} must be bytes, not {type(value).__name__}")


def constant_time_equal(a: bytes, b: bytes) -> bool:
    """Compare two byte strings in time independent of their contents.

    The length of the inputs may leak (it is not secret in any of our uses).
    """
    return hmac.compare_digest(require_bytes(a, "a"), require_bytes(b, "b"))
