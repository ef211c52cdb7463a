"""Identity escalation pages (services/custody/escalation*.py and releases.py hold the rules).

The identity, once opened, lives only in the requester's encrypted server session (sealed
under the key in their cookie, web/sessions.py) for ``identity_reading_seconds``, so that a
reload within that window shows it again; after it, every officer request drops it and the
page says it is gone. Opening again needs a new request.
"""
from __future__ import annotations

import time

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from whistle.db import transaction
from whistle.models import Officer
from whistle.services.custody import escalation, escalation_view, releases
from whistle.services.custody.escalation_state import LEGAL_BASES, lives
from whistle.services.messages import CaseNotFound
from whistle.web.i18n import refusal_text
from whistle.web.officer_auth import (
    current_officer,
    officer_private_key,
    officer_required,
    team_keys,
)
from whistle.web.state import state

from . import bp

REQUESTERS = tuple(str(r) for r in escalation.REQUESTER_ROLES)
CUSTODIANS = tuple(str(r) for r in escalation.CUSTODIAN_ROLES)
INVOLVED = tuple(sorted(set(REQUESTERS) | set(CUSTODIANS)))
SHOWN = "identity_shown"  # session slot: {request id: {"at": epoch seconds, identity, witnesses}}


def _window() -> int:
    return lives(state().config).reading_seconds


@bp.before_request
def _forget_old_disclosures() -> None:
    """Past the reading window the identity leaves the session, whatever page comes next."""
    if SHOWN not in session:
        return
    keep = {rid: d for rid, d in dict(session[SHOWN]).items()
            if time.time() - float(d.get("at", 0)) < _window()}
    if keep:
        if len(keep) != len(session[SHOWN]):
            session[SHOWN] = keep
    else:
        session.pop(SHOWN, None)


def _officer(db: Session) -> Officer:
    me = db.get(Officer, current_officer().id)
    if me is None:  # deleted between the session check and now
        abort(401)
    return me


@bp.get("/identity")
@officer_required(*INVOLVED)
def identity_index() -> str:
    with transaction(state().db) as db:
        me = _officer(db)
        rows = escalation_view.index(db, me, team_keys(), config=state().config)
    return render_template("officer/identity/index.html", rows=rows)


@bp.route("/cases/<case_id>/identity", methods=["GET", "POST"])
@officer_required(*REQUESTERS)
def identity_request(case_id: str) -> ResponseReturnValue:
    error = None
    form = {"reason": "", "basis": "", "basis_text": ""}
    if request.method == "POST":
        form = {k: request.form.get(k, "")[:8000] for k in form}
        try:
            with transaction(state().db) as db:
                req = escalation.request_identity(
                    db, _officer(db), team_keys(), case_id,
                    form["reason"], form["basis"], form["basis_text"], config=state().config)
            flash(_("Request sent to the authorised official.") if req.status == escalation.PENDING
                  else _("Request recorded on the reporter's consent; waiting for the custodians."),
                  "info")
            return redirect(url_for("officer.identity_detail", request_id=req.id), code=303)
        except CaseNotFound:
            abort(404)
        except escalation.EscalationError as exc:
            error = refusal_text(exc)
    with transaction(state().db) as db:
        consent = escalation_view.consent_on_file(db, team_keys(), case_id)
    return render_template("officer/identity/request.html", case_id=case_id, error=error,
                           form=form, bases=LEGAL_BASES, consent=consent,
                           consent_code=escalation.CONSENT), 422 if error else 200


@bp.get("/identity/<request_id>")
@officer_required(*INVOLVED)
def identity_detail(request_id: str) -> str:
    with transaction(state().db) as db:
        try:
            view = escalation_view.detail(db, _officer(db), team_keys(),
                                          request_id, config=state().config)
        except CaseNotFound:
            abort(404)
    shown = (session.get(SHOWN) or {}).get(request_id) if view.mine else None
    return render_template("officer/identity/detail.html", view=view, req=view.row,
                           disclosure=shown, gone=view.mine and view.row.status == "opened"
                           and shown is None, window_minutes=max(1, _window() // 60))


@bp.post("/identity/<request_id>/decide")
@officer_required("pyb")
def identity_decide(request_id: str) -> ResponseReturnValue:
    decision = request.form.get("decision")
    if decision not in ("approve", "refuse"):
        abort(400)
    try:
        with transaction(state().db) as db:
            escalation.decide(db, _officer(db), team_keys(), request_id,
                              decision == "approve", request.form.get("harm") != "1",
                              request.form.get("decision_reason", "")[:8000],
                              config=state().config)
    except CaseNotFound:
        abort(404)
    except escalation.EscalationError as exc:
        flash(refusal_text(exc), "error")
    return redirect(url_for("officer.identity_detail", request_id=request_id), code=303)


@bp.post("/identity/<request_id>/release")
@officer_required(*CUSTODIANS)
def identity_release(request_id: str) -> ResponseReturnValue:
    try:
        with transaction(state().db) as db:
            releases.release_share(db, _officer(db), team_keys(),
                                   request_id, config=state().config)
        flash(_("Your share was released for this request."), "info")
    except CaseNotFound:
        abort(404)
    except escalation.EscalationError as exc:
        flash(refusal_text(exc), "error")
    return redirect(url_for("officer.identity_index"), code=303)


@bp.post("/identity/<request_id>/open")
@officer_required(*REQUESTERS)
def identity_open(request_id: str) -> ResponseReturnValue:
    try:
        with transaction(state().db) as db:
            shown = releases.open_identity(db, _officer(db),
                                           officer_private_key(), team_keys(), request_id,
                                           config=state().config)
    except CaseNotFound:
        abort(404)
    except escalation.EscalationError as exc:
        flash(refusal_text(exc), "error")
    else:
        # Only here, and only encrypted under the key in the requester's cookie.
        slot = dict(session.get(SHOWN) or {})
        slot[request_id] = {"at": time.time(), "identity": shown.identity,
                            "witnesses": shown.witnesses}
        session[SHOWN] = slot
    return redirect(url_for("officer.identity_detail", request_id=request_id), code=303)
