"""Identity escalation pages (services/escalation.py holds the rules and the crypto)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from whistle.db import transaction
from whistle.models import IdentityRequest, Officer
from whistle.services.cases.transitions import CaseNotFound
from whistle.services.custody import escalation
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
INVOLVED = tuple(sorted(set(REQUESTERS) | {str(r) for r in escalation.CUSTODIAN_ROLES}))


def _row(db: object, req: IdentityRequest) -> dict[str, object]:
    requester = db.get(Officer, req.requester_id)  # type: ignore[attr-defined]
    return {"id": req.id, "register": escalation.case_register(db, req.case_id),  # type: ignore[arg-type]
            "status": req.status, "requester": requester.display_name if requester else "?",
            "created_at": req.created_at, "tell_reporter": req.tell_reporter}


@bp.get("/identity")
@officer_required(*INVOLVED)
def identity_index() -> str:
    with transaction(state().db) as db:
        me = db.get(Officer, current_officer().id)
        lists = escalation.overview(db, me, team_keys())
        rows = {name: [_row(db, r) for r in reqs] for name, reqs in lists.items()}
    return render_template("officer/identity/index.html", rows=rows)


@bp.route("/cases/<case_id>/identity", methods=["GET", "POST"])
@officer_required(*REQUESTERS)
def identity_request(case_id: str) -> object:
    error = None
    if request.method == "POST":
        try:
            with transaction(state().db) as db:
                req = escalation.request_identity(db, db.get(Officer, current_officer().id),
                                                  team_keys(), case_id,
                                                  request.form.get("reason", "")[:8000])
            flash(_("Request sent to the authorised official."), "info")
            return redirect(url_for("officer.identity_detail", request_id=req.id), code=303)
        except CaseNotFound:
            abort(404)
        except escalation.EscalationError as exc:
            error = refusal_text(exc)
    return render_template("officer/identity/request.html", case_id=case_id,
                           error=error), 422 if error else 200


@bp.get("/identity/<request_id>")
@officer_required(*INVOLVED)
def identity_detail(request_id: str) -> str:
    me_id = current_officer().id
    disclosure, problem = None, None
    with transaction(state().db) as db:
        req = db.get(IdentityRequest, request_id) if request_id.isalnum() else None
        if req is None:
            abort(404)
        me = db.get(Officer, me_id)
        keys = team_keys()
        reason = escalation.reason_text(db, req, keys)
        can_release = bool(escalation.releasable(db, me, keys, req))
        involved = req.requester_id == me_id or reason is not None or can_release
        if not involved:
            abort(404)
        if req.requester_id == me_id and req.status in (escalation.APPROVED, escalation.OPENED):
            try:
                disclosure = escalation.open_identity(db, me, officer_private_key(), keys, req.id)
            except escalation.EscalationError as exc:
                problem = refusal_text(exc)
        row = _row(db, req)
        can_decide = (me.role == "pyb" and req.status == escalation.PENDING
                      and req.requester_id != me_id and reason is not None)
    return render_template("officer/identity/detail.html", req=row, reason=reason,
                           disclosure=disclosure, problem=problem, can_decide=can_decide,
                           can_release=can_release)


@bp.post("/identity/<request_id>/decide")
@officer_required("pyb")
def identity_decide(request_id: str) -> object:
    decision = request.form.get("decision")
    if decision not in ("approve", "refuse"):
        abort(400)
    try:
        with transaction(state().db) as db:
            escalation.decide(db, db.get(Officer, current_officer().id), team_keys(), request_id,
                              decision == "approve", request.form.get("harm") != "1")
    except CaseNotFound:
        abort(404)
    except escalation.EscalationError as exc:
        flash(refusal_text(exc), "error")
    return redirect(url_for("officer.identity_detail", request_id=request_id), code=303)


@bp.post("/identity/<request_id>/release")
@officer_required(*(str(r) for r in escalation.CUSTODIAN_ROLES))
def identity_release(request_id: str) -> object:
    try:
        with transaction(state().db) as db:
            escalation.release_share(db, db.get(Officer, current_officer().id), team_keys(),
                                     request_id)
        flash(_("Your share was released to the requester."), "info")
    except CaseNotFound:
        abort(404)
    except escalation.EscalationError as exc:
        flash(refusal_text(exc), "error")
    return redirect(url_for("officer.identity_index"), code=303)
