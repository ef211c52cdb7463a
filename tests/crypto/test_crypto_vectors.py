"""The committed vectors in crypto/vectors/*.json open with the library.

Deterministic vectors (everything except HPKE encapsulations) are also recomputed by the
generator and compared byte for byte, so a change to a format cannot slip through silently.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
from pathlib import Path
from typing import Any

import pytest

import crypto
from crypto import Argon2Params, Envelope, PrivateKey, PublicKey, Share
from crypto.tickets import check_symbol

VECTORS = Path(__file__).resolve().parents[2] / "crypto" / "vectors"


def load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text())


def h(s: str) -> bytes:
    return bytes.fromhex(s)


@pytest.fixture(scope="module")
def generator() -> Any:
    spec = importlib.util.spec_from_file_location("whistle_vectors_gen", VECTORS / "generate.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize(
    "name,fn",
    [("aead.json", "aead_vectors"), ("kdf.json", "kdf_vectors"), ("sealed.json", "sealed_vectors"),
     ("tickets.json", "ticket_vectors"), ("shares.json", "share_vectors"),
     ("stream.json", "stream_vectors")],
)
def test_deterministic_vectors_are_reproducible(generator: Any, name: str, fn: str) -> None:
    assert getattr(generator, fn)() == load(name)


def test_keys() -> None:
    for v in load("keys.json")["vectors"]:
        priv = PrivateKey.from_bytes(h(v["private_key"]))
        assert priv.to_bytes().hex() == v["private_key"]
        assert priv.public_key().to_bytes().hex() == v["public_key"]
        assert PublicKey.from_bytes(h(v["public_key"])).fingerprint() == v["fingerprint"]
        assert priv.unwrap(h(v["wrapped"]), context=h(v["context"])).hex() == v["secret"]
        with pytest.raises(crypto.DecryptionError):
            priv.unwrap(h(v["wrapped"]), context=h(v["context"]) + b"x")


def test_aead() -> None:
    for v in load("aead.json")["vectors"]:
        assert crypto.decrypt(h(v["key"]), h(v["blob"]), aad=h(v["aad"])).hex() == v["plaintext"]


def test_kdf() -> None:
    for v in load("kdf.json")["vectors"]:
        p = Argon2Params(v["memory_kib"], v["iterations"], v["lanes"])
        assert crypto.derive_key(h(v["secret"]), h(v["salt"]), p).hex() == v["key"]


def test_sealed() -> None:
    for v in load("sealed.json")["vectors"]:
        key = crypto.open_sealed_key(h(v["blob"]), v["passphrase"])
        assert key.to_bytes().hex() == v["private_key"]
        with pytest.raises(crypto.WrongPassphrase):
            crypto.open_sealed_key(h(v["blob"]), v["passphrase"] + "!")


def test_tickets() -> None:
    data = load("tickets.json")
    for v in data["check_symbols"]:
        assert check_symbol(v["payload"]) == v["check"]
    for v in data["parse"]:
        if "error" in v:
            with pytest.raises(crypto.TicketTypo):
                crypto.parse_ticket(v["input"])
        else:
            assert crypto.parse_ticket(v["input"]) == v["canonical"]
    for v in data["lookup_ids"]:
        assert crypto.ticket_lookup_id(v["ticket"], h(v["pepper"])).hex() == v["lookup_id"]
    for v in data["reporter_keys"]:
        p = Argon2Params(v["memory_kib"], v["iterations"], v["lanes"])
        assert crypto.reporter_key(v["ticket"], h(v["salt"]), p).hex() == v["reporter_key"]


def test_shares() -> None:
    data = load("shares.json")
    import itertools

    for v in data["vectors"]:
        shares = [Share.from_bytes(h(s)) for s in v["shares"]]
        for subset in itertools.combinations(shares, v["k"]):
            assert crypto.combine_shares(subset).hex() == v["secret"]
    for v in data["invalid"]:
        with pytest.raises(crypto.ShareError):
            crypto.combine_shares([Share.from_bytes(h(s)) for s in v["shares"]])


def test_stream() -> None:
    for v in load("stream.json")["vectors"]:
        out = io.BytesIO()
        crypto.decrypt_stream(h(v["key"]), io.BytesIO(h(v["ciphertext"])), out, aad=h(v["aad"]))
        assert len(out.getvalue()) == v["plaintext_size"]
        assert hashlib.sha256(out.getvalue()).hexdigest() == v["plaintext_sha256"]


def test_envelope() -> None:
    v = load("envelope.json")
    env = Envelope.from_bytes(h(v["envelope"]))
    for rid, key in v["recipients"].items():
        assert env.open(rid, PrivateKey.from_bytes(h(key)), aad=h(v["aad"])).hex() == v["payload"]
