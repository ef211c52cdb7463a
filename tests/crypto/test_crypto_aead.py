from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import crypto
from crypto.aead import OVERHEAD


def test_round_trip() -> None:
    key = crypto.generate_key()
    blob = crypto.encrypt(key, b"hello", aad=b"case:1|field:title")
    assert len(blob) == 5 + OVERHEAD
    assert blob[:2] == b"\x01\x10"
    assert crypto.decrypt(key, blob, aad=b"case:1|field:title") == b"hello"


@given(st.binary(max_size=2000), st.binary(max_size=64))
def test_round_trip_property(payload: bytes, aad: bytes) -> None:
    key = crypto.generate_key()
    assert crypto.decrypt(key, crypto.encrypt(key, payload, aad=aad), aad=aad) == payload


def test_nonces_are_fresh() -> None:
    key = crypto.generate_key()
    assert crypto.encrypt(key, b"x", aad=b"") != crypto.encrypt(key, b"x", aad=b"")


def test_wrong_aad_fails() -> None:
    key = crypto.generate_key()
    blob = crypto.encrypt(key, b"v", aad=b"case:1|field:a")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(key, blob, aad=b"case:1|field:b")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(key, blob, aad=b"case:2|field:a")


def test_wrong_key_fails() -> None:
    blob = crypto.encrypt(crypto.generate_key(), b"v", aad=b"")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(crypto.generate_key(), blob, aad=b"")


def test_every_bit_flip_fails() -> None:
    key = crypto.generate_key()
    blob = crypto.encrypt(key, b"payload!", aad=b"a")
    for i in range(len(blob) * 8):
        bad = bytearray(blob)
        bad[i // 8] ^= 1 << (i % 8)
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(key, bytes(bad), aad=b"a")


def test_truncation_and_extension_fail() -> None:
    key = crypto.generate_key()
    blob = crypto.encrypt(key, b"payload", aad=b"")
    for n in range(len(blob)):
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(key, blob[:n], aad=b"")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(key, blob + b"\x00", aad=b"")


def test_unknown_version_and_format() -> None:
    key = crypto.generate_key()
    blob = crypto.encrypt(key, b"p", aad=b"")
    with pytest.raises(crypto.UnsupportedVersion):
        crypto.decrypt(key, b"\x02" + blob[1:], aad=b"")
    with pytest.raises(crypto.UnsupportedSuite):
        crypto.decrypt(key, b"\x01\x11" + blob[2:], aad=b"")


def test_type_misuse() -> None:
    key = crypto.generate_key()
    with pytest.raises(TypeError):
        crypto.encrypt(key, "text", aad=b"")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crypto.encrypt(key, b"x", b"")  # type: ignore[misc]  # aad is keyword-only
    with pytest.raises(ValueError):
        crypto.encrypt(b"short", b"x", aad=b"")


def test_constant_time_equal() -> None:
    assert crypto.constant_time_equal(b"abc", b"abc")
    assert not crypto.constant_time_equal(b"abc", b"abd")
    assert not crypto.constant_time_equal(b"abc", b"ab")
    with pytest.raises(TypeError):
        crypto.constant_time_equal("abc", b"abc")  # type: ignore[arg-type]
