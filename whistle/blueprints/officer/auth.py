"""Officer log-in, log-out, enrolment (passphrase + TOTP) and the account page.

Thin routes: the rules live in services/people (accounts, totp) and services/custody
(membership: the keys an officer holds; nothing is handed to anybody at log-in). The approval
pages for pending team members are in ``membership.py`` beside this module.
"""
from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from whistle.db import transaction
from whistle.services.custody import membership, notices, teams
from whistle.services.people import accounts, guided, totp
from whistle.web.i18n import refusal_text
from whistle.web.limits import argon2_slot
from whistle.web.officer_auth import (
    current_officer,
    end_officer_session,
    install_team_key_sync,
    is_logged_in,
    landing_url,
    officer_required,
    safe_next,
    start_officer_session,
    team_keys,
)
from whistle.web.sessions import rotate_session
from whistle.web.state import state

from . import bp

ENROL_KEY = "enrol"
# Every officer and admin request re-synchronises its session's team keys through custody.
bp.record_once(lambda setup: install_team_key_sync(setup.app, membership.sync_session_keys))


def _field(name: str, limit: int = 1024) -> str:
    return (request.form.get(name) or "")[:limit]


@bp.app_context_processor
def _officer_context() -> dict[str, object]:
    """``officer_role()`` for navigation menus (None when nobody is logged in)."""
    def officer_role() -> str | None:
        return current_officer().role if is_logged_in() else None

    def has_endpoint(name: str) -> bool:
        return name in current_app.view_functions

    return {"officer_role": officer_role, "has_endpoint": has_endpoint}


@bp.route("/login", methods=["GET", "POST"])
def login() -> object:
    nxt = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("officer/auth/login.html", next=nxt)
    username, passphrase, code = _field("username", 64), _field("passphrase"), _field("code", 16)
    with argon2_slot(), transaction(state().db) as db:
        result = accounts.authenticate(db, username, passphrase, code, state().secrets.totp_key)
        # Only unwrap what is already ours: nothing is handed on to anybody at log-in.
        keys = membership.held_team_keys(db, result.officer.id, result.private_key) \
            if result is not None else {}
    if result is None:
        # One message for unknown user, wrong passphrase, wrong code, and throttled account.
        return render_template("officer/auth/login.html", next=nxt, failed=True,
                               username=username), 401
    start_officer_session(result.officer, result.private_key, keys)
    return redirect(nxt or landing_url(result.officer), code=303)


@bp.post("/logout")
def logout() -> object:
    end_officer_session()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("officer.login"), code=303)


@bp.route("/enrol", methods=["GET", "POST"])
def enrol() -> object:
    if request.method == "GET":
        return render_template("officer/auth/enrol.html")
    username, secret = _field("username", 64), _field("secret", 64)
    with transaction(state().db) as db:
        officer = accounts.find_enrolment(db, username, secret)
        found = (officer.id, officer.username) if officer else None
    if found is None:
        return render_template("officer/auth/enrol.html", failed=True, username=username), 401
    if is_logged_in():
        end_officer_session()
    session.clear()
    rotate_session()
    session[ENROL_KEY] = {"officer_id": found[0], "username": found[1],
                          "digest": accounts.enrolment_digest(secret), "totp": totp.new_secret()}
    return redirect(url_for("officer.enrol_setup"), code=303)


def _enrol_state() -> dict[str, object]:
    data = session.get(ENROL_KEY)
    if not isinstance(data, dict):
        abort(404)
    return data


@bp.route("/enrol/setup", methods=["GET", "POST"])
def enrol_setup() -> object:
    data = _enrol_state()
    secret = str(data["totp"])
    page = {"username": data["username"], "secret": totp.group_secret(secret)}
    if request.method == "GET":
        return render_template("officer/auth/enrol_setup.html", **page)
    passphrase, confirm = _field("passphrase"), _field("confirm")
    if passphrase != confirm:
        return render_template("officer/auth/enrol_setup.html", **page,
                               error=_("The two passphrases differ.")), 422
    try:
        with argon2_slot(), transaction(state().db) as db:
            done = accounts.complete_enrolment(db, int(data["officer_id"]),  # type: ignore[call-overload]
                                               bytes(data["digest"]),  # type: ignore[call-overload]
                                               passphrase, secret, _field("code", 16),
                                               state().secrets.totp_key)
            # A team the guided first-unit form planned for this officer is founded now, with a
            # new key wrapped to them alone (services/people/guided.py).
            guided.found_planned_team(db, done.officer)
    except accounts.AccountError as exc:
        return render_template("officer/auth/enrol_setup.html", **page, error=refusal_text(exc)), 422
    session.pop(ENROL_KEY, None)
    flash(_("Enrolment complete. Log in with your passphrase and the next code your app shows."),
          "info")
    return redirect(url_for("officer.login"), code=303)


@bp.get("/enrol/qr.png")
def enrol_qr() -> Response:
    data = _enrol_state()
    png = totp.qr_png(str(data["totp"]), str(data["username"]))
    # The image is the TOTP secret itself: never cached (the global headers add no-store too).
    return Response(png, mimetype="image/png",
                    headers={"Cache-Control": "no-store, max-age=0"})


@bp.get("/account")
@officer_required()
def account() -> str:
    me = current_officer()
    held = team_keys()
    with transaction(state().db) as db:
        mine = [(m.team.unit.name, m.team.role, m.wrapped_key is not None)
                for m in teams.memberships(db, me.id)]
        my_pending = membership.my_pending(db, me)
        waiting = membership.waiting_for(db, me, held)
        news = notices.for_officer(db, me.id)
        fingerprint = membership.key_fingerprint(me.public_key) if me.public_key else None
    return render_template("officer/auth/account.html", me=me, mine=mine, my_pending=my_pending,
                           waiting=waiting, news=news, fingerprint=fingerprint)


from . import team_approval  # noqa: E402,F401  (the approval pages register on bp)
