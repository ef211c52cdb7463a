"""Public pages: the landing page, the procedure (tata cara pengaduan) generated from the
workflow configuration, and the reporter's printable copy of their report."""
from __future__ import annotations

from typing import Any

from flask import render_template, request

from whistle.domain.constants import label, meaning
from whistle.domain.procedure import procedure as build_procedure
from whistle.services.cases.calendar import deadline_config, today
from whistle.services.reporter import followup, printcopy

from ...web.sessions import destroy_session
from ...web.state import state
from . import bp
from .common import lang, login_required, see_other


@bp.get("/")
def landing() -> str:
    return render_template("reporter/landing.html")


@bp.get("/tata-cara")
def procedure() -> str:
    """The steps, deadlines and outcomes as this deployment is configured (never hand-written)."""
    code = lang()
    return render_template("reporter/procedure.html", proc=build_procedure(deadline_config(state().config)),
                           lang=code, label=lambda v: label(v, code), meaning=lambda s: meaning(s, code))


@bp.get("/laporan/cetak")
@login_required
def print_copy(login_: followup.LoggedIn) -> Any:
    """A copy to print (no JavaScript: the browser's own print command). The identity section
    appears only when asked for (?identitas=1), and says that it is sealed."""
    try:
        copy = printcopy.print_copy(state().db, login_, lang(), today=today(state().config))
    except followup.TicketUnknown:
        destroy_session()
        return see_other("reporter.login")
    return render_template("reporter/print.html", copy=copy,
                           show_identity=request.args.get("identitas") == "1")
