"""New report -> ticket shown until the reporter proves they noted it -> their case page."""
from __future__ import annotations

from typing import Any

from flask import abort, render_template, request, session
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

import crypto
from crypto import TicketTypo
from whistle.services.reporter import followup, reports
from whistle.services.reporter.files import discard_all, still_there

from ...domain.constants import Text
from ...forms.reporter import ConfirmTicketForm, ReportForm
from ...web.errors import CSRF_MESSAGE, render_error
from ...web.limits import (
    argon2_slot,
    hit_ticket_attempt,
    limiter,
    session_key,
    session_limit,
)
from ...web.sessions import KIND_REPORTER, rotate_session
from ...web.state import state
from . import bp
from .common import (
    PENDING,
    RECEIPT,
    lang,
    pending_files,
    say,
    see_other,
    set_login,
    set_pending,
    template_helpers,
)
from .followup import REPLACES, confirm_new_ticket
from .uploads import file_limit, receive, store


def _render_form(form: ReportForm, problems: list[dict[str, Any]], status: int = 200,
                 refusal: str | None = None) -> tuple[str, int]:
    return render_template("reporter/new.html", form=form, pending=pending_files(),
                           problems=problems, refusal=refusal, file_limit=file_limit()), status


FORM_EXPIRED = Text(
    "Sesi Anda berakhir demi keamanan, jadi laporan ini BELUM terkirim. Isian Anda tetap ada di "
    "bawah: periksa, lampirkan kembali berkas bukti, lalu kirim lagi.",
    "Your session ended for your safety, so this report was NOT sent. What you typed is kept "
    "below: check it, attach your evidence files again, and send it again.",
)


@bp.errorhandler(CSRFError)
def form_expired(exc: CSRFError) -> Any:
    """A long report can outlast the session; its expiry must not cost the reporter their text.

    The posted text is shown back, unsent, under a fresh token. Files are not kept: a request
    that failed the CSRF check is never allowed to store anything.
    """
    if request.endpoint != "reporter.new_report" or request.method != "POST":
        return render_error(400, *CSRF_MESSAGE)
    units = reports.unit_choices(state().db)
    if not units:
        return render_template("reporter/closed.html"), 503
    form = ReportForm().setup(lang(), units)
    return _render_form(form, [], 400, refusal=say(FORM_EXPIRED))


@bp.route("/lapor", methods=["GET", "POST"])
@limiter.limit(session_limit, key_func=session_key, methods=["POST"])
def new_report() -> Any:
    units = reports.unit_choices(state().db)
    if not units:
        return render_template("reporter/closed.html"), 503
    form = ReportForm().setup(lang(), units)
    if request.method == "GET":
        return _render_form(form, [])
    # Keep what was uploaded before anything else can fail: the form must survive errors.
    remove = set(form.remove.data or [])
    before = pending_files()
    kept = [f for i, f in enumerate(before) if str(i) not in remove]
    dropped = [f for i, f in enumerate(before) if str(i) in remove]
    discard_all(store(), dropped)
    kept = [f for f in kept if still_there(store(), f)]
    staged, problems = receive(request.files.getlist("files"), len(kept))
    set_pending(kept + staged)
    if not form.validate() or problems:
        return _render_form(form, problems, 422)
    files = pending_files()
    try:
        case, ticket = reports.file_report(state().db, form.to_input(), pepper=state().secrets.pepper,
                                           files=files, store=store(), kdf_slot=argon2_slot)
    except reports.ReportRefused as exc:
        set_pending([])  # the service discarded them with the rolled-back transaction
        if exc.code == "not_accepting":
            return render_template("reporter/closed.html", message=say(exc.text)), 503
        return _render_form(form, [], 422, refusal=say(exc.text))
    session.pop(PENDING, None)
    session[RECEIPT] = {"ticket": ticket, "register_no": case.register_no}
    return see_other("reporter.ticket")


def _ticket_page(receipt: dict[str, Any], form: ConfirmTicketForm,
                 error: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("reporter/ticket.html", groups=receipt["ticket"].split("-"),
                           form=form, error=error, register_no=receipt["register_no"],
                           replacing=REPLACES in receipt), status


@bp.get("/lapor/tiket")
def ticket() -> Any:
    # Shown on every load until the reporter confirms it: a page marked "shown" whose response
    # died on the way (a dropped Tor circuit, a crashed worker) must not cost them their case.
    # It stays only in this session, encrypted under the cookie's key, and dies with it.
    receipt = session.get(RECEIPT)
    if not receipt:
        return see_other("reporter.login")
    return _ticket_page(receipt, ConfirmTicketForm())


def _matches(typed: str, ticket: str) -> bool:
    cleaned = "".join(ch for ch in typed.upper() if ch not in " -\t")
    if len(cleaned) == 4:
        last = ticket.rsplit("-", 1)[1]
        cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
        return crypto.constant_time_equal(cleaned.encode(), last.encode())
    try:
        return crypto.constant_time_equal(crypto.parse_ticket(typed).encode(), ticket.encode())
    except TicketTypo:
        return False


@bp.post("/lapor/tiket")
@limiter.limit(session_limit, key_func=session_key)
def confirm_ticket() -> Any:
    receipt = session.get(RECEIPT)
    if not receipt:
        return see_other("reporter.login")
    form = ConfirmTicketForm()
    if not form.validate() or not _matches(form.typed.data or "", receipt["ticket"]):
        # Shown again so a mistake can be corrected: the ticket is still only in this session.
        return _ticket_page(receipt, form, error="mismatch", status=422)
    if REPLACES in receipt:  # a fresh ticket for an intake ticket: not in the database yet
        return confirm_new_ticket(receipt)
    login = followup.login(state().db, receipt["ticket"], pepper=state().secrets.pepper,
                           hit_limit=hit_ticket_attempt, kdf_slot=argon2_slot)
    session.clear()
    rotate_session(KIND_REPORTER)
    set_login(login)
    return see_other("reporter.case")


@bp.get("/lapor/tanda-terima.txt")
def receipt_txt() -> Response:
    receipt = session.get(RECEIPT)
    if not receipt:  # confirmed (or never filed): the ticket exists nowhere any more
        abort(404)
    # Like the page, available until confirmed: a download that died on the way is retried.
    body = render_template("reporter/receipt_txt.html", ticket=receipt["ticket"],
                           register_no=receipt["register_no"])
    return Response(body.replace("\n", "\r\n"), mimetype="text/plain", headers={  # Flask adds "; charset=utf-8"
        "Content-Disposition": 'attachment; filename="tanda-terima-laporan.txt"'})


@bp.app_errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge) -> tuple[str, int]:
    # Shown in both languages: the body was refused before we could read anything else.
    return render_template("reporter/too_large.html", limit=state().config.max_upload_bytes,
                           file_limit=file_limit(), **template_helpers()), 413
