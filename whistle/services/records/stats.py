"""Statistics for the auditor and the admin, from plaintext case metadata only (DESIGN.md §3).

Nothing here decrypts anything or reads ``case_fields``, ``messages``, ``identity_*`` or an
event's ``reason_blob``: only the plaintext columns of ``cases`` (category, kind, channel,
status, unit, dates, late flag) and the time of the close event. No Flask here.

Small-cell suppression
----------------------
A published table is a set of *positions* (cells and their totals) tied by *lines*: "these
members add up to that total". Every count from 1 to K-1 is hidden (primary suppression),
totals included: a category with 2 cases must not show "2" as its row total either. Then
more cells are hidden (complementary suppression) until the published numbers no longer pin
any hidden one down. The guarantee, checked by ``exposed()`` and by the property tests:

1. no line has exactly one hidden position, so no hidden value is "published total minus
   published cells" of one row or column (nor a hidden total the sum of published cells);
2. stronger: no hidden value is fixed by *any* linear combination of the published line sums
   (two rows minus a column... across the whole table);
3. no line with a published total has a hidden remainder equal to its number of hidden
   members: zeros are published as 0, so each hidden member is known to be >= 1, and
   "2 hidden cells, 2 cases left" would pin both to exactly 1.

What it does not promise: interval bounds (a hidden cell is known to lie between 1 and the
line's hidden remainder), and nothing across *different* tables beyond their shared grand
total, which is why category and status are shown only as the margins of their cross-table
and no other table partitions the cases by a sum of those cells.

Every hidden position is shown as the same "<K" mark, whether it was small or hidden to
protect a small neighbour: a different mark would tell which one is the small one.
"""
from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...domain.calendar import feedback_due
from ...domain.constants import Category, Channel, Kind, Status, label
from ...models import Case, Event, Unit
from ..cases.calendar import load_calendar, local_date, local_tz

DEFAULT_K = 5

Pos = tuple[int, int]


@dataclass(frozen=True)
class Line:
    """``sum(members) == total`` — one row or column of a published table."""

    members: tuple[Pos, ...]
    total: Pos

    def positions(self) -> tuple[Pos, ...]:
        return (*self.members, self.total)


# -- the pure suppression core -----------------------------------------------------------------

def _determined(hidden: set[Pos], lines: Sequence[Line]) -> set[Pos]:
    """Hidden positions whose value follows from the published numbers by linear algebra.

    Each line is an equation over the hidden positions (+1 a member, -1 the total; published
    values go to the right-hand side, which does not matter here). A hidden x_u is fixed iff
    e_u lies in the row space, i.e. iff some row of the reduced row-echelon form is e_u.
    Exact fractions: the tables are small (tens of equations) and floats could mis-rank.
    """
    order = sorted(hidden)
    index = {p: i for i, p in enumerate(order)}
    rows: list[list[Fraction]] = []
    for line in lines:
        row = [Fraction(0)] * len(order)
        for p in line.members:
            if p in index:
                row[index[p]] += 1
        if line.total in index:
            row[index[line.total]] -= 1
        if any(row):
            rows.append(row)
    pivot_row = 0
    for col in range(len(order)):
        found = next((r for r in range(pivot_row, len(rows)) if rows[r][col] != 0), None)
        if found is None:
            continue
        rows[pivot_row], rows[found] = rows[found], rows[pivot_row]
        lead = rows[pivot_row][col]
        rows[pivot_row] = [v / lead for v in rows[pivot_row]]
        for r in range(len(rows)):
            if r != pivot_row and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[pivot_row])]
        pivot_row += 1
        if pivot_row == len(rows):
            break
    fixed = set()
    for row in rows[:pivot_row]:
        nonzero = [i for i, v in enumerate(row) if v != 0]
        if len(nonzero) == 1:
            fixed.add(order[nonzero[0]])
    return fixed


def _line_exposed(values: Mapping[Pos, int], line: Line, hidden: set[Pos]) -> bool:
    """Rules 1 and 3 of the module docstring, for one line."""
    members_hidden = [p for p in line.members if p in hidden]
    count = len(members_hidden) + (line.total in hidden)
    if count == 1:
        return True
    if line.total in hidden or not members_hidden:
        return False
    remainder = values[line.total] - sum(values[p] for p in line.members if p not in hidden)
    return remainder == len(members_hidden)


def exposed(values: Mapping[Pos, int], lines: Sequence[Line], hidden: set[Pos]) -> set[Pos]:
    """Hidden positions an outsider could pin down from the published numbers (empty = safe)."""
    pinned = set(_determined(hidden, lines))
    for line in lines:
        if _line_exposed(values, line, hidden):
            pinned.update(p for p in line.positions() if p in hidden)
    return pinned


def _pick(values: Mapping[Pos, int], candidates: Iterable[Pos], hidden: set[Pos],
          protected: set[Pos], helps: AbstractSet[Pos] = frozenset()) -> Pos | None:
    """The next-smallest published non-zero position, preferring one that also repairs
    another exposed line (fewer cells hidden overall). A published zero only as a last
    resort: hiding it reveals nothing about a person, but "zero stays 0" wherever we can."""
    free = [p for p in set(candidates) if p not in hidden and p not in protected]
    if not free:
        return None
    return min(free, key=lambda p: (values[p] == 0, p not in helps, values[p], p))


def suppress(values: Mapping[Pos, int], lines: Sequence[Line], k: int = DEFAULT_K,
             protected: Iterable[Pos] = ()) -> frozenset[Pos]:
    """Positions to hide so that ``exposed()`` is empty.

    ``protected`` (the grand total) is not hidden for being small, and hidden at all only when
    nothing else can be (a table with one non-empty cell equal to its total). A caller must
    not publish a table whose grand total is below k: ``build`` publishes none then.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    keep = set(protected)
    hidden = {p for p, v in values.items() if 0 < v < k and p not in keep}
    while True:
        broken = [ln for ln in lines if _line_exposed(values, ln, hidden)]
        if broken:
            near = broken[0].positions()
            helps: AbstractSet[Pos] = {p for ln in broken[1:] for p in ln.positions()}
        else:
            fixed = _determined(hidden, lines)
            if not fixed:
                return frozenset(hidden)
            target = min(fixed)
            near = tuple(p for ln in lines if target in ln.positions() for p in ln.positions())
            helps = frozenset()
        choice = (_pick(values, near, hidden, keep, helps)
                  or _pick(values, values.keys(), hidden, keep)
                  or _pick(values, values.keys(), hidden, set()))
        if choice is None:  # pragma: no cover - everything hidden: nothing can be pinned
            return frozenset(hidden)
        hidden.add(choice)


# -- tables ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    value: int
    hidden: bool

    def shown(self, k: int) -> str:
        return f"<{k}" if self.hidden else str(self.value)


@dataclass(frozen=True)
class Table:
    """A suppressed table: rows x cols with row totals, column totals and the grand total.

    A one-column table (counts by unit...) has ``cols == ()`` and only ``totals``.
    """

    key: str
    rows: tuple[tuple[str, str], ...]  # (code, label)
    cols: tuple[tuple[str, str], ...]
    cells: tuple[tuple[Cell, ...], ...]  # empty rows for a one-column table
    totals: tuple[Cell, ...]  # per row
    col_totals: tuple[Cell, ...]
    total: Cell


def cross_lines(n_rows: int, n_cols: int) -> list[Line]:
    """Lines of an n_rows x n_cols table with margins: row i total at (i, n_cols), column j
    total at (n_rows, j), grand total at (n_rows, n_cols)."""
    r, c = n_rows, n_cols
    lines = [Line(tuple((i, j) for j in range(c)), (i, c)) for i in range(r)]
    lines += [Line(tuple((i, j) for i in range(r)), (r, j)) for j in range(c)]
    lines.append(Line(tuple((i, c) for i in range(r)), (r, c)))
    lines.append(Line(tuple((r, j) for j in range(c)), (r, c)))
    return lines


def suppress_matrix(matrix: Sequence[Sequence[int]], k: int = DEFAULT_K) -> tuple[
        dict[Pos, int], frozenset[Pos]]:
    """Values (interior and margins, see cross_lines) and the positions to hide."""
    r = len(matrix)
    c = len(matrix[0]) if r else 0
    values: dict[Pos, int] = {}
    for i, row in enumerate(matrix):
        if len(row) != c:
            raise ValueError("ragged matrix")
        for j, v in enumerate(row):
            if v < 0:
                raise ValueError("counts are never negative")
            values[(i, j)] = int(v)
        values[(i, c)] = sum(row)
    for j in range(c):
        values[(r, j)] = sum(matrix[i][j] for i in range(r))
    values[(r, c)] = sum(values[(i, c)] for i in range(r))
    return values, suppress(values, cross_lines(r, c), k, protected={(r, c)})


def suppress_vector(counts: Sequence[int], k: int = DEFAULT_K) -> tuple[
        dict[Pos, int], frozenset[Pos]]:
    """A one-column table: cells (i, 0), total (n, 0)."""
    n = len(counts)
    values = {(i, 0): int(v) for i, v in enumerate(counts)}
    values[(n, 0)] = sum(counts)
    line = Line(tuple((i, 0) for i in range(n)), (n, 0))
    return values, suppress(values, [line], k, protected={(n, 0)})


def cross_table(key: str, rows: Sequence[tuple[str, str]], cols: Sequence[tuple[str, str]],
                counts: Mapping[tuple[str, str], int], k: int) -> Table:
    matrix = [[counts.get((rc, cc), 0) for cc, _ in cols] for rc, _ in rows]
    values, hidden = suppress_matrix(matrix, k)
    r, c = len(rows), len(cols)

    def cell(p: Pos) -> Cell:
        return Cell(values[p], p in hidden)

    return Table(key, tuple(rows), tuple(cols),
                 tuple(tuple(cell((i, j)) for j in range(c)) for i in range(r)),
                 tuple(cell((i, c)) for i in range(r)), tuple(cell((r, j)) for j in range(c)),
                 cell((r, c)))


def vector_table(key: str, rows: Sequence[tuple[str, str]], counts: Mapping[str, int],
                 k: int) -> Table:
    values, hidden = suppress_vector([counts.get(code, 0) for code, _ in rows], k)
    n = len(rows)
    return Table(key, tuple(rows), (), (),
                 tuple(Cell(values[(i, 0)], (i, 0) in hidden) for i in range(n)), (),
                 Cell(values[(n, 0)], (n, 0) in hidden))


def margin_tables(cross: Table, row_key: str, col_key: str) -> tuple[Table, Table]:
    """The cross-table's margins as one-column tables, with the *same* hidden cells (computing
    them apart could hide different cells, and the two versions together would leak)."""
    by_row = Table(row_key, cross.rows, (), (), cross.totals, (), cross.total)
    by_col = Table(col_key, cross.cols, (), (), cross.col_totals, (), cross.total)
    return by_row, by_col


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
