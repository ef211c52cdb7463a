"""Admin: teams (a role at a unit). The team key is made here and wrapped to the first member;
later members stay pending until the team's key holders approve them in their own sessions
(services/custody/membership.py); the admin can neither approve nor hand a key on."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from crypto import PublicKey
from whistle.db import transaction
from whistle.domain.constants import Role
from whistle.models import Officer, Team, TeamMember, Unit
from whistle.services.custody import membership, teams
from whistle.services.messages import N_
from whistle.services.people import accounts
from whistle.web.i18n import refusal_text
from whistle.web.ints import form_int
from whistle.web.officer_auth import current_officer, officer_required
from whistle.web.state import state

from . import bp

ADMIN = Role.ADMIN.value


def _page(error: str | None = None) -> tuple[str, int]:
    with transaction(state().db) as db:
        rows = []
        for t in db.scalars(select(Team).order_by(Team.unit_id, Team.role)):
            members = [{"username": m.officer.username, "id": m.officer.id,
                        "holder": m.wrapped_key is not None,
                        "last": m.wrapped_key is not None
                        and not teams.other_active_holders(db, t.id, m.officer.id)}
                       for m in db.scalars(select(TeamMember).where(
                           TeamMember.team_id == t.id).order_by(TeamMember.added_at))]
            joined = {m["id"] for m in members}
            # "Add member" offers only who could join: this team's role and unit, not a member yet.
            candidates = [(o.id, o.username + ("" if o.enrolled_at else " — " + _("not enrolled")))
                          for o in db.scalars(select(Officer).where(
                              Officer.role == t.role, Officer.unit_id == t.unit_id,
                              Officer.active.is_(True)).order_by(Officer.username))
                          if o.id not in joined]
            rows.append({"id": t.id, "unit": t.unit.code, "role": t.role, "members": members,
                         "candidates": candidates,
                         "needed": membership.approvals_needed(db, t),
                         "fingerprint": PublicKey.from_bytes(t.public_key).fingerprint()})
        unit_opts = [(u.id, u.code) for u in db.scalars(select(Unit).order_by(Unit.code))]
        officer_opts = [(o.id, f"{o.username} ({o.role}, {o.unit.code if o.unit else '-'})"
                         + ("" if o.enrolled_at else " — " + _("not enrolled")))
                        for o in db.scalars(select(Officer).where(
                            Officer.role.in_(teams.TEAM_ROLES), Officer.active.is_(True))
                            .order_by(Officer.username))]
    body = render_template("admin/teams.html", teams=rows, units=unit_opts,
                           officers=officer_opts, roles=teams.TEAM_ROLES, error=error)
    return body, 422 if error else 200


@bp.get("/teams")
@officer_required(ADMIN)
def teams_page() -> tuple[str, int]:
    return _page()


@bp.post("/teams")
@officer_required(ADMIN)
def create_team() -> object:
    f = request.form
    unit_id, officer_id = form_int("unit_id"), form_int("officer_id")  # 422 if out of range
    try:
        with transaction(state().db) as db:
            unit = db.get(Unit, unit_id or 0)
            first = db.get(Officer, officer_id or 0)
            if unit is None or first is None:
                raise teams.TeamError(N_("Choose a unit and a first member."))
            teams.create_team(db, accounts.actor_of(current_officer()), unit, f.get("role", ""),
                              first)
    except teams.TeamError as exc:
        return _page(refusal_text(exc))
    flash(_("Team created; its key is held by the first member only."), "info")
    return redirect(url_for("admin.teams_page"), code=303)


@bp.post("/teams/<int:team_id>/members")
@officer_required(ADMIN)
def add_member(team_id: int) -> object:
    officer_id = form_int("officer_id")
    try:
        with transaction(state().db) as db:
            team = db.get(Team, team_id)
            if team is None:
                abort(404)
            officer = db.get(Officer, officer_id or 0)
            if officer is None:
                raise teams.TeamError(N_("Choose an officer."))
            teams.add_member(db, accounts.actor_of(current_officer()), team, officer)
    except teams.TeamError as exc:
        return _page(refusal_text(exc))
    flash(_("Member added as pending: the team's key holders must approve them in their own "
            "sessions after comparing key fingerprints."), "info")
    return redirect(url_for("admin.teams_page"), code=303)


@bp.post("/teams/<int:team_id>/members/<int:officer_id>/remove")
@officer_required(ADMIN)
def remove_member(team_id: int, officer_id: int) -> object:
    try:
        with transaction(state().db) as db:
            team, officer = db.get(Team, team_id), db.get(Officer, officer_id)
            if team is None or officer is None:
                abort(404)
            teams.remove_member(db, accounts.actor_of(current_officer()), team, officer)
    except teams.TeamError as exc:
        return _page(refusal_text(exc))
    flash(_("Member removed."), "info")
    return redirect(url_for("admin.teams_page"), code=303)
