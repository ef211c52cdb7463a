"""The dashboard for auditor, PYB, UKI and admin, and its exports (CSV, XLSX, PDF, metadata).

Thin routes over services/records/: every number comes from plaintext metadata through the
jointly suppressed releases (records/release.py); no route here holds or needs a key. Bad
filters are a 400 page that says what was wrong, never a 500.
"""
from __future__ import annotations

from typing import Any

from flask import Response, current_app, render_template, request, url_for
from flask_babel import gettext as _

from whistle.db import transaction
from whistle.domain.constants import Role
from whistle.services.cases.calendar import today as local_today
from whistle.services.records import compliance, dashboard, exports
from whistle.services.records.pdf import html_to_pdf
from whistle.web.i18n import select_locale
from whistle.web.officer_auth import current_officer, officer_required
from whistle.web.state import state

from . import bp

STATS_ROLES = (Role.AUDITOR.value, Role.ADMIN.value, Role.PYB.value, Role.UKI.value)
# Flask config key for K (hide counts 1..K-1); an office may raise it, never below 2.
MIN_CELL_KEY = "WHISTLE_STATS_MIN_CELL"
CASE_ROLES = (Role.VERIFIKATOR.value, Role.PYB.value, Role.PENGKAJI.value, Role.UKI.value)


def _k() -> int:
    value = current_app.config.get(MIN_CELL_KEY, dashboard.DEFAULT_K)
    return max(2, int(value))


def _words() -> dict[str, str]:
    return {
        compliance.MET: _("Met the deadline"), compliance.MISSED: _("Missed the deadline"),
        compliance.LATE_NOW: _("Late now (still open)"), dashboard.IN_PROGRESS: _("In progress"),
        "unclassified": _("Not classified yet"), "dispute": _("Dispute"),
        "violation": _("Indication of a violation"),
    }


def _filter_error(exc: dashboard.BadFilter) -> str:
    return {
        "year": _("The year must be four digits, from %(lo)d on, e.g. 2026.", lo=dashboard.MIN_YEAR),
        "future": _("That year has not begun yet."),
        "quarter": _("The quarter must be 1, 2, 3 or 4."),
        "unit": _("There is no such unit."),
    }.get(exc.code, _("The filter is not valid."))


def _build() -> dashboard.Dashboard | str:
    today = local_today()
    try:
        filters = dashboard.Filters.parse(request.args, today)
        with transaction(state().db) as db:
            return dashboard.build(db, filters, k=_k(), lang=select_locale(), config=state().config,
                                   today=today, words=_words())
    except dashboard.BadFilter as exc:
        return _filter_error(exc)


def titles() -> dict[str, str]:
    return {
        "kind": _("By kind of report"), "category": _("By category"), "channel": _("By channel"),
        "status": _("By status now"), "outcome": _("By outcome"),
        "classification": _("Dispute or violation (the verifikator's classification)"),
        compliance.VERIFICATION: _("Verification within 3 working days"),
        compliance.ANSWER: _("Answer within 5 working days"),
        compliance.INVESTIGATION: _("Investigation within 5, 14 or 60 working days by tier"),
        compliance.DATA_REQUEST: _("Reporter's answer to a data request within its deadline"),
    }


def _inbox_link(dim: str, code: str, d: dashboard.Dashboard) -> str | None:
    """The inbox filtered the same way, for an officer who works cases (None otherwise)."""
    if current_officer().role not in CASE_ROLES or dim not in ("kind", "category", "status"):
        return None
    args: dict[str, Any] = {dim: code}
    if dim != "status":
        args["status"] = "all"
    if d.filters.unit is not None:
        args["unit"] = d.filters.unit
    return url_for("officer.cases", **args) if "officer.cases" in current_app.view_functions else None


def _page(d: dashboard.Dashboard | None, error: str | None) -> tuple[str, int]:
    args = {key: request.args[key] for key in ("year", "quarter", "unit") if request.args.get(key)}
    return render_template("admin/stats.html", d=d, error=error, args=args, titles=titles(),
                           zip=zip, inbox_link=_inbox_link), 400 if error else 200


@bp.get("/stats")
@officer_required(*STATS_ROLES)
def stats() -> object:  # endpoint admin.stats
    d = _build()
    return _page(None, d) if isinstance(d, str) else _page(d, None)


def _download(body: bytes, mimetype: str, name: str) -> Response:
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/stats.<fmt>")
@officer_required(*STATS_ROLES)
def stats_export(fmt: str) -> object:  # endpoint admin.stats_export: csv | xlsx | pdf
    if fmt not in ("csv", "xlsx", "pdf"):
        return _page(None, _("Choose CSV, XLSX or PDF."))
    d = _build()
    if isinstance(d, str):
        return _page(None, d)
    sheet = exports.sheet(d, titles(), _("Total"))
    slug = exports.slug(d)
    if fmt == "csv":
        return _download(exports.as_csv(sheet), "text/csv", f"whistle-statistik-{slug}.csv")
    if fmt == "xlsx":
        return _download(exports.as_xlsx(sheet), exports.XLSX_TYPE, f"whistle-statistik-{slug}.xlsx")
    charts = {key: exports.chart_png(t, titles()[key], d.k) for key, t in d.tables.items()}
    html = render_template("admin/report_pdf.html", d=d, titles=titles(), zip=zip, charts=charts,
                           unit_name=dict(d.units).get(d.filters.unit or -1), today=local_today())
    return _download(html_to_pdf(html), "application/pdf", f"laporan-pengaduan-{slug}.pdf")


@bp.get("/stats/cases.csv")
@officer_required(Role.AUDITOR.value, Role.ADMIN.value)
def stats_metadata() -> object:
    """Bulk case metadata for the organisation's own analysis: no content, identity or free
    text; pseudonymous ids stable within this export and different in the next."""
    today = local_today()
    try:
        filters = dashboard.Filters.parse(request.args, today)
    except dashboard.BadFilter as exc:
        return _page(None, _filter_error(exc))
    with transaction(state().db) as db:
        body = exports.metadata_csv(db, filters.year, config=state().config,
                                    actor=f"officer:{current_officer().id}")
    return _download(body, "text/csv", f"whistle-metadata-{filters.year}.csv")
