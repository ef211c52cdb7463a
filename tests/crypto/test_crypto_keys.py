from __future__ import annotations

import pickle

import pytest

import crypto
from crypto import PrivateKey, PublicKey

SUITES = [crypto.SUITE_MLKEM768_X25519, crypto.SUITE_X25519]
CTX = b"whistle/case-key/abc"


@pytest.fixture(scope="module", params=SUITES, ids=["hybrid", "x25519"])
def priv(request: pytest.FixtureRequest) -> PrivateKey:
    return PrivateKey.generate(request.param)


def test_default_suite_is_hybrid() -> None:
    assert PrivateKey.generate().suite == crypto.SUITE_MLKEM768_X25519


def test_serialisation_round_trip(priv: PrivateKey) -> None:
    raw = priv.to_bytes()
    assert raw[:3] == bytes([1, priv.suite, 0x53])
    again = PrivateKey.from_bytes(raw)
    assert again.to_bytes() == raw
    assert again.public_key() == priv.public_key()
    pub = priv.public_key().to_bytes()
    assert pub[:3] == bytes([1, priv.suite, 0x50])
    assert PublicKey.from_bytes(pub) == priv.public_key()
    assert len(raw) == {1: 3 + 64 + 32, 2: 3 + 32}[priv.suite]
    assert len(pub) == {1: 3 + 1184 + 32, 2: 3 + 32}[priv.suite]


def test_wrap_unwrap(priv: PrivateKey) -> None:
    secret = crypto.generate_key()
    blob = priv.public_key().wrap(secret, context=CTX)
    assert blob[:2] == bytes([1, priv.suite])
    assert priv.unwrap(blob, context=CTX) == secret
    # HPKE is randomised: two wraps differ.
    assert priv.public_key().wrap(secret, context=CTX) != blob


def test_unwrap_wrong_context(priv: PrivateKey) -> None:
    blob = priv.public_key().wrap(b"s" * 32, context=CTX)
    with pytest.raises(crypto.DecryptionError):
        priv.unwrap(blob, context=b"whistle/case-key/abd")


def test_unwrap_wrong_key(priv: PrivateKey) -> None:
    blob = priv.public_key().wrap(b"s" * 32, context=CTX)
    with pytest.raises(crypto.DecryptionError):
        PrivateKey.generate(priv.suite).unwrap(blob, context=CTX)
    other = SUITES[1] if priv.suite == SUITES[0] else SUITES[0]
    with pytest.raises(crypto.DecryptionError):
        PrivateKey.generate(other).unwrap(blob, context=CTX)


def test_unwrap_every_byte_flip(priv: PrivateKey) -> None:
    blob = priv.public_key().wrap(b"s" * 32, context=CTX)
    # Flip one bit in a spread of positions (every byte for the short suite).
    step = 1 if len(blob) < 200 else 7
    for i in list(range(0, len(blob), step)) + [len(blob) - 1]:
        bad = bytearray(blob)
        bad[i] ^= 0x01
        with pytest.raises(crypto.DecryptionError):
            priv.unwrap(bytes(bad), context=CTX)


def test_unwrap_truncated_or_extended(priv: PrivateKey) -> None:
    blob = priv.public_key().wrap(b"s" * 32, context=CTX)
    for n in (0, 1, 2, 10, len(blob) - 1):
        with pytest.raises(crypto.DecryptionError):
            priv.unwrap(blob[:n], context=CTX)
    with pytest.raises(crypto.DecryptionError):
        priv.unwrap(blob + b"\x00", context=CTX)


def test_unknown_version_and_suite(priv: PrivateKey) -> None:
    pub = priv.public_key().to_bytes()
    with pytest.raises(crypto.UnsupportedVersion):
        PublicKey.from_bytes(b"\x02" + pub[1:])
    with pytest.raises(crypto.UnsupportedSuite):
        PublicKey.from_bytes(b"\x01\x07" + pub[2:])
    with pytest.raises(crypto.UnsupportedVersion):
        PrivateKey.from_bytes(b"\x00" + priv.to_bytes()[1:])
    with pytest.raises(crypto.UnsupportedSuite):
        PrivateKey.from_bytes(b"\x01\x03" + priv.to_bytes()[2:])
    with pytest.raises(crypto.UnsupportedSuite):
        PrivateKey.generate(0x03)
    blob = priv.public_key().wrap(b"x", context=CTX)
    with pytest.raises(crypto.UnsupportedVersion):
        priv.unwrap(b"\x09" + blob[1:], context=CTX)
    with pytest.raises(crypto.UnsupportedSuite):
        priv.unwrap(b"\x01\x10" + blob[2:], context=CTX)


def test_public_and_private_not_interchangeable(priv: PrivateKey) -> None:
    with pytest.raises(crypto.MalformedBlob):
        PublicKey.from_bytes(priv.to_bytes())
    with pytest.raises(crypto.MalformedBlob):
        PrivateKey.from_bytes(priv.public_key().to_bytes())


def test_bad_lengths(priv: PrivateKey) -> None:
    with pytest.raises(crypto.MalformedBlob):
        PublicKey.from_bytes(priv.public_key().to_bytes()[:-1])
    with pytest.raises(crypto.MalformedBlob):
        PrivateKey.from_bytes(priv.to_bytes() + b"\x00")
    with pytest.raises(crypto.MalformedBlob):
        PublicKey.from_bytes(b"\x01")


def test_fingerprint(priv: PrivateKey) -> None:
    fp = priv.public_key().fingerprint()
    assert len(fp) == 32 and int(fp, 16) >= 0
    assert fp != PrivateKey.generate(priv.suite).public_key().fingerprint()


def test_misuse(priv: PrivateKey) -> None:
    pub = priv.public_key()
    with pytest.raises(ValueError):
        pub.wrap(b"x", context=b"")
    with pytest.raises(TypeError):
        pub.wrap(b"x", b"ctx")  # type: ignore[misc]  # context is keyword-only
    with pytest.raises(TypeError):
        pub.wrap("x", context=CTX)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        pickle.dumps(priv)
    assert priv.to_bytes().hex() not in repr(priv)
