from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crypto
from crypto import Envelope, PrivateKey

AAD = b"case:c1|field:details"

# Key generation is the slow part: make a small pool once and draw from it.
POOL = [PrivateKey.generate(s) for s in (1, 2, 1, 2, 1)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=st.binary(max_size=4096), count=st.integers(1, 5), data=st.data())
def test_any_recipient_opens(payload: bytes, count: int, data: st.DataObject) -> None:
    keys = {f"r{i}": POOL[i] for i in range(count)}
    env = Envelope.seal(payload, {rid: k.public_key() for rid, k in keys.items()}, aad=AAD)
    parsed = Envelope.from_bytes(env.to_bytes())
    assert parsed.recipients == tuple(keys)
    rid = data.draw(st.sampled_from(sorted(keys)))
    assert parsed.open(rid, keys[rid], aad=AAD) == payload


def _env() -> tuple[Envelope, dict[str, PrivateKey]]:
    keys = {"team:1": POOL[0], "team:2": POOL[1]}
    return Envelope.seal(b"report", {k: v.public_key() for k, v in keys.items()}, aad=AAD), keys


def test_wrong_aad_fails() -> None:
    env, keys = _env()
    for bad in (b"case:c2|field:details", b"case:c1|field:title", b""):
        with pytest.raises(crypto.DecryptionError):
            env.open("team:1", keys["team:1"], aad=bad)


def test_wrong_key_or_id_fails() -> None:
    env, keys = _env()
    with pytest.raises(crypto.DecryptionError):
        env.open("team:1", keys["team:2"], aad=AAD)
    with pytest.raises(crypto.DecryptionError):
        env.open("team:9", keys["team:1"], aad=AAD)
    with pytest.raises(crypto.DecryptionError):
        env.open("team:1", POOL[2], aad=AAD)


def test_swapped_wraps_fail() -> None:
    # Moving recipient A's wrap under recipient B's id must fail: the id is in the context.
    k = PrivateKey.generate(crypto.SUITE_X25519)
    env = Envelope.seal(b"p", {"a": k.public_key(), "b": k.public_key()}, aad=AAD)
    env._wraps["a"], env._wraps["b"] = env._wraps["b"], env._wraps["a"]
    with pytest.raises(crypto.DecryptionError):
        env.open("a", k, aad=AAD)


def test_payload_moved_between_envelopes_fails() -> None:
    env1, keys = _env()
    env2 = Envelope.seal(b"other", {"team:1": keys["team:1"].public_key()}, aad=AAD)
    frank = Envelope(dict(env1._wraps), env2._payload)
    with pytest.raises(crypto.DecryptionError):
        frank.open("team:1", keys["team:1"], aad=AAD)


def test_every_bit_flip_fails() -> None:
    k = PrivateKey.generate(crypto.SUITE_X25519)
    raw = Envelope.seal(b"payload", {"a": k.public_key()}, aad=AAD).to_bytes()
    for i in range(len(raw)):
        bad = bytearray(raw)
        bad[i] ^= 0x10
        with pytest.raises(crypto.CryptoError):
            Envelope.from_bytes(bytes(bad)).open("a", k, aad=AAD)


def test_add_and_remove_recipient_without_reencrypting() -> None:
    env, keys = _env()
    payload_before = env._payload
    newcomer = POOL[2]
    env.add_recipient("team:3", newcomer.public_key(), "team:1", keys["team:1"], aad=AAD)
    assert env._payload == payload_before
    env = Envelope.from_bytes(env.to_bytes())
    assert env.open("team:3", newcomer, aad=AAD) == b"report"
    env.remove_recipient("team:1")
    assert env.recipients == ("team:2", "team:3")
    env = Envelope.from_bytes(env.to_bytes())
    with pytest.raises(crypto.DecryptionError):
        env.open("team:1", keys["team:1"], aad=AAD)
    assert env.open("team:2", keys["team:2"], aad=AAD) == b"report"


def test_add_recipient_requires_opening() -> None:
    env, keys = _env()
    with pytest.raises(crypto.DecryptionError):
        env.add_recipient("x", POOL[2].public_key(), "team:1", keys["team:2"], aad=AAD)
    with pytest.raises(crypto.DecryptionError):
        env.add_recipient("x", POOL[2].public_key(), "team:1", keys["team:1"], aad=b"other")
    assert "x" not in env.recipients


def test_remove_errors() -> None:
    env, _ = _env()
    with pytest.raises(KeyError):
        env.remove_recipient("nobody")
    env.remove_recipient("team:1")
    with pytest.raises(ValueError):
        env.remove_recipient("team:2")


def test_structural_errors() -> None:
    env, _ = _env()
    raw = env.to_bytes()
    with pytest.raises(crypto.UnsupportedVersion):
        Envelope.from_bytes(b"\x02" + raw[1:])
    with pytest.raises(crypto.UnsupportedSuite):
        Envelope.from_bytes(b"\x01\x10" + raw[2:])
    for n in (0, 3, 10, 100, len(raw) - 31):
        with pytest.raises(crypto.MalformedBlob):
            Envelope.from_bytes(raw[:n])
    with pytest.raises(ValueError):
        Envelope.seal(b"x", {}, aad=AAD)
    with pytest.raises(TypeError):
        Envelope.seal(b"x", {"a": POOL[0].public_key()}, AAD)  # type: ignore[misc]
