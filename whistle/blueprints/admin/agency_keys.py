"""Admin: the list of receiving agencies' public keys (referral packages are encrypted to them)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crypto.external import RecipientError
from whistle.db import transaction
from whistle.domain.constants import Role
from whistle.services.people import accounts
from whistle.services.records import agencies
from whistle.web.i18n import refusal_text
from whistle.web.officer_auth import current_officer, officer_required
from whistle.web.state import state

from . import bp


@bp.route("/agencies", methods=["GET", "POST"])
@officer_required(Role.ADMIN.value)
def agency_keys() -> object:
    error = None
    if request.method == "POST":
        try:
            with transaction(state().db) as db:
                agencies.add(db, accounts.actor_of(current_officer()),
                             (request.form.get("name") or "")[:400],
                             (request.form.get("key") or "")[:70_000])
            flash(_("Agency key added."), "info")
            return redirect(url_for("admin.agency_keys"), code=303)
        except RecipientError:
            error = _("The key is not an age recipient (age1...) or an OpenPGP public key block.")
        except agencies.AgencyError as exc:
            error = refusal_text(exc)
    with transaction(state().db) as db:
        rows = [(r.id, r.name, r.kind, r.fingerprint) for r in agencies.active(db)]
    return render_template("admin/agencies.html", rows=rows, error=error,
                           form=request.form), 422 if error else 200


@bp.post("/agencies/<int:key_id>/remove")
@officer_required(Role.ADMIN.value)
def agency_key_remove(key_id: int) -> object:
    try:
        with transaction(state().db) as db:
            agencies.deactivate(db, accounts.actor_of(current_officer()), key_id)
        flash(_("Agency key removed."), "info")
    except agencies.AgencyError as exc:
        flash(refusal_text(exc), "error")
    return redirect(url_for("admin.agency_keys"), code=303)
