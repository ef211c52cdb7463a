"""Friendly error pages. Never a stack trace, never a 500 for bad input."""
from __future__ import annotations

import logging
import traceback

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..db import Conflict

log = logging.getLogger("whistle.errors")

# code -> (title, explanation). Lazy so the visitor's language applies at render time.
MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try again.")),
    403: (_l("Not allowed"), _l("You do not have access to this page.")),
    404: (_l("Page not found"), _l("The page you asked for does not exist.")),
    405: (_l("Method not allowed"), _l("This page cannot be used that way.")),
    409: (_l("Changed meanwhile"), _l("Someone changed this at the same moment, so nothing was saved. Please reload the page and try again.")),
    413: (_l("File too large"), _l("The upload is larger than the service accepts. Please send a smaller file.")),
    429: (_l("Too many requests"), _l("The service is receiving too many requests. Please wait a few minutes and try again.")),
    500: (_l("Something went wrong"), _l("An unexpected error happened. Nothing you sent has been half-saved. Please try again later.")),
    503: (_l("The service is busy"), _l("The service is busy right now. Please wait a moment and try again.")),
}
CSRF_MESSAGE = (_l("Form expired"), _l(
    "Your session has expired or the form is out of date. For your safety the form was not "
    "sent. Go back, reload the page and submit again."))


def log_unhandled(exc: BaseException | None) -> None:
    """Type and code locations only: the message (e.g. SQL parameters) or the frames' locals
    could carry report content."""
    if exc is None:
        return
    frames = traceback.extract_tb(exc.__traceback__)
    where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}:{f.name}"
                        for f in reversed(frames[-8:]))
    log.error("unhandled %s at %s", type(exc).__name__, where)


def render_error(code: int, title: object, message: object) -> tuple[str, int]:
    return render_template("errors/error.html", code=code, title=title, message=message), code


def init_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> tuple[str, int]:
        return render_error(400, *CSRF_MESSAGE)

    @app.errorhandler(Conflict)
    def _conflict(exc: Conflict) -> tuple[str, int]:
        return render_error(409, *MESSAGES[409])

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> object:
        code = exc.code or 500
        if code < 400:  # redirects raised as exceptions (RequestRedirect) pass through
            return exc
        title, message = MESSAGES.get(code, MESSAGES[500 if code >= 500 else 400])
        try:
            body, status = render_error(code, title, message)
        except Exception:  # noqa: BLE001 - a broken template must not turn into a traceback page
            log.error("error page failed to render")
            body, status = "Error", code
        response = app.make_response((body, status))
        if code == 429 or code == 503:
            response.headers["Retry-After"] = "60"
        if code == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    @app.errorhandler(InternalServerError)
    def _500(exc: InternalServerError) -> object:
        return _http(exc)
