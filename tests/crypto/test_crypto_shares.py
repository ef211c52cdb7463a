from __future__ import annotations

import itertools
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crypto
from crypto import Share, ShareError, combine_shares, split_secret
from crypto.shares import gf_inv, gf_mul


def test_gf_arithmetic() -> None:
    assert gf_mul(0x57, 0x83) == 0xC1  # FIPS-197 section 4.2 example
    assert gf_mul(0x57, 0x13) == 0xFE
    for a in range(1, 256):
        assert gf_mul(a, gf_inv(a)) == 1
        assert gf_mul(a, 1) == a and gf_mul(a, 0) == 0


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=st.integers(2, 10), secret=st.binary(min_size=16, max_size=64))
def test_any_k_of_n(data: st.DataObject, n: int, secret: bytes) -> None:
    k = data.draw(st.integers(2, n))
    shares = split_secret(secret, k, n)
    assert len(shares) == n and {s.index for s in shares} == set(range(1, n + 1))
    subset = data.draw(st.permutations(shares))[: data.draw(st.integers(k, n))]
    parsed = [Share.from_bytes(s.to_bytes()) for s in subset]
    assert combine_shares(parsed) == secret
    with pytest.raises(ShareError):
        combine_shares(subset[: k - 1])


def test_all_subsets_2_of_3() -> None:
    secret = os.urandom(32)
    shares = split_secret(secret, 2, 3)
    for pair in itertools.combinations(shares, 2):
        assert combine_shares(pair) == secret


def test_k_minus_one_shares_are_uniform() -> None:
    # With k = 2, a single share's value byte is f(x) = s + a*x with a uniform: every value
    # appears, regardless of the secret.  Statistical smoke test on byte 0.
    seen = {split_secret(bytes(32), 2, 2)[0].value[0] for _ in range(2000)}
    assert len(seen) > 240


def test_share_from_another_secret() -> None:
    a = split_secret(os.urandom(32), 2, 3)
    b = split_secret(os.urandom(32), 2, 3)
    with pytest.raises(ShareError):
        combine_shares([a[0], b[1]])
    # Even a forged share that copies the header of split a is caught by the commitment.
    forged = Share(a[1].split_id, a[1].k, a[1].index, a[1].commitment, b[1].value)
    with pytest.raises(ShareError):
        combine_shares([a[0], forged])


def test_corrupted_share_value() -> None:
    secret = os.urandom(32)
    shares = split_secret(secret, 2, 2)
    for pos in (0, 15, 31):
        raw = bytearray(shares[1].to_bytes())
        raw[-32 + pos] ^= 0x01
        with pytest.raises(ShareError):
            combine_shares([shares[0], Share.from_bytes(bytes(raw))])


def test_every_bit_flip_fails_loudly() -> None:
    secret = os.urandom(32)
    shares = split_secret(secret, 2, 2)
    raw = shares[1].to_bytes()
    for i in range(len(raw)):
        bad = bytearray(raw)
        bad[i] ^= 0x02
        with pytest.raises(crypto.CryptoError):
            combine_shares([shares[0], Share.from_bytes(bytes(bad))])


def test_duplicates_and_too_few() -> None:
    shares = split_secret(os.urandom(32), 3, 5)
    with pytest.raises(ShareError):
        combine_shares([shares[0], shares[0], shares[1]])
    with pytest.raises(ShareError):
        combine_shares(shares[:2])
    with pytest.raises(ShareError):
        combine_shares([])


def test_structural_errors() -> None:
    raw = split_secret(os.urandom(32), 2, 2)[0].to_bytes()
    assert raw[:2] == b"\x01\x20" and len(raw) == 52 + 32
    with pytest.raises(crypto.UnsupportedVersion):
        Share.from_bytes(b"\x02" + raw[1:])
    with pytest.raises(crypto.UnsupportedSuite):
        Share.from_bytes(b"\x01\x21" + raw[2:])
    with pytest.raises(crypto.MalformedBlob):
        Share.from_bytes(raw[:60])
    bad_index = bytearray(raw)
    bad_index[19] = 0
    with pytest.raises(crypto.MalformedBlob):
        Share.from_bytes(bytes(bad_index))


def test_bad_parameters() -> None:
    with pytest.raises(ValueError):
        split_secret(os.urandom(32), 1, 3)
    with pytest.raises(ValueError):
        split_secret(os.urandom(32), 4, 3)
    with pytest.raises(ValueError):
        split_secret(os.urandom(32), 2, 256)
    with pytest.raises(ValueError):
        split_secret(b"short", 2, 2)


def test_repr_hides_value() -> None:
    s = split_secret(os.urandom(32), 2, 2)[0]
    assert s.value.hex() not in repr(s)
