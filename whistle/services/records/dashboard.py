"""The organisation's dashboard: counts and SOP compliance by year, quarter and unit.

Everything comes from plaintext metadata (``cases`` columns and the who/when/from/to of
``events``): no key is used, no blob is opened. Every table is a slice of one jointly
suppressed release per dimension (``release.py``), so filters cannot be differenced.

Only quarters that have ended are counted. A live count that grows as reports arrive would let
anyone who looks twice subtract the two views and see what came in between, at whatever small
size; a quarter that has ended no longer changes (except for statuses moving on).
"""
from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...domain.calendar import DeadlineConfig
from ...domain.constants import Category, Channel, Kind, Status, label
from ...models import Case, Unit
from ..cases.calendar import deadline_config, load_calendar, local_tz
from . import compliance as comp
from .release import Release, build_release
from .suppression import DEFAULT_K, Table

MIN_YEAR = 2000
OUTCOMES = (Status.SUBSTANTIATED.value, Status.UNSUBSTANTIATED.value, Status.NOT_FOLLOWABLE.value,
            Status.ANSWERED.value, Status.REFERRED_EXTERNAL.value)
IN_PROGRESS = "in_progress"
DIMENSIONS = ("kind", "category", "channel", "status", "outcome", "classification")


class BadFilter(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code  # year | quarter | unit | future


@dataclass(frozen=True)
class Filters:
    year: int
    quarter: int | None = None
    unit: int | None = None

    @classmethod
    def parse(cls, args: Mapping[str, str], today: date) -> Filters:
        raw_year = (args.get("year") or "").strip()
        if not raw_year:
            year = today.year
        elif raw_year.isascii() and raw_year.isdigit() and len(raw_year) == 4:
            year = int(raw_year)
        else:
            raise BadFilter("year")
        if not MIN_YEAR <= year <= today.year:
            raise BadFilter("future" if year > today.year else "year")
        raw_q = (args.get("quarter") or "").strip()
        quarter = None
        if raw_q:
            if raw_q not in ("1", "2", "3", "4"):
                raise BadFilter("quarter")
            quarter = int(raw_q)
        raw_u = (args.get("unit") or "").strip()
        unit = None
        if raw_u:
            if not (raw_u.isascii() and raw_u.isdigit() and len(raw_u) <= 9):
                raise BadFilter("unit")
            unit = int(raw_u)
        return cls(year, quarter, unit)

    def as_args(self) -> dict[str, str]:
        out = {"year": str(self.year)}
        if self.quarter:
            out["quarter"] = str(self.quarter)
        if self.unit is not None:
            out["unit"] = str(self.unit)
        return out


def quarter_of(d: date) -> int:
    return (d.month - 1) // 3 + 1


def quarter_end(year: int, q: int) -> date:
    return date(year, 12, 31) if q == 4 else date(year, 3 * q + 1, 1) - _ONE_DAY


_ONE_DAY = timedelta(days=1)


def complete_quarters(year: int, today: date) -> int:
    """How many quarters of ``year`` have ended before ``today``."""
    return sum(1 for q in range(1, 5) if quarter_end(year, q) < today)


@dataclass(frozen=True)
class StepView:
    step: str
    table: Table  # rows met / missed / late now, suppressed
    median: float | None  # working days, None when fewer than k finished in this slice
    p90: float | None
    share_met: float | None  # only when both met and missed are shown


@dataclass(frozen=True)
class Dashboard:
    filters: Filters
    k: int
    quarters_done: int
    units: tuple[tuple[int, str], ...]
    tables: dict[str, Table]
    steps: tuple[StepView, ...]
    total: Table  # the count table of the slice (kind), whose total is the slice's total

    @property
    def empty(self) -> bool:
        return self.quarters_done == 0 or (self.filters.quarter or 0) > self.quarters_done


@dataclass(frozen=True)
class _YearData:
    releases: dict[str, Release]
    step_releases: dict[str, Release]
    durations: dict[tuple[str, int, int], list[int]]  # (step, quarter, unit) -> days
    units: tuple[tuple[int, str], ...]
    quarters_done: int


_CACHE: dict[tuple[Any, ...], _YearData] = {}
_LOCK = threading.Lock()
_CACHE_MAX = 16


def _rows(enum: type[Any], seen: set[str], lang: str) -> list[tuple[str, str]]:
    codes = [m.value for m in enum]
    out = []
    for c in (*codes, *sorted(seen - set(codes))):
        try:
            out.append((c, label(enum(c), lang)))
        except (ValueError, KeyError):
            out.append((c, c))
    return out


def _signature(db: Session, lo: datetime, hi: datetime) -> tuple[Any, ...]:
    """Changes whenever a counted case is added, removed or moves on: every transition bumps
    ``cases.version`` (the optimistic lock), so (count, sum of versions) is one cheap scan."""
    n, versions = db.execute(select(func.count(), func.coalesce(func.sum(Case.version), 0))
                             .where(Case.received_at >= lo, Case.received_at < hi)).one()
    return (int(n), int(versions))


def _year_data(db: Session, year: int, k: int, lang: str, config: Any, today: date,
               words: Mapping[str, str]) -> _YearData:
    done = complete_quarters(year, today)
    tz = local_tz(config)
    lo = datetime.combine(date(year, 1, 1), time(0), tzinfo=tz).astimezone(UTC)
    hi_day = quarter_end(year, done) + _ONE_DAY if done else date(year, 1, 1)
    hi = datetime.combine(hi_day, time(0), tzinfo=tz).astimezone(UTC)
    key = (year, k, lang, done, today, str(tz), tuple(sorted(words.items())), _signature(db, lo, hi))
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    classification = getattr(Case, "classification", None)
    cols = [Case.id, Case.received_at, Case.unit_id, Case.kind, Case.category, Case.channel, Case.status]
    if classification is not None:
        cols.append(classification)
    rows = db.execute(select(*cols).where(Case.received_at >= lo, Case.received_at < hi)).all()
    local = _local_day(tz)
    cases, events = comp.load(db, lo, hi, local)
    outcome: dict[str, str] = {}
    for cid, evs in events.items():
        for _, _, to in evs:
            if to in OUTCOMES:
                outcome[cid] = str(to)
    unit_ids = sorted({r.unit_id for r in rows} | set(db.scalars(select(Unit.id).where(Unit.active.is_(True)))))
    names = dict(db.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all())
    counts: dict[str, dict[tuple[int, int, str], int]] = {d: {} for d in DIMENSIONS}
    seen: dict[str, set[str]] = {d: set() for d in DIMENSIONS}
    for r in rows:
        q = quarter_of(local(_aware(r.received_at)))
        values = {"kind": r.kind, "category": r.category, "channel": r.channel, "status": r.status,
                  "outcome": outcome.get(r.id, IN_PROGRESS),
                  "classification": (r[7] if classification is not None else None) or "unclassified"}
        for dim, code in values.items():
            seen[dim].add(str(code))
            key3 = (q, r.unit_id, str(code))
            counts[dim][key3] = counts[dim].get(key3, 0) + 1
    outcome_rows = [(c, label(Status(c), lang)) for c in OUTCOMES] + [(IN_PROGRESS, words.get(IN_PROGRESS, IN_PROGRESS))]
    dims_rows = {
        "kind": _rows(Kind, seen["kind"], lang), "category": _rows(Category, seen["category"], lang),
        "channel": _rows(Channel, seen["channel"], lang), "status": _rows(Status, seen["status"], lang),
        "outcome": outcome_rows,
        "classification": [(c, words.get(c, c)) for c in sorted(seen["classification"] | {"unclassified"})],
    }
    releases = {d: build_release(d, dims_rows[d], unit_ids, counts[d], k) for d in DIMENSIONS}
    cfg: DeadlineConfig = deadline_config(config)
    wd = comp.WorkingDays(load_calendar(db), date(year, 1, 1), date(year + 1, 12, 31))
    results = comp.evaluate(cases, events, wd, cfg, today)
    step_counts: dict[str, dict[tuple[int, int, str], int]] = {s: {} for s in comp.STEPS}
    durations: dict[tuple[str, int, int], list[int]] = {}
    for res in results:
        if not res.outcome:
            continue
        q = quarter_of(res.case.received_on)
        key3 = (q, res.case.unit_id, res.outcome)
        step_counts[res.step][key3] = step_counts[res.step].get(key3, 0) + 1
        if res.days is not None:
            for qq in (q, 0):
                for uu in (res.case.unit_id, 0):
                    durations.setdefault((res.step, qq, uu), []).append(res.days)
    outcome_words = [(comp.MET, words.get(comp.MET, comp.MET)), (comp.MISSED, words.get(comp.MISSED, comp.MISSED)),
                     (comp.LATE_NOW, words.get(comp.LATE_NOW, comp.LATE_NOW))]
    step_releases = {s: build_release(s, outcome_words, unit_ids, step_counts[s], k) for s in comp.STEPS}
    data = _YearData(releases, step_releases, durations,
                     tuple((u, str(names.get(u, u))) for u in unit_ids), done)
    with _LOCK:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = data
    return data


def _local_day(tz: Any) -> Any:
    """Instant -> office-local date. Indonesia's zones (WIB/WITA/WIT) keep one offset all year,
    so a fixed shift replaces a zoneinfo conversion per row (a fifth of a cold build)."""
    jan, jul = (datetime(2026, m, 1, tzinfo=UTC).astimezone(tz).utcoffset() for m in (1, 7))
    if jan is not None and jan == jul:
        def shifted(moment: datetime) -> date:
            return (moment.astimezone(UTC).replace(tzinfo=None) + jan).date() if moment.tzinfo \
                else (moment + jan).date()
        return shifted
    return lambda moment: moment.astimezone(tz).date()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def build(db: Session, filters: Filters, *, k: int = DEFAULT_K, lang: str = "id", config: Any = None,
          today: date, words: Mapping[str, str] | None = None) -> Dashboard:
    """BadFilter('unit') for a unit that is not part of the year's release."""
    data = _year_data(db, filters.year, k, lang, config, today, words or {})
    if filters.unit is not None and filters.unit not in data.releases["kind"].units:
        raise BadFilter("unit")
    q = filters.quarter if filters.quarter and filters.quarter <= data.quarters_done else None
    if filters.quarter and q is None:
        tables: dict[str, Table] = {}
    else:
        tables = {d: r.view(filters.quarter, filters.unit) for d, r in data.releases.items()}
    steps = []
    for step, rel in data.step_releases.items():
        table = rel.view(filters.quarter, filters.unit)
        days = data.durations.get((step, filters.quarter or 0, filters.unit or 0), [])
        shown = len(days) >= k
        met, missed = table.totals[0], table.totals[1]
        share = None
        if not met.hidden and not missed.hidden and met.value + missed.value > 0:
            share = met.value / (met.value + missed.value)
        fig = comp.StepFigures(durations=days)
        steps.append(StepView(step, table, fig.median() if shown else None,
                              fig.p90() if shown else None, share))
    return Dashboard(filters, k, data.quarters_done, data.units, tables, tuple(steps),
                     data.releases["kind"].view(filters.quarter, filters.unit))
