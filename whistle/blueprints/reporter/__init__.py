"""The reporter's side: landing page, new report, ticket receipt, follow-up with a ticket.

Public and JavaScript-free (Tor Browser "Safest"); every page is small, has no external
resource and works at 360 px. Routes are thin: parse -> service -> render.
"""
from __future__ import annotations

from flask import Blueprint

from .common import template_helpers
from .uploads import install_upload_streams

bp = Blueprint("reporter", __name__)
# Upload parts are spooled into the instance's work dir (a tmpfs in production), not /tmp.
bp.record_once(install_upload_streams)
bp.context_processor(template_helpers)

from . import followup, landing, submit  # noqa: E402,F401  (routes register themselves on bp)
