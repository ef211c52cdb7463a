"""Standalone multi-recipient envelope: payload sealed once, data key wrapped per recipient.

* A fresh 256-bit data key encrypts the payload once (crypto.aead, AES-256-GCM).
* The data key is HPKE-wrapped to each recipient's :class:`PublicKey`.
* Any one recipient opens it with their :class:`PrivateKey`.
* Recipients are added by someone who can open it (the payload is *not* re-encrypted) and
  removed by dropping their wrap.

The caller's ``aad`` (e.g. ``b"case:<id>|field:<name>"``) is bound both into the payload AEAD
and into every wrap's HPKE info, together with the recipient id: an envelope (or a single
wrap) moved to another record, field or recipient slot fails to open.

Limits, by construction (say so to users of this class):

* Envelopes are not signed: any recipient knows the data key and could forge a payload the
  other recipients would accept.  Authenticity between recipients needs signatures.
* ``remove_recipient`` stops *future* copies of the envelope from opening for that recipient;
  it cannot revoke a data key they already unwrapped.  To revoke, re-seal with a new key.

Layout (SPEC.md "Envelope")::

    0x01 | 0x40 | count u16be
         | count x ( id_len u16be | id (UTF-8) | wrap_len u32be | wrap (PublicKey.wrap) )
         | payload (symmetric blob)
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

from . import aead
from .compare import require_bytes
from .errors import DecryptionError, MalformedBlob
from .keys import PrivateKey, PublicKey
from .suites import FORMAT_ENVELOPE, VERSION, check_header

__all__ = ["Envelope"]

_HEADER = bytes([VERSION, FORMAT_ENVELOPE])
PAYLOAD_LABEL = b"whistle/envelope/v1/payload"
WRAP_LABEL = b"whistle/envelope/v1/data-key"
MAX_RECIPIENTS = 65535
MAX_ID_BYTES = 255


def _check_aad(aad: object) -> bytes:
    return require_bytes(aad, "aad")


def _encode_id(recipient_id: str) -> bytes:
    if not isinstance(recipient_id, str) or not recipient_id:
        raise ValueError("recipient id must be a non-empty str")
    raw = recipient_id.encode("utf-8")
    if len(raw) > MAX_ID_BYTES:
        raise ValueError(f"recipient id longer than {MAX_ID_BYTES} bytes")
    return raw


def _payload_aad(aad: bytes) -> bytes:
    return PAYLOAD_LABEL + aad


def _wrap_context(recipient_id: str, aad: bytes) -> bytes:
    # Length-prefix the id so (id, aad) pairs cannot collide.
    rid = _encode_id(recipient_id)
    return WRAP_LABEL + struct.pack(">H", len(rid)) + rid + aad


class Envelope:
    """A payload readable by any one of a set of named recipients."""

    __slots__ = ("_wraps", "_payload")

    def __init__(self, wraps: dict[str, bytes], payload: bytes) -> None:
        """Internal: use :meth:`seal` or :meth:`from_bytes`."""
        self._wraps = dict(wraps)
        self._payload = payload

    @classmethod
    def seal(
        cls, payload: bytes, recipients: Mapping[str, PublicKey], *, aad: bytes
    ) -> Envelope:
        """Encrypt ``payload`` once and wrap its data key to every recipient."""
        payload = require_bytes(payload, "payload")
        aad = _check_aad(aad)
        if not recipients:
            raise ValueError("an envelope needs at least one recipient")
        if len(recipients) > MAX_RECIPIENTS:
            raise ValueError("too many recipients")
        data_key = aead.generate_key()
        wraps = {}
        for rid, pub in recipients.items():
            if not isinstance(pub, PublicKey):
                raise TypeError("recipients must map id -> PublicKey")
            wraps[rid] = pub.wrap(data_key, context=_wrap_context(rid, aad))
        return cls(wraps, aead.encrypt(data_key, payload, aad=_payload_aad(aad)))

    @property
    def recipients(self) -> tuple[str, ...]:
        """Recipient ids, in serialisation order."""
        return tuple(self._wraps)

    def _data_key(self, recipient_id: str, private_key: PrivateKey, aad: bytes) -> bytes:
        if not isinstance(private_key, PrivateKey):
            raise TypeError("private_key must be a PrivateKey")
        try:
            wrap = self._wraps[recipient_id]
        except KeyError:
            raise DecryptionError("envelope: not a recipient") from None
        return private_key.unwrap(wrap, context=_wrap_context(recipient_id, aad))

    def open(self, recipient_id: str, private_key: PrivateKey, *, aad: bytes) -> bytes:
        """Return the payload; :class:`DecryptionError` for wrong key, id, aad or tamper."""
        aad = _check_aad(aad)
        data_key = self._data_key(recipient_id, private_key, aad)
        return aead.decrypt(data_key, self._payload, aad=_payload_aad(aad))

    def add_recipient(
        self,
        recipient_id: str,
        public_key: PublicKey,
        opener_id: str,
        opener_key: PrivateKey,
        *,
        aad: bytes,
    ) -> None:
        """Give ``recipient_id`` access; the opener proves access by unwrapping the data key.

        The payload is decrypted once to check that the unwrapped key really opens it, so a
        corrupt wrap can never be propagated to the new recipient.  Adding an existing id
        replaces its wrap (e.g. after the recipient's key was rotated).
        """
        aad = _check_aad(aad)
        if not isinstance(public_key, PublicKey):
            raise TypeError("public_key must be a PublicKey")
        if recipient_id not in self._wraps and len(self._wraps) >= MAX_RECIPIENTS:
            raise ValueError("too many recipients")
        data_key = self._data_key(opener_id, opener_key, aad)
        aead.decrypt(data_key, self._payload, aad=_payload_aad(aad))
        self._wraps[recipient_id] = public_key.wrap(
            data_key, context=_wrap_context(recipient_id, aad)
        )

    def remove_recipient(self, recipient_id: str) -> None:
        """Drop a recipient's wrap (see the module note: this is not revocation)."""
        if recipient_id not in self._wraps:
            raise KeyError(recipient_id)
        if len(self._wraps) == 1:
            raise ValueError("cannot remove the last recipient (the envelope would be lost)")
        del self._wraps[recipient_id]

    def to_bytes(self) -> bytes:
        parts = [_HEADER, struct.pack(">H", len(self._wraps))]
        for rid, wrap in self._wraps.items():
            raw = _encode_id(rid)
            parts += [struct.pack(">H", len(raw)), raw, struct.pack(">I", len(wrap)), wrap]
        parts.append(self._payload)
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> Envelope:
        """Parse :meth:`to_bytes`; ``MalformedBlob`` / ``Unsupported*`` on bad structure."""
        data = require_bytes(data, "data")
        check_header(data, FORMAT_ENVELOPE, "envelope")
        try:
            (count,) = struct.unpack_from(">H", data, 2)
            pos = 4
            wraps: dict[str, bytes] = {}
            for _ in range(count):
                (id_len,) = struct.unpack_from(">H", data, pos)
                pos += 2
                raw_id = data[pos : pos + id_len]
                if len(raw_id) != id_len or not 1 <= id_len <= MAX_ID_BYTES:
                    raise MalformedBlob("envelope: bad recipient id")
                rid = raw_id.decode("utf-8")
                pos += id_len
                (wrap_len,) = struct.unpack_from(">I", data, pos)
                pos += 4
                wrap = data[pos : pos + wrap_len]
                if len(wrap) != wrap_len:
                    raise MalformedBlob("envelope: truncated wrap")
                pos += wrap_len
                if rid in wraps:
                    raise MalformedBlob("envelope: duplicate recipient id")
                wraps[rid] = wrap
        except (struct.error, UnicodeDecodeError):
            raise MalformedBlob("envelope: truncated or garbled") from None
        if not wraps:
            raise MalformedBlob("envelope: no recipients")
        payload = data[pos:]
        if len(payload) < aead.OVERHEAD:
            raise MalformedBlob("envelope: payload too short")
        return cls(wraps, payload)

    def __repr__(self) -> str:
        return f"Envelope(recipients={list(self._wraps)!r}, payload_len={len(self._payload)})"
