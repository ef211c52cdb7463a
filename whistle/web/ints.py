"""Integers taken from URLs and forms, range-checked before they reach the database.

Ids are INTEGER columns: 32 bits on PostgreSQL (a value above 2^31 - 1 raises DataError
there), 64 bits on SQLite (above 2^63 - 1 its driver raises OverflowError). Either used to end
as a 500. Every id in a URL
goes through :class:`BoundedIntConverter` (installed as the app's ``int`` converter, so an
out-of-range id is simply a URL that matches no route: 404), and every integer read from a
form or query string through :func:`form_int` (out of range or not a number: 422).
"""
from __future__ import annotations

from typing import Any

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter, Map

# Largest value every id / version column holds on both databases (PostgreSQL INTEGER).
MAX_DB_INT = 2**31 - 1
# Longer digit strings cannot be in range; refuse them before int() (which also refuses
# strings above 4300 digits with ValueError).
_MAX_DIGITS = len(str(MAX_DB_INT))


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` that matches only 0 .. 2^31 - 1 (unless a rule narrows it further)."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = None, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=0 if min is None else min,
                         max=MAX_DB_INT if max is None else max, signed=signed)


def install(app: Flask) -> None:
    """Make ``int`` the bounded converter. Call before any blueprint registers its rules."""
    app.url_map.converters["int"] = BoundedIntConverter


def parse_int(value: Any, *, lo: int = 0, hi: int = MAX_DB_INT) -> int | None:
    """``value`` as an int in ``lo..hi``, or None if it is not one (no exception)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if lo <= value <= hi else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > _MAX_DIGITS:
        return None
    number = int(text)
    return number if lo <= number <= hi else None


def form_int(name: str, *, lo: int = 0, hi: int = MAX_DB_INT, source: str = "form") -> int | None:
    """Integer field ``name`` of the request form (or ``source="args"``: the query string).

    Absent or empty: None (the caller decides whether that is allowed). Present but not an
    integer in ``lo..hi``: 422, answered by the error page, before any query runs.
    """
    values = request.form if source == "form" else request.args
    raw = values.get(name)
    if raw is None or not raw.strip():
        return None
    number = parse_int(raw, lo=lo, hi=hi)
    if number is None:
        abort(422)
    return number
