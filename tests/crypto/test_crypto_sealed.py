from __future__ import annotations

import pytest

import crypto
import crypto.kdf as kdf
from crypto import Argon2Params, PrivateKey
from crypto.sealed import needs_reseal, sealed_params


@pytest.fixture(scope="module")
def key() -> PrivateKey:
    return PrivateKey.generate(crypto.SUITE_X25519)


def test_round_trip(key: PrivateKey) -> None:
    blob = crypto.seal_private_key(key, "correct horse")
    assert blob[:2] == b"\x01\x30"
    assert crypto.open_sealed_key(blob, "correct horse").to_bytes() == key.to_bytes()


def test_hybrid_round_trip() -> None:
    key = PrivateKey.generate()
    blob = crypto.seal_private_key(key, "pw")
    assert crypto.open_sealed_key(blob, "pw").public_key() == key.public_key()


def test_wrong_passphrase(key: PrivateKey) -> None:
    blob = crypto.seal_private_key(key, "right")
    with pytest.raises(crypto.WrongPassphrase):
        crypto.open_sealed_key(blob, "wrong")
    with pytest.raises(crypto.DecryptionError):  # WrongPassphrase is a DecryptionError
        crypto.open_sealed_key(blob, "Right")


def test_unicode_normalisation(key: PrivateKey) -> None:
    blob = crypto.seal_private_key(key, "caf\u00e9")  # precomposed
    assert crypto.open_sealed_key(blob, "cafe\u0301").public_key() == key.public_key()


def test_params_stored_in_blob_and_survive_default_change(
    key: PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = Argon2Params(16, 2, 1)
    blob = crypto.seal_private_key(key, "pw", params)
    assert sealed_params(blob) == params
    monkeypatch.setattr(kdf, "PASSPHRASE_DEFAULT", Argon2Params(32, 3, 1))
    assert crypto.open_sealed_key(blob, "pw").public_key() == key.public_key()
    assert needs_reseal(blob)
    upgraded = crypto.reseal(blob, "pw", "pw")
    assert sealed_params(upgraded) == Argon2Params(32, 3, 1)
    assert not needs_reseal(upgraded)


def test_reseal_changes_passphrase(key: PrivateKey) -> None:
    blob = crypto.seal_private_key(key, "old")
    new = crypto.reseal(blob, "old", "new", Argon2Params(16, 1, 1))
    assert sealed_params(new) == Argon2Params(16, 1, 1)
    assert crypto.open_sealed_key(new, "new").public_key() == key.public_key()
    with pytest.raises(crypto.WrongPassphrase):
        crypto.open_sealed_key(new, "old")
    with pytest.raises(crypto.WrongPassphrase):
        crypto.reseal(blob, "bad", "new")


def test_tampered_params_fail(key: PrivateKey) -> None:
    blob = crypto.seal_private_key(key, "pw", Argon2Params(16, 1, 1))
    bad = bytearray(blob)
    bad[5] = 8  # memory_kib 16 -> 8 (still valid params, so only the AAD catches it)
    with pytest.raises(crypto.WrongPassphrase):
        crypto.open_sealed_key(bytes(bad), "pw")


def test_every_bit_flip_fails(key: PrivateKey) -> None:
    blob = crypto.seal_private_key(key, "pw")
    for i in range(len(blob)):
        bad = bytearray(blob)
        bad[i] ^= 0x04
        with pytest.raises(crypto.DecryptionError):
            crypto.open_sealed_key(bytes(bad), "pw")


def test_structural_errors(key: PrivateKey) -> None:
    blob = crypto.seal_private_key(key, "pw")
    with pytest.raises(crypto.UnsupportedVersion):
        crypto.open_sealed_key(b"\x02" + blob[1:], "pw")
    with pytest.raises(crypto.UnsupportedSuite):
        crypto.open_sealed_key(b"\x01\x10" + blob[2:], "pw")
    with pytest.raises(crypto.MalformedBlob):
        crypto.open_sealed_key(blob[:40], "pw")
    huge = bytearray(blob)
    huge[2:6] = (0xFFFFFFFF).to_bytes(4, "big")  # absurd memory: refused before Argon2 runs
    with pytest.raises(crypto.MalformedBlob):
        crypto.open_sealed_key(bytes(huge), "pw")


def test_misuse(key: PrivateKey) -> None:
    with pytest.raises(ValueError):
        crypto.seal_private_key(key, "")
    with pytest.raises(TypeError):
        crypto.seal_private_key(key, b"pw")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crypto.seal_private_key(key.public_key(), "pw")  # type: ignore[arg-type]
