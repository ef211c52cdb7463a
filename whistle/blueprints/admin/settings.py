"""Admin: working-day calendar overrides (late holidays, cancelled holidays)."""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from whistle.db import transaction
from whistle.domain.constants import Role
from whistle.services.cases import calendar_admin
from whistle.services.people import accounts
from whistle.web.i18n import refusal_text
from whistle.web.officer_auth import current_officer, officer_required
from whistle.web.state import state

from . import bp

ADMIN = Role.ADMIN.value


def _parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


@bp.route("/calendar", methods=["GET", "POST"])
@officer_required(ADMIN)
def calendar() -> object:
    error = None
    if request.method == "POST":
        day = _parse_day(request.form.get("day"))
        kind = request.form.get("kind")
        if day is None or kind not in ("holiday", "workday"):
            error = _("Give a date (YYYY-MM-DD) and choose holiday or working day.")
        else:
            try:
                with transaction(state().db) as db:
                    calendar_admin.set_override(db, accounts.actor_of(current_officer()), day,
                                                kind == "holiday", request.form.get("note", "")[:400])
                flash(_("Calendar updated."), "info")
                return redirect(url_for("admin.calendar"), code=303)
            except calendar_admin.CalendarError as exc:
                error = refusal_text(exc)
    with transaction(state().db) as db:
        rows = [(r.day, r.is_holiday, r.note) for r in calendar_admin.list_overrides(db)]
    return render_template("admin/calendar.html", rows=rows, error=error), 422 if error else 200


@bp.post("/calendar/<day>/delete")
@officer_required(ADMIN)
def calendar_delete(day: str) -> object:
    parsed = _parse_day(day)
    if parsed is not None:
        with transaction(state().db) as db:
            calendar_admin.delete_override(db, accounts.actor_of(current_officer()), parsed)
    return redirect(url_for("admin.calendar"), code=303)
