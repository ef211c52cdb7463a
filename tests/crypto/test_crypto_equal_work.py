"""Wrong passphrase / wrong ticket paths must do the same Argon2 work as the right ones.

We count calls to ``hash_secret_raw`` (the only Argon2 entry point) and record their cost
parameters; timing differences between right and wrong would otherwise tell an attacker
whether a passphrase/ticket was right before any other check.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import crypto
import crypto.kdf as kdf


@pytest.fixture
def argon2_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Any, ...]]]:
    calls: list[tuple[Any, ...]] = []
    real = kdf.hash_secret_raw

    def spy(**kw: Any) -> bytes:
        calls.append(
            (kw["time_cost"], kw["memory_cost"], kw["parallelism"], kw["hash_len"], kw["type"])
        )
        return real(**kw)

    monkeypatch.setattr(kdf, "hash_secret_raw", spy)
    yield calls


def test_sealed_key_right_vs_wrong(argon2_calls: list[tuple[Any, ...]]) -> None:
    params = crypto.Argon2Params(16, 2, 1)
    blob = crypto.seal_private_key(crypto.PrivateKey.generate(crypto.SUITE_X25519), "right", params)
    argon2_calls.clear()
    crypto.open_sealed_key(blob, "right")
    right = list(argon2_calls)
    argon2_calls.clear()
    with pytest.raises(crypto.WrongPassphrase):
        crypto.open_sealed_key(blob, "wrong")
    assert argon2_calls == right
    assert len(right) == 1 and right[0][:3] == (2, 16, 1)


def test_ticket_right_vs_wrong_vs_typo(argon2_calls: list[tuple[Any, ...]]) -> None:
    """Service flow: hit -> reporter_key; miss or typo -> dummy_reporter_key."""
    salt = b"\x01" * 16
    ticket = crypto.new_ticket()
    case_key = crypto.generate_key()
    wrap = crypto.encrypt(crypto.reporter_key(ticket, salt), case_key, aad=b"case:1|ticket")

    def login(typed: str) -> bytes | None:
        try:
            key = crypto.reporter_key(typed, salt)
        except crypto.TicketTypo:
            crypto.dummy_reporter_key()
            return None
        try:
            return crypto.decrypt(key, wrap, aad=b"case:1|ticket")
        except crypto.DecryptionError:
            return None

    results = {}
    for label, typed in {
        "right": ticket,
        "wrong": crypto.new_ticket(),
        "typo": ticket[:-1] + ("0" if ticket[-1] != "0" else "1"),
    }.items():
        argon2_calls.clear()
        out = login(typed)
        results[label] = list(argon2_calls)
        assert (out == case_key) == (label == "right")
    assert results["right"] == results["wrong"] == results["typo"]
    assert len(results["right"]) == 1
    p = kdf.TICKET_DEFAULT
    assert results["right"][0][:3] == (p.iterations, p.memory_kib, p.lanes)
