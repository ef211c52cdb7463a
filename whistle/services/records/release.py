"""One suppressed release per year and dimension, so that no two filters can be differenced.

The dashboard filters by period (the whole year or one quarter) and by unit (all units or one).
Suppressing each filtered table on its own would not protect anyone: a unit's count next to
the all-units count, or a quarter next to the year, gives the rest by subtraction, and a small
rest singles somebody out. So every filter of a year is a *slice* of one table

    position (part, unit, code),  part in Q1..Q4 + year,  unit in units + all,  code + total

whose lines are every sum the published slices imply: the codes of a slice add up to its
total, the quarters add up to the year, the units add up to all units. ``suppress`` then hides
cells until no hidden position follows from *any* linear combination of all those lines
(``suppression.exposed``), so an outsider who fetches every filter and subtracts them in any
way still pins nothing down.

Periods other than a year or its quarters (arbitrary date ranges) are not offered: each new
range would be one more set of lines to difference against.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .suppression import DEFAULT_K, Cell, Line, Pos, Table, exposed, suppress

PARTS = 4  # quarters; index PARTS is the whole year


@dataclass(frozen=True)
class Release:
    key: str
    rows: tuple[tuple[str, str], ...]  # (code, label)
    units: tuple[int, ...]  # unit ids; index len(units) is "all units"
    values: Mapping[Pos, int]
    hidden: frozenset[Pos]
    k: int

    def view(self, quarter: int | None, unit_id: int | None) -> Table:
        """The slice for one quarter (1..4) or the year (None), one unit or all (None)."""
        p = PARTS if quarter is None else quarter - 1
        u = len(self.units) if unit_id is None else self.units.index(unit_id)
        d = len(self.rows)
        cells = tuple(Cell(self.values[(p, u, i)], (p, u, i) in self.hidden) for i in range(d))
        return Table(self.key, self.rows, (), (), cells, (),
                     Cell(self.values[(p, u, d)], (p, u, d) in self.hidden))

    def leaks(self) -> set[Pos]:
        """Hidden positions an outsider holding every slice could pin down (empty = safe)."""
        return exposed(self.values, release_lines(len(self.units), len(self.rows)), set(self.hidden))


def release_lines(n_units: int, n_codes: int) -> list[Line]:
    P, U, D = PARTS, n_units, n_codes
    lines: list[Line] = []
    for p in range(P + 1):
        for u in range(U + 1):
            lines.append(Line(tuple((p, u, d) for d in range(D)), (p, u, D)))
    for u in range(U + 1):
        for d in range(D + 1):
            lines.append(Line(tuple((p, u, d) for p in range(P)), (P, u, d)))
    for p in range(P + 1):
        for d in range(D + 1):
            lines.append(Line(tuple((p, u, d) for u in range(U)), (p, U, d)))
    return lines


def build_release(key: str, rows: Sequence[tuple[str, str]], units: Sequence[int],
                  counts: Mapping[tuple[int, int, str], int], k: int = DEFAULT_K) -> Release:
    """``counts[(quarter 1..4, unit id, code)]`` -> the jointly suppressed release."""
    P, U, D = PARTS, len(units), len(rows)
    codes = [c for c, _ in rows]
    values: dict[Pos, int] = {}
    for p in range(P):
        for u, uid in enumerate(units):
            for d, code in enumerate(codes):
                n = int(counts.get((p + 1, uid, code), 0))
                if n < 0:
                    raise ValueError("counts are never negative")
                values[(p, u, d)] = n
    # Margins in every direction (the sums are consistent by construction).
    for p in range(P):
        for u in range(U):
            values[(p, u, D)] = sum(values[(p, u, d)] for d in range(D))
    for u in range(U):
        for d in range(D + 1):
            values[(P, u, d)] = sum(values[(p, u, d)] for p in range(P))
    for p in range(P + 1):
        for d in range(D + 1):
            values[(p, U, d)] = sum(values[(p, u, d)] for u in range(U))
    hidden = suppress(values, release_lines(U, D), k, protected={(P, U, D)})
    return Release(key, tuple(rows), tuple(units), values, hidden, k)
