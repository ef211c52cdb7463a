"""Statistics for the auditor and the admin: suppressed tables as HTML and as CSV.

Thin routes over services/stats.py, which reads plaintext metadata only; nothing here holds or
needs a key. Bad period input is a 400 page that says what was wrong (never a 500).
"""
from __future__ import annotations

import csv
import io

from flask import Response, current_app, render_template, request
from flask_babel import gettext as _

from whistle.db import transaction
from whistle.domain.constants import Role
from whistle.services.cases.calendar import today as local_today
from whistle.services.records import stats as stats_service
from whistle.web.i18n import select_locale
from whistle.web.officer_auth import officer_required
from whistle.web.state import state

from . import bp

STATS_ROLES = (Role.AUDITOR.value, Role.ADMIN.value)
# Flask config key for K (hide counts 1..K-1); an office may raise it, never below 2.
MIN_CELL_KEY = "WHISTLE_STATS_MIN_CELL"
PERIOD_KEYS = ("year", "start", "end")


def _k() -> int:
    value = current_app.config.get(MIN_CELL_KEY, stats_service.DEFAULT_K)
    return max(2, int(value))


def _period_error(exc: stats_service.BadPeriod) -> str:
    # The service speaks English to the log; the page shows a translated sentence.
    messages = {
        "both": _("Give either a year or a date range, not both."),
        "range": _("A date range needs both a start and an end date."),
        "format": _("Dates must be written YYYY-MM-DD."),
        "order": _("The start date is after the end date."),
        "bounds": _("Dates and years must fall between %(lo)d and %(hi)d.",
                    lo=stats_service.MIN_YEAR, hi=stats_service.MAX_YEAR),
        "year": _("The year must be four digits, e.g. 2026."),
    }
    return messages.get(exc.code, _("The period is not valid."))


def _report() -> stats_service.Report | str:
    """The report for the requested period, or the error message for a bad one."""
    try:
        period = stats_service.Period.parse(request.args, local_today())
    except stats_service.BadPeriod as exc:
        return _period_error(exc)
    words = {stats_service.ON_TIME: _("On time"), stats_service.LATE: _("Late")}
    with transaction(state().db) as db:
        return stats_service.build(db, period, k=_k(), lang=select_locale(),
                                   config=state().config, words=words)


def _titles() -> dict[str, str]:
    return {
        "category_status": _("Category by status"),
        "category": _("By category"),
        "status": _("By status"),
        "kind": _("By kind of report"),
        "channel": _("By channel"),
        "unit": _("By receiving unit"),
        "timeliness": _("On time and late"),
    }


def _heads() -> dict[str, str]:
    """First-column heading of each one-column table."""
    return {"category": _("Category"), "status": _("Status"), "kind": _("Kind of report"),
            "channel": _("Channel"), "unit": _("Unit"), "timeliness": _("Timeliness")}


def _page(report: stats_service.Report | None, error: str | None) -> tuple[str, int]:
    # Only the period keys go back into links: a stray "_scheme" or "_external" in the query
    # string would reach url_for() as an option and fail.
    args = {key: request.args[key] for key in PERIOD_KEYS if request.args.get(key)}
    return render_template("admin/stats.html", report=report, error=error, args=args,
                           titles=_titles(), heads=_heads(), zip=zip), 400 if error else 200


@bp.get("/stats")
@officer_required(*STATS_ROLES)
def stats() -> object:  # endpoint admin.stats
    report = _report()
    return _page(None, report) if isinstance(report, str) else _page(report, None)


def _safe(text: str) -> str:
    """Unit names are typed by an admin: a leading = + - @ would run as a spreadsheet formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/stats.csv")
@officer_required(*STATS_ROLES)
def stats_csv() -> object:  # endpoint admin.stats_csv
    report = _report()
    if isinstance(report, str):
        return _page(None, report)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["table", "row_code", "row", "column_code", "column", "value"])
    writer.writerow(["period", "start", "", "", "", report.period.start.isoformat()])
    writer.writerow(["period", "end", "", "", "", report.period.end.isoformat()])
    total_word = _("Total")
    if report.too_few:  # no table at all (see Report.too_few)
        writer.writerow(["total", "total", total_word, "total", total_word, report.shown_total()])
    for table in report.tables:
        for (code, name), cells, total in zip(table.rows, table.cells or [()] * len(table.rows),
                                             table.totals):
            for (col_code, col_name), cell in zip(table.cols, cells):
                writer.writerow([table.key, code, _safe(name), col_code, col_name,
                                 cell.shown(report.k)])
            writer.writerow([table.key, code, _safe(name), "total", total_word,
                             total.shown(report.k)])
        for (col_code, col_name), cell in zip(table.cols, table.col_totals):
            writer.writerow([table.key, "total", total_word, col_code, col_name,
                             cell.shown(report.k)])
        writer.writerow([table.key, "total", total_word, "total", total_word,
                         table.total.shown(report.k)])
    days = report.median.days
    writer.writerow(["median_working_days_to_close", "", "", "", "",
                     "" if days is None else f"{days:g}"])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition":
            f'attachment; filename="whistle-statistics-{report.period.slug()}.csv"'})
