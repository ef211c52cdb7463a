"""Small-cell suppression on plain numbers (the dashboard itself: tests/web/test_dashboard.py).

These tests check exactly what whistle/services/records/suppression.py promises (its docstring):
no hidden count is "published total minus published cells" of one line, nor any linear
combination of the published line sums, nor pinned to 1 by "hidden cells are never 0".
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from fractions import Fraction
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crypto
from tests.web.officer_login import Clock, clock, enrol, login_as  # noqa: F401
from whistle.services.records import suppression as stats
from whistle.services.records.suppression import Line, Pos, cross_lines

JAKARTA = ZoneInfo("Asia/Jakarta")
KDF = crypto.encode_params(crypto.kdf.TEST_PARAMS)
PEPPER = b"p" * 32


# -- the suppression core, on plain numbers ---------------------------------------------------

def _hidden_per_line(hidden: frozenset[Pos], lines: Sequence[Line]) -> list[int]:
    return [sum(p in hidden for p in ln.positions()) for ln in lines]


def test_vector_hides_small_and_the_next_smallest() -> None:
    values, hidden = stats.suppress_vector([2, 10, 7, 0], k=5)
    assert hidden == {(0, 0), (2, 0)}  # 2 is small; 7 is the next-smallest non-zero
    assert (4, 0) not in hidden and values[(4, 0)] == 19  # the total stays exact
    assert (1, 0) not in hidden and (3, 0) not in hidden  # 10 shown, zero stays 0


def test_zero_is_shown_and_large_cells_alone_need_nothing() -> None:
    _, hidden = stats.suppress_vector([0, 9, 0, 12], k=5)
    assert hidden == frozenset()


def test_two_ones_cannot_be_pinned_to_one() -> None:
    # Total 22, published 20, two hidden: "each hidden cell is >= 1" would say 1 and 1.
    values, hidden = stats.suppress_vector([1, 1, 20], k=5)
    assert {(0, 0), (1, 0)} <= hidden and (2, 0) in hidden
    assert not stats.exposed(values, [Line(((0, 0), (1, 0), (2, 0)), (3, 0))], set(hidden))


def test_single_cell_table_hides_its_total_as_last_resort() -> None:
    _, hidden = stats.suppress_vector([3], k=5)
    assert hidden == {(0, 0), (1, 0)}


def test_matrix_protects_with_a_small_cycle() -> None:
    values, hidden = stats.suppress_matrix([[2, 10, 7], [6, 8, 9], [10, 10, 10]], k=5)
    assert hidden == {(0, 0), (0, 2), (1, 0), (1, 2)}  # a 2x2 cycle, margins all exact
    assert not stats.exposed(values, cross_lines(3, 3), set(hidden))


def test_small_margin_is_hidden_too() -> None:
    # Row 0 has 2 cases in all: its row total must not show "2".
    values, hidden = stats.suppress_matrix([[2, 0], [9, 11]], k=5)
    assert (0, 2) in hidden and values[(0, 2)] == 2


def _rank(rows: list[list[Fraction]]) -> int:
    """Plain Gaussian elimination, written apart from the service's on purpose."""
    m = [r[:] for r in rows]
    rank = 0
    cols = len(m[0]) if m else 0
    for c in range(cols):
        pivot = next((i for i in range(rank, len(m)) if m[i][c] != 0), None)
        if pivot is None:
            continue
        m[rank], m[pivot] = m[pivot], m[rank]
        for i in range(len(m)):
            if i != rank and m[i][c] != 0:
                f = m[i][c] / m[rank][c]
                m[i] = [a - f * b for a, b in zip(m[i], m[rank])]
        rank += 1
    return rank


def _linearly_pinned(hidden: frozenset[Pos], lines: Sequence[Line]) -> set[Pos]:
    """x_u is derivable iff adding the equation "x_u = ?" does not raise the rank."""
    order = sorted(hidden)
    rows = []
    for ln in lines:
        rows.append([Fraction((p in ln.members) - (p == ln.total)) for p in order])
    base = _rank(rows)
    pinned = set()
    for i, p in enumerate(order):
        unit = [Fraction(int(j == i)) for j in range(len(order))]
        if _rank(rows + [unit]) == base:
            pinned.add(p)
    return pinned


def _check_invariant(values: dict[Pos, int], hidden: frozenset[Pos], lines: Sequence[Line],
                     k: int, grand: Pos) -> None:
    # Primary suppression: every count 1..k-1 is hidden, margins included (the grand total is
    # always published: build() shows no table at all for a period with fewer than k reports).
    assert all(p in hidden for p, v in values.items() if 0 < v < k and p != grand)
    # 1. The brief's invariant: no line has exactly one hidden position, so no hidden value is
    #    its published total minus its published cells (or a hidden total a sum of cells).
    assert 1 not in _hidden_per_line(hidden, lines)
    # 2. No combination of lines pins a hidden value either.
    assert not _linearly_pinned(hidden, lines)
    # 3. "Hidden means >= 1" never pins a line's hidden members to exactly 1 each.
    for ln in lines:
        members = [p for p in ln.members if p in hidden]
        if members and ln.total not in hidden:
            remainder = values[ln.total] - sum(values[p] for p in ln.members if p not in hidden)
            assert remainder != len(members)
    # The grand total is hidden only when nothing else was left to hide.
    if grand in hidden:
        assert all(p in hidden for p in values)


counts = st.integers(0, 12) | st.sampled_from([0, 1, 2])  # small cells are the interesting ones


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 5).flatmap(lambda c: st.lists(st.lists(counts, min_size=c, max_size=c),
                                                    min_size=1, max_size=5)),
       st.integers(2, 6))
def test_matrix_suppression_invariant(matrix: list[list[int]], k: int) -> None:
    values, hidden = stats.suppress_matrix(matrix, k)
    r, c = len(matrix), len(matrix[0])
    _check_invariant(values, hidden, cross_lines(r, c), k, (r, c))


@settings(max_examples=300, deadline=None)
@given(st.lists(counts, min_size=1, max_size=10), st.integers(2, 6))
def test_vector_suppression_invariant(cells: list[int], k: int) -> None:
    values, hidden = stats.suppress_vector(cells, k)
    n = len(cells)
    _check_invariant(values, hidden, [Line(tuple((i, 0) for i in range(n)), (n, 0))], k, (n, 0))


def _solutions(matrix: list[list[int]], hidden: frozenset[Pos]) -> Iterator[dict[Pos, int]]:
    """Every table of non-negative integers an outsider cannot tell from the published one."""
    r, c = len(matrix), len(matrix[0])
    shown = {(i, j): v for i, row in enumerate(matrix) for j, v in enumerate(row)}
    row_t = {i: sum(matrix[i]) for i in range(r)}
    col_t = {j: sum(matrix[i][j] for i in range(r)) for j in range(c)}
    grand = sum(row_t.values())
    unknown = [p for p in sorted(shown) if p in hidden]
    for guess in itertools.product(range(grand + 1), repeat=len(unknown)):
        t = dict(shown) | dict(zip(unknown, guess))
        rows = {i: sum(t[(i, j)] for j in range(c)) for i in range(r)}
        cols = {j: sum(t[(i, j)] for i in range(r)) for j in range(c)}
        if sum(rows.values()) != grand:
            continue
        if any((i, c) not in hidden and rows[i] != row_t[i] for i in range(r)):
            continue
        if any((r, j) not in hidden and cols[j] != col_t[j] for j in range(c)):
            continue
        yield t


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.integers(0, 5), min_size=2, max_size=2), min_size=2, max_size=2))
def test_an_outsider_enumerating_tables_cannot_pin_a_small_cell(matrix: list[list[int]]) -> None:
    """Brute force on 2x2 tables: each hidden cell (value 1..k-1) has another possible value."""
    _, hidden = stats.suppress_matrix(matrix, 5)
    for p in hidden:
        if p[0] < 2 and p[1] < 2:
            seen = {t[p] for t in _solutions(matrix, hidden)}
            assert len(seen) >= 2, (matrix, p, seen)
