"""Admin: the guided first unit (a unit and its verifikator, UKI and PYB officers at once)."""
from __future__ import annotations

from flask import render_template, request

from whistle.db import transaction
from whistle.domain.constants import Role, label
from whistle.services.people import accounts, guided
from whistle.web.i18n import refusal_text, select_locale
from whistle.web.officer_auth import current_officer, officer_required
from whistle.web.state import state

from . import bp


def _form_officers() -> list[guided.NewOfficer]:
    return [guided.NewOfficer(role, (request.form.get(f"{role}_username") or "")[:64],
                              (request.form.get(f"{role}_name") or "")[:200],
                              (request.form.get(f"{role}_email") or "")[:254])
            for role in guided.GUIDED_ROLES]


def _roles() -> list[tuple[str, str]]:
    return [(r, label(Role(r), select_locale())) for r in guided.GUIDED_ROLES]


@bp.route("/first-unit", methods=["GET", "POST"])
@officer_required(Role.ADMIN.value)
def first_unit() -> object:
    if request.method == "GET":
        return render_template("admin/first_unit.html", form={}, roles=_roles())
    try:
        with transaction(state().db) as db:
            made = guided.create_first_unit(db, accounts.actor_of(current_officer()),
                                            (request.form.get("code") or "")[:32],
                                            (request.form.get("name") or "")[:200],
                                            _form_officers())
            names = dict(_roles())
            shown = [(names[o.role], o.username, secret) for o, secret in made.secrets]
            unit = (made.unit.code, made.unit.name)
    except accounts.AccountError as exc:
        return render_template("admin/first_unit.html", form=request.form, roles=_roles(),
                               error=refusal_text(exc)), 422
    return render_template("admin/first_unit_done.html", unit=unit, shown=shown,
                           ttl_hours=int(accounts.ENROLMENT_TTL.total_seconds() // 3600))
