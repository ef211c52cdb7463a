"""The dashboard's tables as CSV, XLSX and chart images, and the bulk metadata export.

Every exported table carries exactly the cells the page shows: a hidden cell is the same
"<K" mark in every format, so no format is a way around the suppression.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
from collections.abc import Mapping
from datetime import UTC
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Case, Unit
from ..cases.calendar import local_date
from ..custody import audit
from .suppression import Table

if TYPE_CHECKING:
    from .dashboard import Dashboard

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ("table", "row_code", "row", "value")


def _safe(text: str) -> str:
    """Labels come from admins (unit names): a leading = + - @ would run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def slug(d: Dashboard) -> str:
    parts = [str(d.filters.year)]
    if d.filters.quarter:
        parts.append(f"q{d.filters.quarter}")
    if d.filters.unit is not None:
        parts.append(f"unit{d.filters.unit}")
    return "-".join(parts)


def sheet(d: Dashboard, titles: Mapping[str, str], total_word: str) -> list[tuple[str, str, str, str]]:
    """One row per published figure: (table, row code, row label, shown value)."""
    rows: list[tuple[str, str, str, str]] = [
        ("filter", "year", "", str(d.filters.year)),
        ("filter", "quarter", "", str(d.filters.quarter or "")),
        ("filter", "unit", "", _safe(dict(d.units).get(d.filters.unit or -1, ""))),
        ("filter", "quarters_counted", "", str(d.quarters_done)),
    ]

    def table_rows(key: str, t: Table) -> None:
        for (code, name), cell in zip(t.rows, t.totals):
            rows.append((key, code, _safe(name), cell.shown(d.k)))
        rows.append((key, "total", total_word, t.total.shown(d.k)))

    for key, t in d.tables.items():
        table_rows(key, t)
    for step in d.steps:
        table_rows(step.step, step.table)
        rows.append((step.step, "median_working_days", "", "" if step.median is None else f"{step.median:g}"))
        rows.append((step.step, "p90_working_days", "", "" if step.p90 is None else f"{step.p90:g}"))
        rows.append((step.step, "share_met", "", "" if step.share_met is None else f"{step.share_met:.3f}"))
    return rows


def as_csv(rows: list[tuple[str, str, str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def as_xlsx(rows: list[tuple[str, str, str, str]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "statistik"
    ws.append(list(HEADER))
    for row in rows:
        value: Any = row[3]
        if value.isdigit():
            value = int(value)  # numbers as numbers; "<5" stays text
        ws.append([row[0], row[1], row[2], value])
    wb.properties.creator = "whistle"  # no server user name in the file's metadata
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def chart_png(t: Table, title: str, k: int) -> str:
    """A horizontal bar chart as a data: URI (for the PDF). Hidden cells are drawn as no bar
    and labelled with the same "<K" mark as the table beside it."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    labels = [name for _, name in t.rows]
    values = [0 if c.hidden else c.value for c in t.totals]
    fig, ax = plt.subplots(figsize=(6.4, 0.32 * len(labels) + 0.9), dpi=110)
    try:
        ax.barh(range(len(labels)), values, color="#35608a")
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_title(title, fontsize=9)
        for i, c in enumerate(t.totals):
            ax.text(values[i], i, f" {c.shown(k)}", va="center", fontsize=7)
        ax.set_xlim(0, max([*values, 1]) * 1.15)  # room for the labels; never a negative axis
        ax.tick_params(axis="x", labelsize=7)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
    finally:
        plt.close(fig)
    import base64

    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


METADATA_COLUMNS = ("case", "received_month", "unit", "kind", "category", "channel", "status",
                    "classification", "tier", "late_now")


def metadata_csv(db: Session, year: int, *, config: Any, actor: str) -> bytes:
    """Every case received in ``year``: plaintext metadata only, month not day, and a
    pseudonymous id (HMAC under a key made for this export and then forgotten), so two exports
    cannot be joined on the id and no row points back at a case page."""
    key = secrets.token_bytes(32)
    units = dict(db.execute(select(Unit.id, Unit.code)).all())
    classification = getattr(Case, "classification", None)
    cols = [Case.id, Case.received_at, Case.unit_id, Case.kind, Case.category, Case.channel,
            Case.status, Case.tier, Case.is_late]
    if classification is not None:
        cols.append(classification)
    rows = []
    for r in db.execute(select(*cols).order_by(Case.received_at)):
        received = r.received_at if r.received_at.tzinfo else r.received_at.replace(tzinfo=UTC)
        day = local_date(received, config)
        if day.year != year:
            continue
        pseudo = hmac.new(key, r.id.encode(), hashlib.sha256).hexdigest()[:16]
        rows.append((pseudo, f"{day.year}-{day.month:02d}", _safe(str(units.get(r.unit_id, ""))),
                     r.kind, r.category, r.channel, r.status,
                     (r[9] if classification is not None else None) or "", r.tier or "",
                     "1" if r.is_late else "0"))
    rows.sort()  # by pseudonym: the order must not give away the order of arrival
    del key
    audit.append(db, actor, "stats.metadata_export", None, f"year={year} rows={len(rows)}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(METADATA_COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
