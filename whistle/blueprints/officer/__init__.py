"""Officer workspace. Route modules register themselves on ``bp``; each stays small."""
from __future__ import annotations

import importlib

from flask import Blueprint

bp = Blueprint("officer", __name__, url_prefix="/officer")

# auth: log-in, enrolment, TOTP, log-out (accounts); cases/intake: the case work.
for _name in ("auth", "cases", "intake", "identity", "referral"):
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as exc:  # a module not written yet must not stop the app
        if exc.name != f"{__name__}.{_name}":
            raise
