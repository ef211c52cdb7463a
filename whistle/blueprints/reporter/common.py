"""Small helpers shared by the reporter's routes: language, session slots, log-in guard."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import wraps
from typing import Any, TypeVar

from flask import redirect, session, url_for
from flask_babel import format_date, format_datetime
from werkzeug.wrappers import Response

from whistle.services.reporter.files import StagedFile
from whistle.services.reporter.followup import LoggedIn

from ...attachments.report import CleanReport
from ...domain.constants import Text
from ...web.i18n import select_locale

F = TypeVar("F", bound=Callable[..., Any])

# Session slots (the session record is sealed under a key held only in the cookie).
PENDING = "pending"  # staged uploads of the new-report form
RECEIPT = "receipt"  # ticket + register number between filing and the ticket check
REPORTER = "reporter"  # {"case_id", "key"} once logged in with a ticket


def lang() -> str:
    return select_locale()


def say(text: Text) -> str:
    return text.get(lang())


def pending_files() -> list[StagedFile]:
    return [StagedFile.from_session(d) for d in session.get(PENDING, [])]


def set_pending(files: list[StagedFile]) -> None:
    if files:
        session[PENDING] = [f.to_session() for f in files]
    else:
        session.pop(PENDING, None)


def current_login() -> LoggedIn | None:
    data = session.get(REPORTER)
    if not isinstance(data, dict) or "case_id" not in data or "key" not in data:
        return None
    return LoggedIn(str(data["case_id"]), bytes(data["key"]))


def set_login(login: LoggedIn) -> None:
    session[REPORTER] = {"case_id": login.case_id, "key": login.case_key}


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        login = current_login()
        if login is None:
            return redirect(url_for("reporter.login"), code=303)
        return view(login, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def see_other(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), code=303)


# -- template helpers (reporter templates only) ----------------------------------------------

def size(n: int | None) -> str:
    n = int(n or 0)
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f} {unit}" if value >= 10 or value.is_integer() else f"{value:.1f} {unit}"
    return f"{n} B"


def clean_info(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """The cleaning report of one file in the visitor's language (None: nothing to say)."""
    if not data:
        return None
    try:
        rep = CleanReport.from_dict(data)
    except (KeyError, ValueError, TypeError):
        return None
    code = lang()
    return {"kind": rep.kind_label(code), "cleaned": rep.cleaned,
            "removed": rep.removed_labels(code), "notes": rep.note_labels(code)}


def show_date(value: date | datetime) -> str:
    return format_date(value, "long")  # a datetime is shown in the office's zone (Babel's tz)


def show_datetime(value: datetime) -> str:
    return format_datetime(value, "d MMM yyyy HH:mm")


def template_helpers() -> dict[str, Any]:
    return {"size": size, "clean_info": clean_info, "date": show_date, "datetime": show_datetime}
