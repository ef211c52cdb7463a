from __future__ import annotations

import pytest

import crypto
import crypto.kdf as kdf


def test_derive_key_deterministic() -> None:
    p = kdf.TEST_PARAMS
    a = crypto.derive_key(b"secret", b"s" * 16, p)
    assert len(a) == 32
    assert a == crypto.derive_key(b"secret", b"s" * 16, p)
    assert a != crypto.derive_key(b"secret", b"t" * 16, p)
    assert a != crypto.derive_key(b"secreT", b"s" * 16, p)
    assert a != crypto.derive_key(b"secret", b"s" * 16, crypto.Argon2Params(16, 1, 1))


def test_defaults_meet_rfc9106() -> None:
    # The real (un-patched) defaults: check the class-level constants on the package.
    assert crypto.PASSPHRASE_DEFAULT.memory_kib >= 65536
    assert crypto.PASSPHRASE_DEFAULT.iterations >= 3
    assert crypto.TICKET_DEFAULT.memory_kib >= 8 * 1024


def test_params_validation() -> None:
    with pytest.raises(ValueError):
        crypto.Argon2Params(4, 1, 1)
    with pytest.raises(ValueError):
        crypto.Argon2Params(8, 0, 1)
    with pytest.raises(ValueError):
        crypto.Argon2Params(8, 1, 0)
    with pytest.raises(ValueError):
        crypto.Argon2Params(kdf.MAX_MEMORY_KIB + 1, 1, 1)
    with pytest.raises(ValueError):
        crypto.derive_key(b"x", b"short", kdf.TEST_PARAMS)


def test_set_test_params_round_trip() -> None:
    before = (kdf.PASSPHRASE_DEFAULT, kdf.TICKET_DEFAULT)
    prev = kdf.set_test_params(crypto.Argon2Params(16, 1, 1), crypto.Argon2Params(24, 1, 1))
    try:
        assert prev == before
        assert kdf.passphrase_default() == crypto.Argon2Params(16, 1, 1)
        assert kdf.ticket_default() == crypto.Argon2Params(24, 1, 1)
    finally:
        kdf.set_test_params(*prev)
    assert (kdf.PASSPHRASE_DEFAULT, kdf.TICKET_DEFAULT) == before
