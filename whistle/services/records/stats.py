"""Statistics for the auditor and the admin, from plaintext case metadata only (DESIGN.md §3).

Nothing here decrypts anything or reads ``case_fields``, ``messages``, ``identity_*`` or an
event's ``reason_blob``: only the plaintext columns of ``cases`` (category, kind, channel,
status, unit, dates, late flag) and the time of the close event. No Flask here.

The suppression itself lives in ``suppression.py``; this module counts and assembles tables.
"""
from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...domain.calendar import feedback_due
from ...domain.constants import Category, Channel, Kind, Status, label
from ...models import Case, Event, Unit
from ..cases.calendar import load_calendar, local_date, local_tz
from .suppression import (  # noqa: F401  (re-exported: callers and tests use stats.*)
    DEFAULT_K,
    Cell,
    Line,
    Pos,
    Table,
    cross_lines,
    cross_table,
    exposed,
    margin_tables,
    suppress,
    suppress_matrix,
    suppress_vector,
    vector_table,
)

# -- the period ------------------------------------------------------------------------------

class BadPeriod(ValueError):
    """The period asked for is not valid. ``code`` (both, range, format, order, bounds, year)
    lets the page say what was wrong in the reader's language; ``str()`` is English."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


MIN_YEAR, MAX_YEAR = 2000, 2100


@dataclass(frozen=True)
class Period:
    """Inclusive office-local days [start, end] on ``received_at``."""

    start: date
    end: date

    @classmethod
    def year(cls, year: int) -> Period:
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise BadPeriod("bounds", f"year must be between {MIN_YEAR} and {MAX_YEAR}")
        return cls(date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def parse(cls, args: Mapping[str, str], today: date) -> Period:
        """From a query string: ``year=2026`` or ``start=YYYY-MM-DD&end=YYYY-MM-DD`` (not
        both); nothing means the current year."""
        year = (args.get("year") or "").strip()
        start, end = (args.get("start") or "").strip(), (args.get("end") or "").strip()
        if (start or end) and year:
            raise BadPeriod("both", "give either a year or a date range, not both")
        if start or end:
            if not (start and end):
                raise BadPeriod("range", "a date range needs both a start and an end date")
            try:
                a, b = date.fromisoformat(start), date.fromisoformat(end)
            except ValueError:
                raise BadPeriod("format", "dates must be written YYYY-MM-DD") from None
            if a > b:
                raise BadPeriod("order", "the start date is after the end date")
            if a.year < MIN_YEAR or b.year > MAX_YEAR:
                raise BadPeriod("bounds", f"dates must fall between {MIN_YEAR} and {MAX_YEAR}")
            return cls(a, b)
        if not year:
            return cls.year(today.year)
        if not (year.isascii() and year.isdigit() and len(year) == 4):
            raise BadPeriod("year", "the year must be four digits, e.g. 2026")
        return cls.year(int(year))

    def bounds(self, config: Any = None) -> tuple[datetime, datetime]:
        """UTC [from, to) instants: office-local midnight of start, and of the day after end."""
        tz = local_tz(config)
        lo = datetime.combine(self.start, time(0), tzinfo=tz).astimezone(UTC)
        hi = datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
        return lo, hi

    def is_year(self) -> bool:
        return (self.start.month, self.start.day, self.end.month, self.end.day) == (1, 1, 12, 31) \
            and self.start.year == self.end.year

    def slug(self) -> str:
        return str(self.start.year) if self.is_year() else f"{self.start}_{self.end}"


# -- the report ------------------------------------------------------------------------------

OPEN_DONE = (Status.CLOSED.value, Status.ARCHIVED.value)
ON_TIME, LATE = "on_time", "late"


@dataclass(frozen=True)
class Median:
    closed: int  # cases with a close event in the period's intake
    days: float | None  # None when fewer than k: one case's duration would be shown


@dataclass(frozen=True)
class Report:
    period: Period
    k: int
    total: int
    tables: tuple[Table, ...]  # empty when total < k
    median: Median

    @property
    def too_few(self) -> bool:
        """Fewer than k reports in the period: no table at all. With so few, even the zeros
        would say where every report came from ("all from this small unit")."""
        return self.total < self.k

    def shown_total(self) -> str:
        return f"<{self.k}" if self.too_few else str(self.total)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


def _label(enum: type[Any], code: str, lang: str) -> str:
    try:
        return label(enum(code), lang)
    except (ValueError, KeyError):
        return code  # a code from an older release: show it rather than fail


def _rows(enum: type[Any], seen: Iterable[str], lang: str) -> list[tuple[str, str]]:
    """Every known code in definition order (a zero row is information too), then any other
    code found in the data."""
    codes = [m.value for m in enum]
    extra = sorted(set(seen) - set(codes))
    return [(c, _label(enum, c, lang)) for c in (*codes, *extra)]


def build(db: Session, period: Period, *, k: int = DEFAULT_K, lang: str = "id",
          config: Any = None, words: Mapping[str, str] | None = None) -> Report:
    """All tables for ``period``. Reads only plaintext columns (see the module docstring).

    ``words``: the caller's translations of the UI codes ``on_time`` and ``late``.
    """
    lo, hi = period.bounds(config)
    in_period = (Case.received_at >= lo, Case.received_at < hi)

    def grouped(*cols: Any) -> dict[Any, int]:
        q = select(*cols, func.count()).where(*in_period).group_by(*cols)
        return {(tuple(r[:-1]) if len(cols) > 1 else r[0]): int(r[-1]) for r in db.execute(q)}

    cat_status: dict[tuple[str, str], int] = grouped(Case.category, Case.status)
    kinds: dict[str, int] = grouped(Case.kind)
    channels: dict[str, int] = grouped(Case.channel)
    units: dict[Any, int] = grouped(Case.unit_id)

    cats = _rows(Category, (c for c, _ in cat_status), lang)
    stats = _rows(Status, (s for _, s in cat_status), lang)
    cross = cross_table("category_status", cats, stats, cat_status, k)
    by_category, by_status = margin_tables(cross, "category", "status")

    unit_rows = db.execute(select(Unit.id, Unit.code, Unit.name).where(
        (Unit.active.is_(True)) | Unit.id.in_(list(units))).order_by(Unit.name)).all()
    unit_table = vector_table("unit", [(str(u.id), f"{u.name} ({u.code})") for u in unit_rows],
                              {str(uid): n for uid, n in units.items()}, k)

    timeliness, median = _timeliness(db, in_period, config)
    labels = {code: (words or {}).get(code, code) for code in (ON_TIME, LATE)}
    tables = (
        cross, by_category, by_status,
        vector_table("kind", _rows(Kind, kinds, lang), kinds, k),
        vector_table("channel", _rows(Channel, channels, lang), channels, k),
        unit_table,
        vector_table("timeliness", list(labels.items()), timeliness, k),
    )
    total = sum(cat_status.values())
    if total < k:
        return Report(period, k, total, (), Median(0, None))
    return Report(period, k, total, tables,
                  Median(len(median), statistics.median(median) if len(median) >= k else None))


def _timeliness(db: Session, in_period: tuple[Any, ...],
                config: Any) -> tuple[dict[str, int], list[int]]:
    """On time vs late, and working days from receipt to close.

    Open case: its ``is_late`` flag (kept by the sweep). Closed or archived case: on time when
    closed by the feedback norm (3 months after the 7-day acknowledgement period, DESIGN.md §2);
    one archived without ever being closed (no reply to a data request) was not late on our side.
    Only the *time* of the close event is read, never its encrypted reason.
    """
    first_close = (select(Event.case_id, func.min(Event.at).label("at"))
                   .where(Event.to_status == Status.CLOSED.value)
                   .group_by(Event.case_id).subquery())
    q = (select(Case.status, Case.is_late, Case.received_at, first_close.c.at)
         .outerjoin(first_close, first_close.c.case_id == Case.id).where(*in_period))
    calendar = load_calendar(db)
    counts = {ON_TIME: 0, LATE: 0}
    durations: list[int] = []
    for status, is_late, received_at, closed_at in db.execute(q):
        if closed_at is not None and closed_at.tzinfo is None:
            closed_at = closed_at.replace(tzinfo=UTC)  # defensive: an aggregate handed back naive
        received_on = local_date(received_at, config)
        if status not in OPEN_DONE:
            late = bool(is_late)
        elif closed_at is not None:
            closed_on = local_date(closed_at, config)
            late = closed_on > feedback_due(received_on)
            durations.append(calendar.working_days_between(received_on, closed_on))
        else:
            late = False
        counts[LATE if late else ON_TIME] += 1
    return counts, durations
