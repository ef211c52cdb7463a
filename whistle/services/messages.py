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

from ..db import Conflict


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


class CaseError(Exception):
    """A refusal the officer should read. ``status`` is the HTTP status a route answers with."""

    status = 422

    def __init__(self, en: str, id_: str | None = None, *, field: str | None = None) -> None:
        super().__init__(en)
        self.en = en
        self.id = id_ or en
        self.field = field

    def text(self, lang: str | None) -> str:
        return self.en if (lang or "id").startswith("en") else self.id


class CaseNotFound(CaseError):
    status = 404

    def __init__(self) -> None:
        super().__init__("No such case.", "Laporan tidak ditemukan.")


class CaseChanged(CaseError, Conflict):
    status = 409

    def __init__(self) -> None:
        super().__init__(
            "The case changed while you were working on it. Reload the page and try again.",
            "Laporan ini telah diubah oleh orang lain saat Anda mengerjakannya. "
            "Muat ulang halaman lalu coba lagi.",
        )
