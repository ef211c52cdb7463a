"""Approving or refusing a pending team member, in the key holder's own session.

Thin routes over ``services/custody/membership.py``; only a holder of the team's key sees a
pending member's page (anybody else gets the same 404 as for a member that does not exist).
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from whistle.db import Conflict, transaction
from whistle.services.custody import membership, teams
from whistle.web.i18n import refusal_text
from whistle.web.officer_auth import current_officer, officer_required, team_keys
from whistle.web.state import state

from . import bp

TEAM_ROLES = tuple(str(r) for r in teams.TEAM_ROLES)


def _view(team_id: int, officer_id: int) -> membership.PendingView | None:
    try:
        with transaction(state().db) as db:
            return membership.pending_view(db, current_officer(), team_keys(), team_id,
                                           officer_id)
    except membership.MembershipError:
        return None


def _page(view: membership.PendingView, error: str | None = None) -> tuple[str, int]:
    return (render_template("officer/auth/membership.html", p=view, error=error),
            422 if error else 200)


@bp.get("/team/<int:team_id>/members/<int:officer_id>")
@officer_required(*TEAM_ROLES)
def membership_page(team_id: int, officer_id: int) -> tuple[str, int]:
    view = _view(team_id, officer_id)
    if view is None:
        abort(404)
    return _page(view)


def _refused(team_id: int, officer_id: int, exc: Exception) -> object:
    """Show why, on the approval page when it still exists, else on the account page."""
    view = _view(team_id, officer_id)
    if view is not None:
        return _page(view, refusal_text(exc))
    flash(refusal_text(exc), "error")
    return redirect(url_for("officer.account"), code=303)


@bp.post("/team/<int:team_id>/members/<int:officer_id>/approve")
@officer_required(*TEAM_ROLES)
def membership_approve(team_id: int, officer_id: int) -> object:
    try:
        with transaction(state().db) as db:
            outcome = membership.approve(
                db, current_officer(), team_keys(), team_id, officer_id,
                fingerprint=(request.form.get("fingerprint") or "")[:128],
                compared=request.form.get("compared") == "1")
    except (membership.MembershipError, Conflict) as exc:
        if isinstance(exc, Conflict):
            exc = membership.MembershipError(membership.NOT_PENDING)
        return _refused(team_id, officer_id, exc)
    if outcome.joined:
        flash(_("Approved: the new member now holds the team key."), "info")
        return redirect(url_for("officer.account"), code=303)
    flash(_("Your approval is recorded (%(n)d of %(needed)d). Another key holder must approve "
            "as well before the team key is handed over.", n=outcome.approvals,
            needed=outcome.needed), "info")
    return redirect(url_for("officer.membership_page", team_id=team_id, officer_id=officer_id),
                    code=303)


@bp.post("/team/<int:team_id>/members/<int:officer_id>/refuse")
@officer_required(*TEAM_ROLES)
def membership_refuse(team_id: int, officer_id: int) -> object:
    try:
        with transaction(state().db) as db:
            membership.refuse(db, current_officer(), team_keys(), team_id, officer_id)
    except (membership.MembershipError, Conflict) as exc:
        if isinstance(exc, Conflict):
            exc = membership.MembershipError(membership.NOT_PENDING)
        return _refused(team_id, officer_id, exc)
    flash(_("Refused: the pending membership was removed and the team was told."), "info")
    return redirect(url_for("officer.account"), code=303)
