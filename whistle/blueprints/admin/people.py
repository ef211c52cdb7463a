"""Admin: units and officer accounts (create, enrolment reset, (de)activation)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from whistle.db import transaction
from whistle.domain.constants import Role
from whistle.models import Officer, Team, Unit
from whistle.services.custody import teams
from whistle.services.people import accounts, setup
from whistle.web.i18n import refusal_text
from whistle.web.ints import form_int
from whistle.web.officer_auth import current_officer, officer_required
from whistle.web.state import state

from . import bp

ADMIN = Role.ADMIN.value


def _actor() -> str:
    return accounts.actor_of(current_officer())


@bp.get("/")
@officer_required(ADMIN)
def index() -> str:
    with transaction(state().db) as db:
        counts = {name: db.scalar(select(func.count()).select_from(model))
                  for name, model in (("units", Unit), ("officers", Officer), ("teams", Team))}
        steps = setup.checklist(db)
    return render_template("admin/index.html", counts=counts, steps=steps,
                           web_ready=setup.accepts_web_reports(steps),
                           identity_ready=setup.accepts_identity(steps))


@bp.route("/units", methods=["GET", "POST"])
@officer_required(ADMIN)
def units() -> object:
    error = None
    if request.method == "POST":
        try:
            with transaction(state().db) as db:
                accounts.create_unit(db, _actor(), request.form.get("code", "")[:64],
                                     request.form.get("name", "")[:400])
            flash(_("Unit created."), "info")
            return redirect(url_for("admin.units"), code=303)
        except accounts.AccountError as exc:
            error = refusal_text(exc)
    with transaction(state().db) as db:
        rows = db.scalars(select(Unit).order_by(Unit.code)).all()
    return render_template("admin/units.html", units=rows, error=error), 422 if error else 200


def _unit_choices() -> list[tuple[int, str]]:
    with transaction(state().db) as db:
        return [(u.id, f"{u.code} — {u.name}") for u in db.scalars(select(Unit).order_by(Unit.code))]


@bp.route("/officers", methods=["GET", "POST"])
@officer_required(ADMIN)
def officers() -> object:
    error = None
    if request.method == "POST":
        f = request.form
        unit_id = form_int("unit_id")  # 422 if out of range
        try:
            with transaction(state().db) as db:
                officer, secret = accounts.create_officer(
                    db, _actor(), f.get("username", "")[:64], f.get("display_name", "")[:400],
                    f.get("role", ""), unit_id, f.get("email", "")[:300])
                created = {"id": officer.id, "username": officer.username}
            # Shown once, in this response only: it is stored as a hash.
            return render_template("admin/enrolment_secret.html", officer=created, secret=secret,
                                   ttl_hours=int(accounts.ENROLMENT_TTL.total_seconds() // 3600))
        except accounts.AccountError as exc:
            error = refusal_text(exc)
    with transaction(state().db) as db:
        rows = [(o, o.unit.code if o.unit else "", accounts.lost_teams(db, o)) for o in
                db.scalars(select(Officer).order_by(Officer.username))]
    return render_template("admin/officers.html", officers=rows, units=_unit_choices(),
                           roles=accounts.ROLES, error=error), 422 if error else 200


def _officer_page(officer_id: int, error: str | None = None) -> tuple[str, int]:
    with transaction(state().db) as db:
        o = db.get(Officer, officer_id)
        if o is None:
            abort(404)
        unit = o.unit.name if o.unit else ""
        member_rows = [(m.team.unit.code, m.team.role, m.wrapped_key is not None)
                       for m in teams.memberships(db, o.id)]
        sole = accounts.lost_teams(db, o)
    return render_template("admin/officer.html", o=o, unit=unit, memberships=member_rows,
                           sole=sole, error=error), 422 if error else 200


@bp.get("/officers/<int:officer_id>")
@officer_required(ADMIN)
def officer(officer_id: int) -> tuple[str, int]:
    return _officer_page(officer_id)


@bp.post("/officers/<int:officer_id>/reset")
@officer_required(ADMIN)
def reset(officer_id: int) -> object:
    try:
        with transaction(state().db) as db:
            o = db.get(Officer, officer_id)
            if o is None:
                abort(404)
            if o.id == current_officer().id:
                abort(400)  # an admin resetting themself would lock the session out mid-way
            secret = accounts.reset_enrolment(db, _actor(), o)
            created = {"id": o.id, "username": o.username}
    except accounts.AccountError as exc:  # the last key holder of a team
        return _officer_page(officer_id, refusal_text(exc))
    return render_template("admin/enrolment_secret.html", officer=created, secret=secret,
                           ttl_hours=int(accounts.ENROLMENT_TTL.total_seconds() // 3600),
                           reset=True)


@bp.post("/officers/<int:officer_id>/active")
@officer_required(ADMIN)
def set_active(officer_id: int) -> object:
    active = request.form.get("active") == "1"
    try:
        with transaction(state().db) as db:
            o = db.get(Officer, officer_id)
            if o is None:
                abort(404)
            if o.id == current_officer().id and not active:
                abort(400)  # never leave the service without the admin who is acting
            accounts.set_active(db, _actor(), o, active)
    except accounts.AccountError as exc:  # the last key holder of a team
        return _officer_page(officer_id, refusal_text(exc))
    flash(_("Account activated.") if active else _("Account deactivated."), "info")
    return redirect(url_for("admin.officer", officer_id=officer_id), code=303)
