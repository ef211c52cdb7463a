"""Generate crypto/vectors/*.json.

    PYTHONPATH=. .venv/bin/python crypto/vectors/generate.py

Blobs are built here *from SPEC.md with the primitives directly* (AESGCM, HKDF, Argon2, HMAC,
a table-based GF(2^8)) using fixed nonces/salts/coefficients, not through the library's
encrypt functions.  That makes the output deterministic and makes the tests a check that the
library and the spec agree.  The only non-deterministic values are HPKE encapsulations
(RFC 9180 base mode is randomised and ``cryptography`` exposes no deterministic API): they are
produced with the library's ``wrap`` under fixed keys, and only their *decryption* is tested.
Re-running therefore changes the HPKE ciphertext bytes in keys.json and envelope.json only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
import sys
from pathlib import Path
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from crypto.keys import PrivateKey  # noqa: E402  (only for deterministic key material + HPKE)
from crypto.suites import SUITE_MLKEM768_X25519, SUITE_X25519  # noqa: E402


def det(label: str, n: int) -> bytes:
    """Deterministic "random" bytes: SHA-256 in counter mode over a label."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"whistle-vectors/{label}/{i}".encode()).digest()
        i += 1
    return out[:n]


def pattern(n: int) -> bytes:
    """Plaintext pattern used by stream vectors: byte i = i mod 251."""
    return bytes(i % 251 for i in range(n))


def secretbox(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    header = b"\x01\x10"
    return header + nonce + AESGCM(key).encrypt(nonce, plaintext, header + aad)


def argon2id(secret: bytes, salt: bytes, m: int, t: int, p: int) -> bytes:
    return hash_secret_raw(
        secret, salt, time_cost=t, memory_cost=m, parallelism=p, hash_len=32, type=Type.ID
    )


# --- GF(2^8) with log/exp tables (independent of crypto/shares.py's bitwise multiply) -------
EXP = [0] * 512
LOG = [0] * 256
_x = 1
for _i in range(255):
    EXP[_i] = _x
    LOG[_x] = _i
    _x ^= (_x << 1) ^ (0x11B if _x & 0x80 else 0)  # multiply by generator 3
    _x &= 0xFF
for _i in range(255, 512):
    EXP[_i] = EXP[_i - 255]


def gmul(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else EXP[LOG[a] + LOG[b]]


def keys_vectors() -> dict[str, Any]:
    out = []
    for name, suite in (("MLKEM768_X25519", SUITE_MLKEM768_X25519), ("X25519", SUITE_X25519)):
        body = det(f"mlkem-seed/{name}", 64) if suite == SUITE_MLKEM768_X25519 else b""
        body += det(f"x25519/{name}", 32)
        priv_bytes = bytes([1, suite, 0x53]) + body
        priv = PrivateKey.from_bytes(priv_bytes)
        secret = det(f"wrapped-secret/{name}", 32)
        context = b"whistle/case-key/00112233445566778899aabbccddeeff"
        out.append(
            {
                "suite": name,
                "private_key": priv_bytes.hex(),
                "public_key": priv.public_key().to_bytes().hex(),
                "fingerprint": priv.public_key().fingerprint(),
                "context": context.hex(),
                "wrapped": priv.public_key().wrap(secret, context=context).hex(),
                "secret": secret.hex(),
            }
        )
    return {
        "description": "HPKE keys: deterministic key material; wrapped = random "
        "encapsulation, check unwrap(wrapped, context) == secret",
        "vectors": out,
    }


def aead_vectors() -> dict[str, Any]:
    out = []
    for i, (pt, aad) in enumerate(
        [
            (b"", b""),
            (b"hello", b"case:c1|field:title"),
            (det("aead-pt", 100), b"case:c1|message:m1"),
        ]
    ):
        key, nonce = det(f"aead-key/{i}", 32), det(f"aead-nonce/{i}", 12)
        out.append(
            {
                "key": key.hex(),
                "aad": aad.hex(),
                "plaintext": pt.hex(),
                "blob": secretbox(key, nonce, pt, aad).hex(),
            }
        )
    return {
        "description": "Symmetric blob 0x01 0x10 nonce ct tag; GCM AAD = 0x01 0x10 || aad",
        "vectors": out,
    }


def kdf_vectors() -> dict[str, Any]:
    out = []
    for secret, salt, (m, t, p) in [
        (b"password", b"somesaltsomesalt", (8, 1, 1)),
        (b"correct horse battery staple", det("kdf-salt", 16), (64, 2, 2)),
        (b"ABCD-EFGH-JKMN-PQRS-TVW0", det("kdf-salt2", 16), (16384, 2, 1)),
    ]:
        out.append(
            {
                "secret": secret.hex(),
                "salt": salt.hex(),
                "memory_kib": m,
                "iterations": t,
                "lanes": p,
                "key": argon2id(secret, salt, m, t, p).hex(),
            }
        )
    return {
        "description": "Argon2id v0x13, 32-byte output, no secret/associated data",
        "vectors": out,
    }


def sealed_vectors() -> dict[str, Any]:
    out = []
    for name in ("MLKEM768_X25519", "X25519"):
        priv_hex = next(v["private_key"] for v in keys_vectors()["vectors"] if v["suite"] == name)
        m, t, p = 16, 1, 1
        salt, nonce = det(f"sealed-salt/{name}", 16), det(f"sealed-nonce/{name}", 12)
        passphrase = "caf\u00e9 passphrase"
        prefix = b"\x01\x30" + struct.pack(">III", m, t, p) + salt
        wkey = argon2id(passphrase.encode("utf-8"), salt, m, t, p)
        blob = prefix + secretbox(wkey, nonce, bytes.fromhex(priv_hex), prefix)
        out.append({"passphrase": passphrase, "blob": blob.hex(), "private_key": priv_hex})
    return {"description": "Sealed private key; passphrase is NFC-normalised UTF-8", "vectors": out}


def ticket_vectors() -> dict[str, Any]:
    from crypto.tickets import ALPHABET

    def luhn(symbols: str) -> str:
        total, factor = 0, 2
        for ch in reversed(symbols):
            a = factor * ALPHABET.index(ch)
            total += a // 32 + a % 32
            factor = 3 - factor
        return ALPHABET[(32 - total % 32) % 32]

    bodies = [
        "0" * 19,
        "Z" * 19,
        "0123456789ABCDEFGHJ",
        "KMNPQRSTVWXYZ012345",
        "".join(ALPHABET[b % 32] for b in det("ticket-body", 19)),
    ]
    checks = [{"payload": b, "check": luhn(b)} for b in bodies]
    canon = [b + luhn(b) for b in bodies]
    grouped = ["-".join(c[i : i + 4] for i in range(0, 20, 4)) for c in canon]
    g = grouped[3]
    parse = [
        {"input": g, "canonical": g},
        {"input": g.lower().replace("-", " "), "canonical": g},
        {"input": canon[3], "canonical": g},
        {"input": grouped[2].replace("1", "l").replace("0", "O"), "canonical": grouped[2]},
        {"input": grouped[2].replace("1", "I"), "canonical": grouped[2]},
        {"input": g[:-1], "error": "TicketTypo"},
        {"input": g + "0", "error": "TicketTypo"},
        {"input": g[:-1] + ("0" if g[-1] != "0" else "1"), "error": "TicketTypo"},
        {"input": g[:5] + "U" + g[6:], "error": "TicketTypo"},
    ]
    pepper = det("pepper", 32)
    lookup = [
        {
            "ticket": t,
            "pepper": pepper.hex(),
            "lookup_id": hmac.new(
                pepper, b"whistle/ticket-lookup/v1" + t.encode(), hashlib.sha256
            ).hexdigest(),
        }
        for t in grouped
    ]
    salt = det("ticket-salt", 16)
    rk = [
        {
            "ticket": t,
            "salt": salt.hex(),
            "memory_kib": m,
            "iterations": it,
            "lanes": 1,
            "reporter_key": argon2id(t.encode(), salt, m, it, 1).hex(),
        }
        for t, (m, it) in zip(grouped[:2], [(8, 1), (16384, 2)], strict=True)
    ]
    return {
        "description": "Luhn mod 32 check symbols, parsing, lookup ids, reporter keys",
        "check_symbols": checks,
        "parse": parse,
        "lookup_ids": lookup,
        "reporter_keys": rk,
    }


def share_vectors() -> dict[str, Any]:
    out: list[dict[str, Any]] = []
    for label, secret_len, k, n in (("a", 32, 2, 2), ("b", 32, 3, 5), ("c", 16, 2, 3)):
        secret = det(f"share-secret/{label}", secret_len)
        split_id = det(f"split-id/{label}", 16)
        coeffs = [det(f"coeff/{label}/{j}", secret_len) for j in range(k - 1)]
        commit = hmac.new(
            secret, b"whistle/share-commitment/v1" + split_id + bytes([k]), hashlib.sha256
        ).digest()
        shares = []
        for x in range(1, n + 1):
            ys = bytearray()
            for pos, s in enumerate(secret):
                y, xp = s, 1
                for c in coeffs:
                    xp = gmul(xp, x)
                    y ^= gmul(c[pos], xp)
                ys.append(y)
            shares.append((b"\x01\x20" + split_id + bytes([k, x]) + commit + bytes(ys)).hex())
        out.append({"secret": secret.hex(), "k": k, "n": n, "shares": shares})
    # Negative: one share of split "a" with one of split "b" (same index space).
    mixed = {"shares": [out[0]["shares"][0], out[1]["shares"][1]], "error": "ShareError"}
    return {
        "description": "Shamir GF(2^8)/0x11B; any k of the shares combine to secret",
        "vectors": out,
        "invalid": [mixed],
    }


def stream_vectors() -> dict[str, Any]:
    chunk = 64 * 1024
    out = []
    for i, (size, aad) in enumerate(
        [
            (0, b""),
            (100, b"case:c1|attachment:a1"),
            (chunk, b""),
            (chunk + 100, b"case:c1|attachment:a2"),
        ]
    ):
        key, nonce = det(f"stream-key/{i}", 32), det(f"stream-nonce/{i}", 16)
        header = b"\x01\x11" + nonce
        pkey = HKDF(
            hashes.SHA256(),
            32,
            salt=nonce,
            info=b"whistle/stream/v1/payload-key" + header[:2] + aad,
        ).derive(key)
        aes = AESGCM(pkey)
        pt = pattern(size)
        pieces = [pt[j : j + chunk] for j in range(0, len(pt), chunk)] or [b""]
        body = b"".join(
            aes.encrypt(
                c.to_bytes(11, "big") + (b"\x01" if c == len(pieces) - 1 else b"\x00"), p, None
            )
            for c, p in enumerate(pieces)
        )
        out.append(
            {
                "key": key.hex(),
                "aad": aad.hex(),
                "plaintext_size": size,
                "plaintext_sha256": hashlib.sha256(pt).hexdigest(),
                "payload_key": pkey.hex(),
                "ciphertext": (header + body).hex(),
            }
        )
    return {
        "description": "STREAM: plaintext byte i = i mod 251; decrypt ciphertext and "
        "compare sha256; payload_key is the HKDF output (informative)",
        "vectors": out,
    }


def envelope_vectors() -> dict[str, Any]:
    from crypto.envelope import Envelope

    keys = {v["suite"]: v["private_key"] for v in keys_vectors()["vectors"]}
    recipients = {
        "team:verifikator": PrivateKey.from_bytes(bytes.fromhex(keys["MLKEM768_X25519"])),
        "officer:7": PrivateKey.from_bytes(bytes.fromhex(keys["X25519"])),
    }
    aad = b"case:c1|field:details"
    payload = b"The reported official asked for a fee of 5 million."
    env = Envelope.seal(payload, {r: k.public_key() for r, k in recipients.items()}, aad=aad)
    return {
        "description": "Envelope (random wraps); open with either recipient; keys from keys.json",
        "aad": aad.hex(),
        "payload": payload.hex(),
        "recipients": {r: k.to_bytes().hex() for r, k in recipients.items()},
        "envelope": env.to_bytes().hex(),
    }


def main() -> None:
    files = {
        "keys.json": keys_vectors(),
        "aead.json": aead_vectors(),
        "kdf.json": kdf_vectors(),
        "sealed.json": sealed_vectors(),
        "tickets.json": ticket_vectors(),
        "shares.json": share_vectors(),
        "stream.json": stream_vectors(),
        "envelope.json": envelope_vectors(),
    }
    for name, data in files.items():
        (HERE / name).write_text(json.dumps(data, indent=1) + "\n")
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()
