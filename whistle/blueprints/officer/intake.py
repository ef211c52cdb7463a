"""Intake by the penerima: record a report that arrived outside the web, hand over a ticket;
tell a caller the status of a case by its register number.

The ticket is shown once (post -> redirect -> the receipt page pops it from the sealed
server-side session) and works once (the reporter's first log-in replaces it). After
recording, the penerima has no key to the case.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import redirect, render_template, request, session, url_for

from whistle.db import transaction
from whistle.domain.constants import Category, Kind, choices, label
from whistle.services.cases import intake
from whistle.services.cases.calendar import today as local_today
from whistle.services.reporter import reports
from whistle.web.i18n import select_locale
from whistle.web.limits import limiter, session_key, session_limit
from whistle.web.officer_auth import current_officer, officer_required
from whistle.web.state import state

from . import bp

RECEIPT = "intake_receipt"


def _page(form: dict[str, str], errors: dict[str, tuple[str, str]] | None = None,
          refused: str | None = None, status: int = 200) -> Any:
    lang = select_locale()
    with transaction(state().db) as db:
        units = reports.accepting_units(db)
    pick = 0 if lang == "en" else 1
    return render_template(
        "officer/intake/form.html", form=form, units=units, refused=refused,
        errors={k: v[pick] for k, v in (errors or {}).items()},
        channels=[(c.value, label(c, lang)) for c in intake.INTAKE_CHANNELS],
        kinds=choices(Kind, lang), categories=choices(Category, lang),
        identity_fields=reports.IDENTITY_FIELDS, report_fields=reports.REPORT_FIELDS,
        today=local_today(state().config), officer_nav=True), status


@bp.get("/intake", endpoint="intake")
@officer_required("penerima")
def intake_form() -> Any:
    me = current_officer()
    return _page({"received_on": local_today(state().config).isoformat(),
                  "unit_id": str(me.unit_id or "")})


@bp.post("/intake")
@officer_required("penerima")
def intake_record() -> Any:
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    try:
        done = intake.record(state().db, form, officer_id=current_officer().id,
                             pepper=state().secrets.pepper, today=local_today(state().config))
    except intake.IntakeInvalid as exc:
        return _page(form, exc.errors, status=422)
    except reports.ReportRefused as exc:
        return _page(form, refused=exc.text.get(select_locale()), status=422)
    session[RECEIPT] = {"ticket": done.ticket, "register_no": done.register_no,
                        "due_on": done.due_on.isoformat() if done.due_on else ""}
    return redirect(url_for("officer.intake_done"), code=303)


@bp.get("/intake/done")
@officer_required("penerima")
def intake_done() -> Any:
    receipt = session.pop(RECEIPT, None)  # shown once: a reload shows nothing
    return render_template("officer/intake/done.html", receipt=receipt, officer_nav=True,
                           due_on=date.fromisoformat(receipt["due_on"]) if receipt and receipt["due_on"] else None)


@bp.get("/intake/status", endpoint="intake_status")
@officer_required("penerima")
def intake_status_form() -> Any:
    return render_template("officer/intake/status.html", officer_nav=True, asked="")


@bp.post("/intake/status")
@limiter.limit(session_limit, key_func=session_key)
@officer_required("penerima")
def intake_status_lookup() -> Any:
    # POST, not a query string: register numbers stay out of URLs, history and proxies' logs.
    typed = request.form.get("register_no") or ""
    asked = typed[:intake.MAX_REGISTER_INPUT]  # echoed back into the field, never more
    try:
        found = intake.desk_status(state().db, typed, officer_id=current_officer().id)
    except intake.RegisterMalformed:
        return render_template("officer/intake/status.html", officer_nav=True, asked=asked,
                               problem="malformed"), 422
    if found is None:
        return render_template("officer/intake/status.html", officer_nav=True, asked=asked,
                               problem="unknown"), 404
    return render_template("officer/intake/status.html", officer_nav=True, asked="",
                           found=found, status_label=label(found.status, select_locale()))
