"""Small-cell suppression: the pure core (no database, no Flask).

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

Positions are tuples of ints of any length, so one table can span several dimensions (a
period x unit x category release, see ``release.py``): the guarantee above then holds across
every slice of it at once, which is what defeats differencing two filters.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from fractions import Fraction

DEFAULT_K = 5

Pos = tuple[int, ...]


@dataclass(frozen=True)
class Line:
    """``sum(members) == total`` — one row or column of a published table."""

    members: tuple[Pos, ...]
    total: Pos

    def positions(self) -> tuple[Pos, ...]:
        return (*self.members, self.total)


# -- the pure suppression core -----------------------------------------------------------------

EXACT_LIMIT = 48  # hidden positions up to which the exact (Fraction) elimination is used


def _determined(hidden: set[Pos], lines: Sequence[Line]) -> set[Pos]:
    """Hidden positions whose value follows from the published numbers by linear algebra.

    Small systems are solved exactly; larger ones (a joint release spans hundreds of hidden
    positions, where Fractions take minutes) by SVD: ``x_u`` is fixed iff ``e_u`` lies in the
    row space, i.e. iff the projector onto the row space has 1 on its diagonal at ``u``. The
    matrices hold only 0 and +-1, far from ill-conditioned at these sizes, and a property test
    checks the two paths agree.
    """
    if len(hidden) > EXACT_LIMIT:
        return _determined_svd(hidden, lines)
    return _determined_exact(hidden, lines)


def _determined_svd(hidden: set[Pos], lines: Sequence[Line]) -> set[Pos]:
    import numpy as np

    order = sorted(hidden)
    index = {p: i for i, p in enumerate(order)}
    rows = []
    for line in lines:
        row = np.zeros(len(order))
        for p in line.members:
            if p in index:
                row[index[p]] += 1.0
        if line.total in index:
            row[index[line.total]] -= 1.0
        if row.any():
            rows.append(row)
    if not rows:
        return set()
    matrix = np.array(rows)
    _, s, vt = np.linalg.svd(matrix, full_matrices=False)
    rank = int((s > s.max() * max(matrix.shape) * np.finfo(float).eps * 16).sum())
    diag = (vt[:rank] ** 2).sum(axis=0)
    return {order[i] for i in range(len(order)) if diag[i] > 1.0 - 1e-7}


def _determined_exact(hidden: set[Pos], lines: Sequence[Line]) -> set[Pos]:
    """Exact elimination over the rationals (see ``_determined``).

    Each line is an equation over the hidden positions (+1 a member, -1 the total; published
    values go to the right-hand side, which does not matter here). A hidden x_u is fixed iff
    e_u lies in the row space, i.e. iff some row of the reduced row-echelon form is e_u.
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
    values: dict[Pos, int] = {(i, 0): int(v) for i, v in enumerate(counts)}
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
