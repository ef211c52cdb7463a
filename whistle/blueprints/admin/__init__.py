"""Administration area: units, officers, teams, calendar (role admin); audit log (auditor).

The admin never holds a team key and no page here reads a case: accounts and keys only.
"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import agency_keys, audit_log, first_unit, people, settings, stats, team_admin  # noqa: E402,F401  (routes register on bp)
