from __future__ import annotations

import re

import pytest

import crypto
from crypto import TicketTypo, new_ticket, parse_ticket, reporter_key, ticket_lookup_id
from crypto.tickets import ALPHABET, TICKET_BITS, check_symbol

PEPPER = b"p" * 32
SALT = b"s" * 16
FORMAT = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$")


def test_format_and_entropy() -> None:
    assert TICKET_BITS >= 80
    tickets = {new_ticket() for _ in range(500)}
    assert len(tickets) == 500
    for t in tickets:
        assert FORMAT.match(t), t
        assert parse_ticket(t) == t
    # Every symbol occurs in the random part.
    assert set("".join(t.replace("-", "")[:19] for t in tickets)) == set(ALPHABET)


def test_tolerant_parsing() -> None:
    t = new_ticket()
    compact = t.replace("-", "")
    assert parse_ticket(compact) == t
    assert parse_ticket(" ".join(compact.lower())) == t
    assert parse_ticket(f"  {t.lower()}  ") == t
    assert parse_ticket(t.replace("-", " - ")) == t


def test_confusables() -> None:
    body = "01" * 9 + "1"
    t = parse_ticket(body + check_symbol(body))
    typed = t.replace("0", "o").replace("1", "I", 3).replace("1", "l", 2)
    assert parse_ticket(typed) == t


def test_every_single_substitution_detected() -> None:
    for _ in range(20):
        code = new_ticket().replace("-", "")
        for i in range(20):
            for c in ALPHABET:
                if c != code[i]:
                    with pytest.raises(TicketTypo):
                        parse_ticket(code[:i] + c + code[i + 1 :])


def test_bad_inputs_have_messages() -> None:
    t = new_ticket()
    cases = {
        t[:-1]: "characters",
        t + "A": "characters",
        "": "characters",
        t[:-1] + "U": "cannot appear",
        t[:-1] + "*": "cannot appear",
        t[:-1] + ("0" if t[-1] != "0" else "1"): "typo",
    }
    for text, fragment in cases.items():
        with pytest.raises(TicketTypo) as exc:
            parse_ticket(text)
        assert fragment in str(exc.value)
        assert t.replace("-", "") not in str(exc.value)  # never echo the ticket
    with pytest.raises(TypeError):
        parse_ticket(b"XXXX")  # type: ignore[arg-type]


def test_lookup_id() -> None:
    t = new_ticket()
    lid = ticket_lookup_id(t, PEPPER)
    assert len(lid) == 32
    assert ticket_lookup_id(t.lower().replace("-", ""), PEPPER) == lid
    assert ticket_lookup_id(t, b"q" * 32) != lid
    assert ticket_lookup_id(new_ticket(), PEPPER) != lid
    with pytest.raises(ValueError):
        ticket_lookup_id(t, b"short")
    with pytest.raises(TicketTypo):
        ticket_lookup_id("nope", PEPPER)


def test_reporter_key() -> None:
    t = new_ticket()
    key = reporter_key(t, SALT)
    assert len(key) == 32
    assert reporter_key(t.lower(), SALT) == key
    assert reporter_key(t, b"t" * 16) != key
    assert reporter_key(new_ticket(), SALT) != key
    # The derived key works as a secretbox key for the case-key wrap.
    blob = crypto.encrypt(key, b"k" * 32, aad=b"case:1|ticket")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(reporter_key(new_ticket(), SALT), blob, aad=b"case:1|ticket")
