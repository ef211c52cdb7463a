from __future__ import annotations

import io
import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crypto
from crypto import StreamEncryptor, StreamError, decrypt_stream, encrypt_stream, iter_decrypt
from crypto.stream import CHUNK_SIZE, CT_CHUNK_SIZE, HEADER_SIZE, encrypted_size

C = CHUNK_SIZE
KEY = bytes(range(32))
AAD = b"case:c1|attachment:a1"
# Sizes around every interesting boundary.
BOUNDARY_SIZES = [0, 1, C - 1, C, C + 1, 2 * C - 1, 2 * C, 2 * C + 1, 3 * C]


def enc(data: bytes, key: bytes = KEY, aad: bytes = AAD) -> bytes:
    out = io.BytesIO()
    n = encrypt_stream(key, io.BytesIO(data), out, aad=aad)
    assert n == len(out.getvalue()) == encrypted_size(len(data))
    return out.getvalue()


def dec(blob: bytes, key: bytes = KEY, aad: bytes = AAD) -> bytes:
    out = io.BytesIO()
    n = decrypt_stream(key, io.BytesIO(blob), out, aad=aad)
    assert n == len(out.getvalue())
    return out.getvalue()


def chunks_of(blob: bytes) -> tuple[bytes, list[bytes]]:
    body = blob[HEADER_SIZE:]
    chunks = [body[i : i + CT_CHUNK_SIZE] for i in range(0, len(body), CT_CHUNK_SIZE)]
    return blob[:HEADER_SIZE], chunks


@pytest.mark.parametrize("size", BOUNDARY_SIZES)
def test_round_trip_boundaries(size: int) -> None:
    data = os.urandom(size)
    blob = enc(data)
    assert blob[:2] == b"\x01\x11"
    assert dec(blob) == data
    assert b"".join(iter_decrypt(KEY, io.BytesIO(blob), aad=AAD)) == data


@settings(max_examples=40, deadline=None)
@given(
    size=st.one_of(st.integers(0, 3 * C + 5), st.sampled_from(BOUNDARY_SIZES)),
    parts=st.lists(st.integers(1, C + 7), max_size=8),
)
def test_incremental_equals_one_shot(size: int, parts: list[int]) -> None:
    data = os.urandom(size)
    out = io.BytesIO()
    e = StreamEncryptor(KEY, out, aad=AAD)
    pos = 0
    for p in parts:  # uneven parts, then the rest
        e.write(data[pos : pos + p])
        pos += p
    e.write(data[pos:])
    total = e.finish()
    assert total == len(out.getvalue()) == encrypted_size(size)
    assert dec(out.getvalue()) == data


def test_encryptor_misuse() -> None:
    e = StreamEncryptor(KEY, io.BytesIO())
    e.finish()
    with pytest.raises(ValueError):
        e.write(b"x")
    with pytest.raises(ValueError):
        e.finish()
    with pytest.raises(TypeError):
        StreamEncryptor(KEY, io.BytesIO(), aad="text")  # type: ignore[arg-type]


def test_unfinished_upload_does_not_decrypt() -> None:
    out = io.BytesIO()
    e = StreamEncryptor(KEY, out)
    e.write(os.urandom(3 * C))  # two chunks emitted, one held back, never finished
    with pytest.raises(StreamError):
        dec(out.getvalue(), aad=b"")


def test_chunk_layout() -> None:
    blob = enc(os.urandom(2 * C))
    header, chunks = chunks_of(blob)
    assert len(header) == 18 and [len(c) for c in chunks] == [CT_CHUNK_SIZE] * 2
    assert len(enc(b"")) == HEADER_SIZE + 16  # empty file = one empty, last chunk


def test_fresh_nonce_per_encryption() -> None:
    assert enc(b"same") != enc(b"same")


def test_wrong_key_and_aad() -> None:
    blob = enc(os.urandom(C + 1))
    with pytest.raises(StreamError):
        dec(blob, key=bytes(32))
    with pytest.raises(StreamError):
        dec(blob, aad=b"case:c1|attachment:a2")
    with pytest.raises(StreamError):
        dec(enc(b"", aad=b"x"), aad=b"y")


@pytest.mark.parametrize("size", [0, 5, C, 2 * C + 3])
def test_bit_flips(size: int) -> None:
    blob = enc(os.urandom(size))
    positions = {0, 1, 2, 17, 18, len(blob) - 1, len(blob) // 2, HEADER_SIZE + CT_CHUNK_SIZE - 1}
    for i in positions:
        if i >= len(blob):
            continue
        bad = bytearray(blob)
        bad[i] ^= 0x80
        with pytest.raises(crypto.DecryptionError):
            dec(bytes(bad))


@pytest.mark.parametrize("size", [0, 1, C, C + 1, 3 * C])
def test_truncation_anywhere(size: int) -> None:
    blob = enc(os.urandom(size))
    cuts = {0, 1, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + 1, len(blob) - 1, len(blob) - 16}
    cuts |= {HEADER_SIZE + i * CT_CHUNK_SIZE for i in range(4)}
    for cut in sorted(c for c in cuts if 0 <= c < len(blob)):
        with pytest.raises(crypto.DecryptionError):
            dec(blob[:cut])


def test_truncation_at_chunk_boundary_is_stream_error() -> None:
    blob = enc(os.urandom(2 * C + 10))
    header, chunks = chunks_of(blob)
    with pytest.raises(StreamError):
        dec(header + b"".join(chunks[:2]))  # last flag missing on chunk 1
    with pytest.raises(StreamError):
        dec(header)  # no chunks at all


@pytest.mark.parametrize("size", [0, 10, C, 2 * C])
def test_extension(size: int) -> None:
    blob = enc(os.urandom(size))
    for extra in (b"\x00", b"\x00" * 16, os.urandom(CT_CHUNK_SIZE), blob[HEADER_SIZE:]):
        with pytest.raises(StreamError):
            dec(blob + extra)


def test_appending_a_valid_chunk_from_the_same_file() -> None:
    blob = enc(os.urandom(2 * C))
    header, chunks = chunks_of(blob)
    with pytest.raises(StreamError):
        dec(header + chunks[0] + chunks[1] + chunks[1])


def test_reordered_chunks() -> None:
    blob = enc(os.urandom(3 * C))
    header, chunks = chunks_of(blob)
    with pytest.raises(StreamError):
        dec(header + chunks[1] + chunks[0] + chunks[2])
    with pytest.raises(StreamError):
        dec(header + chunks[0] + chunks[2] + chunks[1])
    with pytest.raises(StreamError):
        dec(header + chunks[0] + chunks[2])  # dropped middle chunk


def test_chunk_swap_between_files_same_key() -> None:
    a_header, a = chunks_of(enc(os.urandom(2 * C)))
    b_header, b = chunks_of(enc(os.urandom(2 * C)))
    with pytest.raises(StreamError):
        dec(a_header + b[0] + a[1])
    with pytest.raises(StreamError):
        dec(b_header + a[0] + a[1])  # header (salt) from another file


def test_empty_final_chunk_after_data_rejected() -> None:
    # Build a non-canonical stream by hand: one full chunk (not last) + an empty last chunk.
    # It authenticates, but the canonical-encoding rule rejects it.
    from crypto.stream import _nonce, _payload_aead

    header = b"\x01\x11" + os.urandom(16)
    aead = _payload_aead(KEY, header, AAD)
    data = os.urandom(C)
    full = aead.encrypt(_nonce(0, False), data, None)
    blob = header + full + aead.encrypt(_nonce(1, True), b"", None)
    with pytest.raises(StreamError, match="empty final chunk"):
        dec(blob)


def test_unknown_version_and_format() -> None:
    blob = enc(b"x")
    with pytest.raises(crypto.UnsupportedVersion):
        dec(b"\x02" + blob[1:])
    with pytest.raises(crypto.UnsupportedSuite):
        dec(b"\x01\x10" + blob[2:])


def test_iter_decrypt_header_checked_eagerly_and_yields_chunks() -> None:
    with pytest.raises(crypto.UnsupportedVersion):
        iter_decrypt(KEY, io.BytesIO(b"\x07" * 40))
    data = os.urandom(2 * C + 1)
    parts = list(iter_decrypt(KEY, io.BytesIO(enc(data)), aad=AAD))
    assert [len(p) for p in parts] == [C, C, 1]


class Trickle:
    """A read()-only source returning at most 1000 bytes per call (like a WSGI stream)."""

    def __init__(self, data: bytes) -> None:
        self._buf = io.BytesIO(data)

    def read(self, n: int = -1) -> bytes:
        return self._buf.read(min(n if n >= 0 else 1000, 1000))


class TrickleRaw(io.RawIOBase):
    """A raw source whose readinto() fills at most 1000 bytes per call (like a pipe)."""

    def __init__(self, data: bytes) -> None:
        self._buf = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        chunk = self._buf.read(min(len(b), 1000))
        b[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize("source", [Trickle, TrickleRaw])
def test_short_reads(source: Any) -> None:
    data = os.urandom(2 * C + 77)
    out = io.BytesIO()
    encrypt_stream(KEY, source(data), out)
    back = io.BytesIO()
    decrypt_stream(KEY, source(out.getvalue()), back)
    assert back.getvalue() == data
    assert b"".join(iter_decrypt(KEY, source(out.getvalue()))) == data


def test_iter_decrypt_yields_independent_bytes() -> None:
    data = os.urandom(3 * C)
    parts = list(iter_decrypt(KEY, io.BytesIO(enc(data)), aad=AAD))
    assert all(isinstance(p, bytes) for p in parts)
    assert b"".join(parts) == data  # earlier chunks not overwritten by later ones


def test_key_checks() -> None:
    with pytest.raises(ValueError):
        encrypt_stream(b"short", io.BytesIO(b""), io.BytesIO())
    with pytest.raises(TypeError):
        encrypt_stream("k" * 32, io.BytesIO(b""), io.BytesIO())  # type: ignore[arg-type]
