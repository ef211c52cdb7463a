"""Language choice: Indonesian unless the visitor clicked the English link.

Never Accept-Language: the page every reporter sees must not depend on (and so reveal) browser
settings, and Tor Browser users should all look alike. The choice lives in a plain ``lang``
cookie (not the session, so choosing a language creates no server-side record).
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, redirect, request
from flask_babel import Babel, gettext
from werkzeug.wrappers import Response

from whistle.config import Config
from whistle.domain.constants import one_language

DEFAULT_LOCALE = "id"
LOCALES: tuple[str, ...] = ("id", "en")
LOCALE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}
COOKIE = "lang"
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"

babel = Babel()


def select_locale() -> str:
    value = request.cookies.get(COOKIE, "")
    return value if value in LOCALES else DEFAULT_LOCALE


def refusal_text(exc: Exception) -> str:
    """A service refusal (services/messages.py Refusal) in the visitor's language: its English
    msgid looked up in the catalog, then its parameters filled in."""
    msgid = getattr(exc, "msgid", None) or str(exc)
    return gettext(msgid, **getattr(exc, "params", {}))


def _safe_path(path: str) -> str:
    # "//evil.example" would be a protocol-relative redirect off-site.
    return "/" + path.lstrip("/\\")


def init_i18n(app: Flask, config: Config) -> None:
    app.config.update(
        BABEL_DEFAULT_LOCALE=DEFAULT_LOCALE,
        BABEL_DEFAULT_TIMEZONE="Asia/Jakarta",
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS_DIR),
    )
    babel.init_app(app, locale_selector=select_locale)
    # Stored notices hold both languages; pages show the viewer's (domain.constants.bilingual).
    app.jinja_env.filters["one_language"] = lambda text: one_language(text, select_locale())

    @app.before_request
    def _switch_language() -> Response | None:
        if "lang" not in request.args or request.method not in ("GET", "HEAD"):
            return None
        chosen = request.args.get("lang", "")
        rest = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
        target = _safe_path(request.path) + ("?" + urlencode(rest) if rest else "")
        response = redirect(target, code=303)
        if chosen in LOCALES:
            # No Max-Age: forgotten when the browser closes, like the session.
            response.set_cookie(COOKIE, chosen, path="/", httponly=True, samesite="Strict",
                                secure=config.secure_cookies)
        return response

    @app.context_processor
    def _locale_context() -> dict[str, object]:
        return {"current_locale": select_locale(), "locale_names": LOCALE_NAMES,
                "locales": LOCALES}
