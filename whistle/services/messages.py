"""Refusal texts that services show to officers: English msgids, translated by the page.

Services run without a request (also from the CLI), so they never translate. A refusal's text
is an English msgid marked with ``N_`` (pybabel extracts ``N_`` by default, so
``scripts/i18n.sh`` puts it in the catalogs); the route shows ``whistle.web.i18n.refusal_text``
of the exception, which looks the msgid up in the visitor's language and then fills in its
``%(name)s`` parameters. ``str(exc)`` stays the English text with the parameters filled in
(CLI output, logs).
"""
from __future__ import annotations

from typing import Any, NamedTuple


def N_(msgid: str) -> str:
    """Mark ``msgid`` for extraction; returned unchanged (the page translates it)."""
    return msgid


class Message(NamedTuple):
    """A msgid with its parameters, for code that collects problems before refusing."""

    msgid: str
    params: dict[str, Any] = {}

    def __str__(self) -> str:
        return self.msgid % self.params if self.params else self.msgid


class Refusal(ValueError):
    """A refused step; the message is safe to show to the officer or admin."""

    def __init__(self, msgid: str, **params: Any) -> None:
        super().__init__(msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params
