"""STREAM file encryption (Hoang-Reyhanitabar-Rogaway-Vizár online AE, as used by age).

One random 32-byte *file key* per attachment.  Per encryption a random 16-byte nonce is
drawn; the *payload key* is ``HKDF-SHA256(ikm=file_key, salt=nonce, info=...)``, so even a
reused file key never repeats a (key, nonce) pair.  The plaintext is cut into 64 KiB chunks,
each sealed with AES-256-GCM under nonce ``counter (11 bytes, big-endian) || last flag``.

Layout (SPEC.md "File stream")::

    0x01 | 0x11 | nonce (16) | chunk_0 | chunk_1 | ... | chunk_last
    chunk_i = AES-256-GCM(payload_key, i.to_bytes(11) || flag, plaintext_i), flag = 0x01 on
    the last chunk only; every chunk but the last has exactly 64 KiB of plaintext.

What that buys:

* truncation at a chunk boundary: the new final chunk lacks the last flag -> fails;
* appending data / chunks: the old last chunk is no longer last -> fails;
* reordering: the counter is in the nonce -> fails;
* swapping chunks between files: each file has its own payload key -> fails;
* encodings are canonical: the last chunk is empty only if the whole plaintext is empty.

Memory is flat (at most two chunks held at a time) whatever the file size.  Decryption only
ever *releases* authenticated chunks, but a truncated/tampered file is detected only when the
damaged chunk is reached: consumers must treat a raised :class:`StreamError` as "the whole
file is bad" (delete the temp output; abort the HTTP response).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .compare import require_bytes
from .errors import CryptoError, StreamError
from .suites import FORMAT_STREAM, VERSION, check_header

__all__ = [
    "CHUNK_SIZE",
    "TAG_SIZE",
    "HEADER_SIZE",
    "encrypt_stream",
    "decrypt_stream",
    "iter_decrypt",
    "StreamEncryptor",
    "encrypted_size",
]

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
NONCE_SIZE = 16
HEADER_SIZE = 2 + NONCE_SIZE
CT_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
KEY_SIZE = 32
HKDF_INFO_LABEL = b"whistle/stream/v1/payload-key"
_MAX_COUNTER = (1 << 88) - 1
_LAST = b"\x01"
_NOT_LAST = b"\x00"


def encrypted_size(plaintext_size: int) -> int:
    """Exact ciphertext size for a plaintext of ``plaintext_size`` bytes."""
    if plaintext_size < 0:
        raise ValueError("size must be >= 0")
    chunks = max(1, -(-plaintext_size // CHUNK_SIZE))
    return HEADER_SIZE + plaintext_size + chunks * TAG_SIZE


def _payload_aead(key: bytes, header: bytes, aad: bytes) -> AESGCM:
    key = require_bytes(key, "key")
    if len(key) != KEY_SIZE:
        raise ValueError(f"key must be {KEY_SIZE} bytes")
    # info = label || version || format || aad: the label is fixed-length, so this is an
    # unambiguous encoding; binding aad here means a wrong aad fails on the first chunk.
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=header[2:HEADER_SIZE],
        info=HKDF_INFO_LABEL + header[:2] + aad,
    )
    return AESGCM(hkdf.derive(key))


def _nonce(counter: int, last: bool) -> bytes:
    if counter > _MAX_COUNTER:  # 2^88 chunks: unreachable, but never wrap a nonce.
        raise CryptoError("stream too long")
    return counter.to_bytes(11, "big") + (_LAST if last else _NOT_LAST)


def _read_full(src: BinaryIO, n: int) -> bytes:
    """Read exactly ``n`` bytes unless EOF comes first (handles short reads of pipes)."""
    data = src.read(n)
    if data is None:
        raise BlockingIOError("non-blocking source not supported")
    if len(data) == n or not data:
        return bytes(data)
    parts = [data]
    got = len(data)
    while got < n:
        more = src.read(n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def _new_header() -> bytes:
    return bytes([VERSION, FORMAT_STREAM]) + secrets.token_bytes(NONCE_SIZE)


def encrypt_stream(key: bytes, src: BinaryIO, dst: BinaryIO, *, aad: bytes = b"") -> int:
    """Encrypt everything readable from ``src`` into ``dst``; returns bytes written to ``dst``.

    Holds two plaintext chunks and one ciphertext chunk in reused buffers (flat memory).
    ``dst.write`` receives ``memoryview`` slices of a reused buffer and must consume them
    before returning (files, BytesIO and sockets do).  ``aad`` (e.g. ``b"case:<id>|
    attachment:<att_id>"``) must be given again to decrypt.
    """
    aad = require_bytes(aad, "aad")
    header = _new_header()
    aead = _payload_aead(key, header, aad)
    written = dst.write(header) or 0
    cur, nxt = bytearray(CHUNK_SIZE), bytearray(CHUNK_SIZE)
    out = memoryview(bytearray(CT_CHUNK_SIZE))
    counter = 0
    n = _readinto_full(src, cur)
    while True:
        # Look ahead one chunk: only EOF tells us whether a full chunk is the last one.
        m = _readinto_full(src, nxt) if n == CHUNK_SIZE else 0
        last = m == 0
        aead.encrypt_into(_nonce(counter, last), memoryview(cur)[:n], None, out[: n + TAG_SIZE])
        written += dst.write(out[: n + TAG_SIZE]) or 0
        if last:
            return written
        counter += 1
        cur, nxt, n = nxt, cur, m


class StreamEncryptor:
    """Incremental STREAM encryption for data arriving in parts (e.g. chunked uploads).

    ``write(data)`` any number of times, then ``finish()`` exactly once.  The output is
    byte-for-byte the same format as :func:`encrypt_stream`.  A full chunk is held back until
    more data or ``finish()`` arrives, because only then is it known whether it is the last.
    If ``finish()`` is never called the output has no last chunk and will not decrypt, which
    is the safe failure for an aborted upload.
    """

    def __init__(self, key: bytes, dst: BinaryIO, *, aad: bytes = b"") -> None:
        aad = require_bytes(aad, "aad")
        header = _new_header()
        self._aead = _payload_aead(key, header, aad)
        self._dst = dst
        self._buf = bytearray()
        self._counter = 0
        self._finished = False
        self._written = dst.write(header) or 0

    @property
    def bytes_written(self) -> int:
        return self._written

    def _emit(self, last: bool) -> None:
        ct = self._aead.encrypt(_nonce(self._counter, last), bytes(self._buf), None)
        self._written += self._dst.write(ct) or 0
        self._counter += 1
        self._buf.clear()

    def write(self, data: bytes) -> None:
        """Append plaintext; encrypts and writes every chunk known not to be the last."""
        if self._finished:
            raise ValueError("StreamEncryptor already finished")
        view = memoryview(require_bytes(data, "data"))
        pos = 0
        while pos < len(view):
            if len(self._buf) == CHUNK_SIZE:
                self._emit(last=False)  # more data follows, so this full chunk is not last
            take = min(CHUNK_SIZE - len(self._buf), len(view) - pos)
            self._buf += view[pos : pos + take]
            pos += take

    def finish(self) -> int:
        """Write the last chunk; returns the total bytes written to ``dst``."""
        if self._finished:
            raise ValueError("StreamEncryptor already finished")
        self._emit(last=True)
        self._finished = True
        return self._written


def _readinto_full(src: BinaryIO, buf: bytearray) -> int:
    """Fill ``buf`` from ``src`` unless EOF comes first; returns the number of bytes read."""
    readinto = getattr(src, "readinto", None)
    if readinto is None:  # plain .read()-only objects (some WSGI streams)
        data = _read_full(src, len(buf))
        buf[: len(data)] = data
        return len(data)
    view = memoryview(buf)
    got = 0
    while got < len(buf):
        n = readinto(view[got:])
        if n is None:
            raise BlockingIOError("non-blocking source not supported")
        if not n:
            break
        got += n
    return got


def _open_stream(key: bytes, src: BinaryIO, aad: bytes) -> AESGCM:
    aad = require_bytes(aad, "aad")
    header = _read_full(src, HEADER_SIZE)
    check_header(header, FORMAT_STREAM, "file stream")
    if len(header) < HEADER_SIZE:
        raise StreamError("file stream: truncated header")
    return _payload_aead(key, header, aad)


def _decrypt_chunks(aead: AESGCM, src: BinaryIO) -> Iterator[memoryview]:
    """Yield each authenticated plaintext chunk as a view into a buffer that is REUSED for
    the next chunk (consume it before advancing).  All of SPEC.md section 8's rules live here.
    """
    cur, nxt = bytearray(CT_CHUNK_SIZE), bytearray(CT_CHUNK_SIZE)
    out = memoryview(bytearray(CHUNK_SIZE))
    n = _readinto_full(src, cur)
    if n == 0:
        raise StreamError("file stream: no chunks (truncated)")
    counter = 0
    while True:
        # Look ahead: a piece is the last chunk iff end of input follows it.
        m = _readinto_full(src, nxt) if n == CT_CHUNK_SIZE else 0
        last = m == 0
        if n < TAG_SIZE:
            raise StreamError(f"file stream: chunk {counter} truncated")
        size = n - TAG_SIZE
        try:
            aead.decrypt_into(_nonce(counter, last), memoryview(cur)[:n], None, out[:size])
        except InvalidTag:
            raise StreamError(
                f"file stream: chunk {counter} failed authentication "
                "(wrong key or aad, tampered, truncated, reordered or extended)"
            ) from None
        if last and size == 0 and counter > 0:
            # Canonical encoding: an empty last chunk is only valid for an empty file.
            raise StreamError("file stream: empty final chunk after data")
        yield out[:size]
        if last:
            return
        counter += 1
        cur, nxt, n = nxt, cur, m


def iter_decrypt(key: bytes, src: BinaryIO, *, aad: bytes = b"") -> Iterator[bytes]:
    """Yield authenticated plaintext chunks (fresh ``bytes``) of a STREAM ciphertext.

    The header is read and the key derived *before* returning, so a bad header / key type
    raises at call time (useful before an HTTP response starts).  Later failures raise
    :class:`StreamError` from the iterator; everything yielded before that was authentic but
    the file as a whole must be rejected (abort the response).
    """
    aead = _open_stream(key, src, aad)
    return (bytes(view) for view in _decrypt_chunks(aead, src))


def decrypt_stream(key: bytes, src: BinaryIO, dst: BinaryIO, *, aad: bytes = b"") -> int:
    """Decrypt ``src`` into ``dst``; returns plaintext bytes written.

    ``dst.write`` receives ``memoryview`` slices of a reused buffer and must consume them
    before returning (files, BytesIO and sockets do; don't pass a writer that keeps
    references).  On :class:`StreamError` ``dst`` holds a prefix of the plaintext: write to
    a temporary file and discard it on error.
    """
    aead = _open_stream(key, src, aad)
    written = 0
    for view in _decrypt_chunks(aead, src):
        written += dst.write(view) or 0
    return written
