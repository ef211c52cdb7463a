"""Follow-up with a ticket: log in, read the case, reply (with files), download, log out."""
from __future__ import annotations

from typing import Any

from flask import (
    Response,
    abort,
    render_template,
    request,
    session,
    stream_with_context,
)
from werkzeug.wrappers import Response as WerkzeugResponse

from whistle.services.custody import consent
from whistle.services.reporter import followup
from whistle.services.reporter.files import discard_all

from ...db import Conflict
from ...forms.reporter import ReplyForm, TicketForm
from ...web.limits import (
    argon2_slot,
    hit_ticket_attempt,
    limiter,
    session_key,
    session_limit,
)
from ...web.sessions import KIND_REPORTER, destroy_session, rotate_session
from ...web.state import state
from . import bp
from .common import (
    RECEIPT,
    current_login,
    lang,
    login_required,
    pending_files,
    see_other,
    set_login,
)
from .uploads import file_limit, receive, store


@bp.route("/masuk", methods=["GET", "POST"])
@limiter.limit(session_limit, key_func=session_key, methods=["POST"])
def login() -> Any:
    form = TicketForm()
    if request.method == "GET":
        if current_login() is not None:
            return see_other("reporter.case")
        return render_template("reporter/login.html", form=form)
    error = None
    if form.validate():
        try:
            result = followup.login(state().db, form.ticket.data or "",
                                    pepper=state().secrets.pepper,
                                    hit_limit=hit_ticket_attempt, kdf_slot=argon2_slot)
        except followup.TicketMistyped:
            error = "mistyped"
        except followup.TicketUnknown:
            error = "unknown"
        except followup.MustReplace as exc:  # an intake ticket: a fresh one first, nothing else
            _fresh_session()
            r = exc.replacement
            session[RECEIPT] = {"ticket": r.ticket, "register_no": r.register_no,
                                REPLACES: r.to_session()}
            return see_other("reporter.ticket")  # submit.py's page, until it is confirmed
        else:
            _fresh_session()
            set_login(result)
            return see_other("reporter.case")
    form.ticket.data = ""  # never echo a ticket back into the page
    return render_template("reporter/login.html", form=form, error=error), 422


# Receipt slot key: the ticket shown replaces this case's intake ticket once confirmed.
REPLACES = "replaces"


def _fresh_session() -> None:
    discard_all(store(), pending_files())  # a half-written new report is abandoned
    session.clear()
    rotate_session(KIND_REPORTER)  # new id and key: a fixated cookie opens nothing


def confirm_new_ticket(receipt: dict[str, Any]) -> WerkzeugResponse | tuple[str, int]:
    """The reporter typed back the fresh ticket that replaces their intake ticket (called by
    submit.confirm_ticket once the typed text matched): swap it in and open the case."""
    replacement = followup.Replacement.from_session(
        receipt[REPLACES], ticket=receipt["ticket"], register_no=receipt["register_no"])
    try:
        result = followup.confirm_replacement(state().db, replacement,
                                              pepper=state().secrets.pepper, kdf_slot=argon2_slot)
    except followup.TicketUnknown:
        # The other holder of the intake ticket confirmed first: this fresh ticket is void.
        destroy_session()
        return render_template("reporter/login.html", form=TicketForm(), error="unknown"), 422
    _fresh_session()
    set_login(result)
    return see_other("reporter.case")


def _case_page(login_: followup.LoggedIn, form: ReplyForm, problems: list[dict[str, Any]],
               status: int = 200, notice: str | None = None) -> tuple[str, int]:
    view = followup.case_view(state().db, login_, lang())
    identity = consent.reporter_side(state().db, login_.case_id, lang())
    return render_template("reporter/case.html", view=view, form=form, problems=problems,
                           notice=notice, file_limit=file_limit(), identity=identity), status


@bp.get("/laporan")
@login_required
def case(login_: followup.LoggedIn) -> Any:
    try:
        return _case_page(login_, ReplyForm(), [], notice=request.args.get("ok"))
    except followup.TicketUnknown:
        destroy_session()
        return see_other("reporter.login")


@bp.post("/laporan")
@limiter.limit(session_limit, key_func=session_key)
@login_required
def reply(login_: followup.LoggedIn) -> Any:
    form = ReplyForm()
    staged, problems = receive(request.files.getlist("files"), 0)
    if not form.validate() or problems or not (form.body.data or staged):
        discard_all(store(), staged)  # a reply is short: no pending slot, send again
        if not problems and not form.errors:
            form.body.errors = ["empty"]
        return _case_page(login_, form, problems, 422)
    try:
        followup.reply(state().db, login_, form.body.data or "", files=staged, store=store(),
                       config=state().config)
    except followup.CaseReadOnly:
        return _case_page(login_, ReplyForm(), [], 409, notice="read_only")
    except Conflict:  # the case changed under us (maybe only at commit): nothing was saved
        return _case_page(login_, form, [], 409, notice="retry")
    return see_other("reporter.case", ok="sent")


@bp.get("/laporan/berkas/<att_id>")
@login_required
def download(login_: followup.LoggedIn, att_id: str) -> Response:
    found = followup.open_attachment(state().db, login_, att_id, store())
    if found is None:
        abort(404)
    chunks = found.chunks
    # Always a download, never rendered: the content is whatever someone uploaded.
    return Response(stream_with_context(chunks), mimetype="application/octet-stream", headers={
        "Content-Disposition": f"attachment; filename=\"{found.safe_name}\"",
        "Content-Length": str(found.plain_size)})


@bp.post("/keluar")
def logout() -> Any:
    discard_all(store(), pending_files())
    destroy_session()
    return render_template("reporter/logged_out.html")


# -- the reporter's consent to reveal their identity (services/custody/consent.py) -----------

@bp.post("/laporan/identitas/setuju")
@limiter.limit(session_limit, key_func=session_key)
@login_required
def consent_give(login_: followup.LoggedIn) -> Any:
    if request.form.get("confirm") != "1":  # the box says what it means: it must be ticked
        try:
            return _case_page(login_, ReplyForm(), [], 422, notice="consent_unconfirmed")
        except followup.TicketUnknown:
            return see_other("reporter.case")
    try:
        consent.reporter_consents(state().db, login_.case_id, login_.case_key)
    except consent.ConsentRefused:
        return see_other("reporter.case", ok="consent_refused", _anchor="identity-side")
    except Conflict:
        return see_other("reporter.case", ok="retry", _anchor="identity-side")
    return see_other("reporter.case", ok="consented", _anchor="identity-side")


@bp.post("/laporan/identitas/tarik")
@limiter.limit(session_limit, key_func=session_key)
@login_required
def consent_withdraw(login_: followup.LoggedIn) -> Any:
    try:
        consent.reporter_withdraws(state().db, login_.case_id)
    except consent.ConsentRefused:
        return see_other("reporter.case", ok="consent_used", _anchor="identity-side")
    except Conflict:
        return see_other("reporter.case", ok="retry", _anchor="identity-side")
    return see_other("reporter.case", ok="withdrawn", _anchor="identity-side")
