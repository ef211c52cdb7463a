"""Reporter tickets: generation, tolerant parsing with a check symbol, lookup id, reporter key.

A ticket is 19 random symbols of the Crockford base32 alphabet (5 bits each -> 95 bits)
plus 1 check symbol (Luhn mod N, N = 32), printed as five groups of four::

    7QK2-M9XD-0HBT-3WZP-R4N8

* The check symbol turns every single-symbol typo and most adjacent transpositions into
  "check your ticket" (:class:`TicketTypo`) instead of a silent "no such case".
* :func:`ticket_lookup_id` finds the case by a keyed hash (server pepper), so a database dump
  alone cannot be used to test ticket guesses.
* :func:`reporter_key` stretches the ticket with Argon2id under a per-case salt; the result
  wraps the case key for the reporter.  The ticket itself is never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from . import kdf
from .compare import require_bytes
from .errors import TicketTypo
from .kdf import Argon2Params

__all__ = [
    "ALPHABET",
    "TICKET_RANDOM_SYMBOLS",
    "TICKET_BITS",
    "new_ticket",
    "parse_ticket",
    "check_symbol",
    "ticket_lookup_id",
    "reporter_key",
    "dummy_reporter_key",
]

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
_N = len(ALPHABET)  # 32
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
# Crockford decoding of confusables; U is excluded from the alphabet and stays an error.
_CONFUSABLES = {"I": "1", "L": "1", "O": "0"}

TICKET_RANDOM_SYMBOLS = 19
TICKET_SYMBOLS = TICKET_RANDOM_SYMBOLS + 1
TICKET_BITS = TICKET_RANDOM_SYMBOLS * 5  # 95
GROUP = 4

LOOKUP_LABEL = b"whistle/ticket-lookup/v1"
MIN_PEPPER_SIZE = 32


def check_symbol(symbols: str) -> str:
    """Luhn mod N (N = 32) check symbol over Crockford symbols (canonical, no separators).

    Walk from the rightmost symbol, doubling every other value starting with the rightmost;
    a doubled value d becomes d // 32 + d % 32; the check value is (32 - sum % 32) % 32.
    """
    total = 0
    factor = 2
    for ch in reversed(symbols):
        addend = factor * _VALUE[ch]
        total += addend // _N + addend % _N
        factor = 1 if factor == 2 else 2
    return ALPHABET[(_N - total % _N) % _N]


def _check_ok(symbols: str) -> bool:
    """Validate a full code (payload + check symbol): Luhn mod N sum must be 0 mod 32."""
    total = 0
    factor = 1
    for ch in reversed(symbols):
        addend = factor * _VALUE[ch]
        total += addend // _N + addend % _N
        factor = 2 if factor == 1 else 1
    return total % _N == 0


def _group(symbols: str) -> str:
    return "-".join(symbols[i : i + GROUP] for i in range(0, len(symbols), GROUP))


def new_ticket() -> str:
    """A fresh ticket, e.g. ``"7QK2-M9XD-0HBT-3WZP-R4N8"`` (95 random bits + check symbol)."""
    body = "".join(ALPHABET[secrets.randbelow(_N)] for _ in range(TICKET_RANDOM_SYMBOLS))
    return _group(body + check_symbol(body))


def parse_ticket(text: str) -> str:
    """Normalise a typed ticket to canonical form ``XXXX-XXXX-XXXX-XXXX-XXXX``.

    Tolerates spaces, dashes, lower case and the Crockford confusables I/L -> 1, O -> 0.
    Raises :class:`TicketTypo` with a user-presentable message for a bad character, the wrong
    number of symbols, or a failed check symbol.  The message never echoes the ticket.
    """
    if not isinstance(text, str):
        raise TypeError("ticket must be str")
    symbols: list[str] = []
    for pos, raw in enumerate(text.upper(), start=1):
        if raw in " -\t\r\n\u00a0":
            continue
        ch = _CONFUSABLES.get(raw, raw)
        if ch not in _VALUE:
            raise TicketTypo(
                f"The ticket contains a character that cannot appear in a ticket "
                f"(position {pos}). Tickets use only digits and the letters A-Z "
                f"without I, L, O and U."
            )
        symbols.append(ch)
    if len(symbols) != TICKET_SYMBOLS:
        raise TicketTypo(
            f"A ticket has {TICKET_SYMBOLS} characters (five groups of four); "
            f"you entered {len(symbols)}. Please check your ticket."
        )
    code = "".join(symbols)
    if not _check_ok(code):
        raise TicketTypo(
            "This ticket has a typo: its last character does not match. "
            "Please check each group of four carefully."
        )
    return _group(code)


def ticket_lookup_id(ticket: str, pepper: bytes) -> bytes:
    """HMAC-SHA256(pepper, b"whistle/ticket-lookup/v1" || canonical ticket ASCII), 32 bytes.

    Deterministic so it can be a unique index; keyed so a stolen DB cannot be searched by
    guessing tickets without the pepper from the instance folder.
    """
    canonical = parse_ticket(ticket)
    pepper = require_bytes(pepper, "pepper")
    if len(pepper) < MIN_PEPPER_SIZE:
        raise ValueError(f"pepper must be at least {MIN_PEPPER_SIZE} bytes")
    return hmac.new(pepper, LOOKUP_LABEL + canonical.encode("ascii"), hashlib.sha256).digest()


def reporter_key(ticket: str, salt: bytes, params: Argon2Params | None = None) -> bytes:
    """Argon2id(canonical ticket ASCII, per-case salt, params) -> 32-byte reporter key.

    ``params`` defaults to ``kdf.TICKET_DEFAULT`` looked up at call time.  The params used for
    a case must be stored with it (or fixed by deployment) so the key can be re-derived.
    """
    canonical = parse_ticket(ticket)
    return kdf.derive_key(canonical.encode("ascii"), salt, params or kdf.ticket_default())


def dummy_reporter_key(params: Argon2Params | None = None) -> bytes:
    """Do exactly the Argon2 work of :func:`reporter_key` on a random ticket and salt.

    Call this on a lookup miss or a typo so that the response time does not reveal whether a
    ticket exists (or parsed).  The result is meaningless and must be discarded.
    """
    return reporter_key(new_ticket(), secrets.token_bytes(16), params)
