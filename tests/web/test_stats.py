"""Statistics for the auditor and the admin: small-cell suppression, counts, pages, CSV, roles.

The suppression tests check exactly what whistle/services/stats.py promises (its docstring):
no hidden count is "published total minus published cells" of one line, nor any linear
combination of the published line sums, nor pinned to 1 by "hidden cells are never 0".
"""
from __future__ import annotations

import csv
import io
import itertools
import re
import secrets
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

import crypto
from tests.factories import make_team, make_unit
from tests.web.officer_login import Clock, clock, enrol, login_as  # noqa: F401
from whistle.db import transaction
from whistle.domain.constants import Category, Kind, Status
from whistle.models import Case, Event
from whistle.services.reporter import reports
from whistle.services.records import stats
from whistle.services.records.stats import Line, Pos, cross_lines
from whistle.web.state import state

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


def test_period_parsing() -> None:
    today = date(2026, 5, 1)
    assert stats.Period.parse({}, today) == stats.Period(date(2026, 1, 1), date(2026, 12, 31))
    assert stats.Period.parse({"year": "2025"}, today).start == date(2025, 1, 1)
    p = stats.Period.parse({"start": "2025-02-01", "end": "2025-02-28"}, today)
    assert (p.start, p.end) == (date(2025, 2, 1), date(2025, 2, 28))
    bad = [{"year": "abc"}, {"year": "１９９９"}, {"year": "1999"}, {"year": "20251"},
           {"start": "2025-01-01"}, {"start": "2025-02-30", "end": "2025-03-01"},
           {"start": "2025-03-01", "end": "2025-02-01"}, {"year": "2025", "start": "2025-01-01",
                                                           "end": "2025-01-02"}]
    for args in bad:
        with pytest.raises(stats.BadPeriod):
            stats.Period.parse(args, today)


# -- seeded cases -------------------------------------------------------------------------------

def at_local(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=JAKARTA).astimezone(UTC)


_serial = itertools.count(1)


def seed(db: object, unit_id: int, n: int = 1, *, category: Category = Category.ETHICS_CODE,
         status: Status = Status.RECEIVED, kind: Kind = Kind.COMPLAINT, channel: str = "web",
         received: date = date(2025, 3, 3), is_late: bool = False) -> list[Case]:
    """Plausible case rows without any encrypted part (statistics never read one)."""
    made = []
    for _ in range(n):
        case = Case(register_no=f"WBS-{received.year}-T{next(_serial):05d}", kind=kind.value,
                    category=category.value, channel=channel, status=status.value,
                    unit_id=unit_id, anonymity="anonymous", received_at=at_local(received),
                    step_started_on=received, due_on=received, is_late=is_late,
                    ticket_lookup=secrets.token_bytes(32), ticket_salt=secrets.token_bytes(16),
                    ticket_kdf=KDF)
        db.add(case)  # type: ignore[attr-defined]
        made.append(case)
    db.flush()  # type: ignore[attr-defined]
    return made


@pytest.fixture
def office(app: Flask) -> dict[str, int]:
    """Year 2025: PUSAT 20 cases, KANWIL 6, KECIL a single one (the reporter to protect).

    By category: ethics 12, abuse 8, maladministration 2 (never shown as "2"), law 5.
    """
    with transaction(state(app).db) as db:
        units = {code: make_unit(db, code, name).id for code, name in (
            ("PUSAT", "Kantor Pusat"), ("KANWIL", "Kantor Wilayah"), ("KECIL", "Pos Kecil"))}
        pusat, kanwil, kecil = units["PUSAT"], units["KANWIL"], units["KECIL"]
        seed(db, pusat, 7, category=Category.ETHICS_CODE)
        seed(db, pusat, 5, category=Category.ETHICS_CODE, status=Status.VERIFICATION, is_late=True)
        seed(db, pusat, 8, category=Category.ABUSE_OF_AUTHORITY, kind=Kind.WHISTLEBLOWING,
             channel="phone")
        seed(db, kanwil, 5, category=Category.LAW_VIOLATION, kind=Kind.WHISTLEBLOWING)
        seed(db, kanwil, 1, category=Category.MALADMINISTRATION, channel="letter")
        seed(db, kecil, 1, category=Category.MALADMINISTRATION, channel="letter")
        seed(db, pusat, 3, received=date(2024, 6, 3))  # another year: never counted in 2025
    return units


def _staff(app: Flask, clock: Clock, role: str, unit_id: int | None = None) -> FlaskClient:
    who = enrol(app, f"{role}-{secrets.token_hex(3)}", role, unit_id)
    client = app.test_client()
    login_as(client, who, clock)
    return client


@pytest.fixture
def auditor(app: Flask, clock: Clock) -> FlaskClient:
    return _staff(app, clock, "auditor")


def _csv(client: FlaskClient, query: str) -> dict[tuple[str, str, str], str]:
    resp = client.get("/admin/stats.csv" + query)
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    return {(r["table"], r["row_code"], r["column_code"]): r["value"] for r in rows}


def test_counts_on_seeded_cases(app: Flask, office: dict[str, int]) -> None:
    with transaction(state(app).db) as db:
        report = stats.build(db, stats.Period.year(2025))
    assert report.total == 27
    cat = report.table("category")
    by_code = {code: cell for (code, _), cell in zip(cat.rows, cat.totals)}
    assert by_code["ethics_code"].value == 12 and not by_code["ethics_code"].hidden
    assert by_code["abuse_of_authority"].value == 8
    assert by_code["maladministration"].value == 2 and by_code["maladministration"].hidden
    assert by_code["oath_breach"].value == 0 and not by_code["oath_breach"].hidden
    cross = report.table("category_status")
    ethics = cross.rows.index(("ethics_code", "Pelanggaran kode etik dan/atau pedoman perilaku ASN"))
    status_idx = [code for code, _ in cross.cols]
    assert cross.cells[ethics][status_idx.index("received")].value == 7
    assert cross.cells[ethics][status_idx.index("verification")].value == 5
    kind = report.table("kind")
    assert dict(zip((c for c, _ in kind.rows), (x.value for x in kind.totals)))["whistleblowing"] == 13
    late = report.table("timeliness")
    assert [x.value for x in late.totals] == [22, 5]
    assert report.median.days is None and report.median.closed == 0


def test_median_working_days_to_close(app: Flask) -> None:
    with transaction(state(app).db) as db:
        unit = make_unit(db).id
        # Received Monday 3 Feb 2025 (no holiday that fortnight); closed 2, 4, 5, 7, 9 working
        # days later.
        for close_day in (5, 7, 10, 12, 14):
            (case,) = seed(db, unit, status=Status.CLOSED, received=date(2025, 2, 3))
            db.add(Event(case_id=case.id, actor="officer", action="close",
                         from_status="answered", to_status="closed",
                         at=at_local(date(2025, 2, close_day), 15)))
        db.flush()
        report = stats.build(db, stats.Period.year(2025))
        assert report.median == stats.Median(5, 5)
        assert [x.value for x in report.table("timeliness").totals] == [5, 0]
        # With K above the number of closed cases the median would describe single cases.
        assert stats.build(db, stats.Period.year(2025), k=6).median.days is None


def _rows_for(html: str, label: str) -> list[str]:
    return re.findall(r'<th scope="row">' + re.escape(label) + r"</th>(.*?)</tr>", html, re.DOTALL)


def test_page_suppresses_small_category(auditor: FlaskClient, office: dict[str, int]) -> None:
    resp = auditor.get("/admin/stats?year=2025")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    rows = _rows_for(html, "Maladministrasi")
    assert len(rows) == 2  # the cross-table row and the by-category row
    for row in rows:
        assert ">2<" not in row and "&lt;5" in row
    ethics = _rows_for(html, "Pelanggaran kode etik dan/atau pedoman perilaku ASN")
    assert any("<td>12</td>" in row for row in ethics)  # large counts are shown exactly
    assert "27" in html  # the grand total


def test_csv_suppresses_small_category(auditor: FlaskClient, office: dict[str, int]) -> None:
    data = _csv(auditor, "?year=2025")
    assert data[("category", "maladministration", "total")] == "<5"
    assert data[("category_status", "maladministration", "total")] == "<5"
    assert all(v != "2" for (table, row, _), v in data.items() if row == "maladministration")
    assert data[("category", "ethics_code", "total")] == "12"
    assert data[("category", "total", "total")] == "27"


def test_one_case_from_a_small_unit_is_never_singled_out(auditor: FlaskClient,
                                                          office: dict[str, int]) -> None:
    data = _csv(auditor, "?year=2025")
    unit = {row: v for (table, row, col), v in data.items() if table == "unit" and row != "total"}
    kecil = str(office["KECIL"])
    assert unit[kecil] == "<5"
    # Not derivable: the total minus the published units leaves more than one hidden unit,
    # and more cases than hidden units (so "each is at least 1" pins nothing).
    published = sum(int(v) for v in unit.values() if v != "<5")
    hidden = [u for u, v in unit.items() if v == "<5"]
    remainder = int(data[("unit", "total", "total")]) - published
    assert len(hidden) >= 2 and remainder > len(hidden)
    html = auditor.get("/admin/stats?year=2025").get_data(as_text=True)
    (row,) = _rows_for(html, "Pos Kecil (KECIL)")
    assert row == "<td>&lt;5</td>"


def test_admin_sees_the_page_too(app: Flask, clock: Clock, office: dict[str, int]) -> None:
    admin = _staff(app, clock, "admin")
    assert admin.get("/admin/stats?year=2025").status_code == 200
    assert admin.get("/admin/stats.csv?year=2025").status_code == 200
    assert 'href="/admin/stats"' in admin.get("/admin/").get_data(as_text=True)


def test_auditor_nav_links_to_statistics(auditor: FlaskClient) -> None:
    assert 'href="/admin/stats"' in auditor.get("/admin/audit").get_data(as_text=True)


@pytest.mark.parametrize("role", ["verifikator", "pengkaji", "penerima", "pyb", "uki"])
def test_case_roles_get_403(app: Flask, clock: Clock, role: str) -> None:
    with transaction(state(app).db) as db:
        unit = make_unit(db).id
    client = _staff(app, clock, role, unit)
    assert client.get("/admin/stats").status_code == 403
    assert client.get("/admin/stats.csv").status_code == 403


def test_anonymous_is_sent_to_log_in(client: FlaskClient) -> None:
    resp = client.get("/admin/stats")
    assert resp.status_code == 302 and "/officer/login" in resp.headers["Location"]


@pytest.mark.parametrize("query", [
    "?year=abc", "?year=1999", "?year=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%95", "?start=2025-01-01",
    "?start=2025-02-30&end=2025-03-01", "?start=2025-03-01&end=2025-02-01",
    "?year=2025&start=2025-01-01&end=2025-01-31", "?start=x&end=y", "?year=" + "9" * 5000,
])
def test_bad_period_is_a_400_with_a_message(auditor: FlaskClient, query: str) -> None:
    for path in ("/admin/stats", "/admin/stats.csv"):
        resp = auditor.get(path + query)
        assert resp.status_code == 400, (path, query)
        assert 'role="alert"' in resp.get_data(as_text=True)


def test_stray_query_keys_are_not_passed_to_links(auditor: FlaskClient) -> None:
    resp = auditor.get("/admin/stats?year=2025&_scheme=javascript&_external=1&_anchor=x")
    assert resp.status_code == 200
    assert 'href="/admin/stats.csv?year=2025"' in resp.get_data(as_text=True)


def test_date_range(auditor: FlaskClient, office: dict[str, int]) -> None:
    data = _csv(auditor, "?start=2025-03-01&end=2025-03-03")
    assert data[("category", "total", "total")] == "27"
    assert data[("period", "start", "")] == "2025-03-01"
    assert _csv(auditor, "?start=2025-03-04&end=2025-12-31")[("total", "total", "total")] == "<5"


def test_period_with_fewer_than_k_reports_shows_no_table(auditor: FlaskClient,
                                                          office: dict[str, int]) -> None:
    """2024 holds 3 reports, all ethics, all at PUSAT: even a table of zeros and "<5" would
    say where every one of them came from, so neither the page nor the CSV has a table."""
    data = _csv(auditor, "?year=2024")
    assert data[("total", "total", "total")] == "<5"
    assert not [key for key in data if key[0] not in ("period", "total",
                                                       "median_working_days_to_close")]
    html = auditor.get("/admin/stats?year=2024").get_data(as_text=True)
    assert "Kantor Pusat" not in html and "<table" not in html and ">3<" not in html


def test_never_reads_or_shows_report_content(app: Flask, auditor: FlaskClient) -> None:
    marker = "PENANDA-" + secrets.token_hex(8)
    with transaction(state(app).db) as db:
        unit = make_unit(db, "ITJEN", "Inspektorat")
        make_team(db, unit, "verifikator")
    report = reports.ReportInput(
        kind=Kind.WHISTLEBLOWING, category=Category.ABUSE_OF_AUTHORITY, unit_id=unit.id,
        who=marker, who_position=marker, what=f"Pungutan liar {marker}", when=marker,
        where=marker, how=marker)
    case, _ = reports.file_report(state(app).db, report, pepper=PEPPER)
    year = case.received_at.astimezone(JAKARTA).year

    statements: list[str] = []

    def record(conn: object, cursor: object, sql: str, *args: object) -> None:
        statements.append(sql.lower())

    event.listen(state(app).engine, "before_cursor_execute", record)
    try:
        html = auditor.get(f"/admin/stats?year={year}").get_data(as_text=True)
        body = auditor.get(f"/admin/stats.csv?year={year}").get_data(as_text=True)
    finally:
        event.remove(state(app).engine, "before_cursor_execute", record)
    assert marker not in html and marker not in body
    assert "Pungutan" not in html and "Pungutan" not in body
    assert "<td>1</td>" not in html  # a single report is never shown as 1
    stats_sql = [s for s in statements if "from cases" in s or "join cases" in s]
    assert stats_sql, "the statistics queries did not run"
    for s in statements:
        for secret_place in ("case_fields", "messages", "identity_", "reason_blob",
                             "case_key_wraps", "attachments"):
            assert secret_place not in s, s
