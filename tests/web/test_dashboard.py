"""The dashboard: known counts, SOP compliance across Lebaran, differencing attacks, exports.

Cases are seeded as plain rows with garbage where the encrypted parts would be: the dashboard
must never open one, and the numbers must still come out right.
"""
from __future__ import annotations

import csv
import io
import itertools
import os
import random
import secrets
import shutil
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import crypto
from tests.factories import make_unit
from tests.web.officer_login import Clock, clock, enrol, login_as  # noqa: F401
from whistle.db import transaction
from whistle.domain.constants import Category, Kind, Status
from whistle.models import AuditEntry, Case, Event
from whistle.services.records import dashboard, release, suppression
from whistle.web.state import state

JAKARTA = ZoneInfo("Asia/Jakarta")
KDF = crypto.encode_params(crypto.kdf.TEST_PARAMS)
TODAY = date(2026, 12, 2)  # Q1-Q3 of 2026 have ended, Q4 has not
_serial = itertools.count(1)


def at_local(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=JAKARTA).astimezone(UTC)


def seed(db: Any, unit_id: int, n: int, *, received: date, category: Category = Category.ETHICS_CODE,
         kind: Kind = Kind.COMPLAINT, status: Status = Status.VERIFICATION,
         moves: tuple[tuple[date, Status, Status], ...] = ()) -> list[str]:
    ids = []
    for _ in range(n):
        case = Case(register_no=f"WBS-{received.year}-D{next(_serial):05d}", kind=kind.value,
                    category=category.value, channel="web", status=status.value, unit_id=unit_id,
                    anonymity="anonymous", received_at=at_local(received), step_started_on=received,
                    due_on=received, is_late=False, ticket_lookup=secrets.token_bytes(32),
                    ticket_salt=secrets.token_bytes(16), ticket_kdf=KDF)
        db.add(case)
        db.flush()
        db.add(Event(case_id=case.id, actor="system", at=at_local(received), action="file",
                     from_status=None, to_status=Status.RECEIVED.value,
                     reason_blob=secrets.token_bytes(40)))
        for day, frm, to in moves:
            db.add(Event(case_id=case.id, actor="officer", at=at_local(day, 11), action="x",
                         from_status=frm.value, to_status=to.value, reason_blob=secrets.token_bytes(40)))
        ids.append(case.id)
    db.flush()
    return ids


@pytest.fixture
def office(app: Flask) -> dict[str, int]:
    """2026. Unit A: 11 cases received Mon 16 March, just before Nyepi and Lebaran (3 working
    days run to Thu 26 March, not Thu 19): 6 verified on the 25th (met), 5 on the 27th (missed).
    Unit A: 7 more in Q2 still in verification (late now). Unit B: 6 in Q3. Unit C: one case
    in Q2 (the reporter to protect). Q4: 9 cases, not counted until the quarter ends."""
    with transaction(state(app).db) as db:
        units = {c: make_unit(db, c, f"Unit {c}").id for c in ("A", "B", "C")}
        fwd = ((date(2026, 3, 16), Status.RECEIVED, Status.VERIFICATION),)
        seed(db, units["A"], 6, received=date(2026, 3, 16), status=Status.FORWARDED_PYB,
             moves=fwd + ((date(2026, 3, 25), Status.VERIFICATION, Status.FORWARDED_PYB),))
        seed(db, units["A"], 5, received=date(2026, 3, 16), status=Status.FORWARDED_PYB,
             category=Category.ABUSE_OF_AUTHORITY,
             moves=fwd + ((date(2026, 3, 27), Status.VERIFICATION, Status.FORWARDED_PYB),))
        seed(db, units["A"], 7, received=date(2026, 5, 4), kind=Kind.WHISTLEBLOWING)
        seed(db, units["B"], 6, received=date(2026, 8, 3), category=Category.LAW_VIOLATION)
        seed(db, units["C"], 1, received=date(2026, 5, 6), category=Category.MALADMINISTRATION)
        seed(db, units["B"], 9, received=date(2026, 10, 5))
    return units


def build(app: Flask, **args: Any) -> dashboard.Dashboard:
    with transaction(state(app).db) as db:
        return dashboard.build(db, dashboard.Filters(2026, **args), today=TODAY)


def shown(table: suppression.Table, code: str) -> str:
    return next(c.shown(5) for (rc, _), c in zip(table.rows, table.totals) if rc == code)


def value(table: suppression.Table, code: str) -> int:
    return next(c.value for (rc, _), c in zip(table.rows, table.totals) if rc == code)


def test_counts_against_the_known_truth(app: Flask, office: dict[str, int]) -> None:
    d = build(app)
    assert d.quarters_done == 3
    assert d.total.total.value == 25  # Q4's 9 are not counted yet
    kind, cat = d.tables["kind"], d.tables["category"]
    assert (value(kind, "complaint"), value(kind, "whistleblowing")) == (18, 7)
    assert (value(cat, "law_violation"), value(cat, "abuse_of_authority"), value(cat, "ethics_code")) == (6, 5, 13)
    assert shown(cat, "maladministration") == "<5"  # unit C's single reporter
    for table in d.tables.values():  # whatever is shown is the truth; every small count hidden
        for cell in (*table.totals, table.total):
            assert cell.hidden or cell.shown(5) == str(cell.value)
            assert cell.hidden or not 0 < cell.value < 5
    assert value(build(app, quarter=1).tables["kind"], "complaint") == 11
    assert shown(build(app, quarter=1, unit=office["A"]).tables["kind"], "complaint") == "11"


def test_sop_compliance_counts_working_days_across_lebaran(app: Flask, office: dict[str, int]) -> None:
    step = next(s for s in build(app, unit=office["A"]).steps if s.step == "verification")
    figures = {code: c.shown(5) for (code, _), c in zip(step.table.rows, step.table.totals)}
    # A naive Monday-to-Friday count would call all 11 late (deadline Thu 19 March).
    assert figures["met"] == "6" and figures["missed"] == "5"
    late = next(c for (code, _), c in zip(step.table.rows, step.table.totals) if code == "late_now")
    # Q2's cases never left verification; shown or hidden to protect unit C's late case beside it
    assert late.value == 7 and figures["late_now"] in ("7", "<5")
    assert step.share_met == pytest.approx(6 / 11)
    assert step.median == 2 and step.p90 == 4  # 17 and 25 March; 17, 25, 26, 27 March


def test_no_decryption_numbers_equal_with_garbage_blobs(app: Flask, office: dict[str, int]) -> None:
    """Every blob in the seeded data is random bytes; the dashboard still counts, so it opened
    nothing. A page view also needs no key: the auditor holds none."""
    d = build(app)
    assert d.total.total.value == 25


def _leaky_lines(values: dict[tuple[Any, ...], str], k: int) -> list[str]:
    """The outsider's differencing attack on every downloaded filter: a parent (year, all
    units, table total) equal to the sum of its children, with exactly one child hidden."""
    found = []
    quarters, units, rows = set(), set(), set()
    for (q, u, r) in values:
        quarters.add(q)
        units.add(u)
        rows.add(r)
    parts = sorted(q for q in quarters if q != "year")
    unit_ids = sorted(u for u in units if u != "all")
    members = [r for r in rows if r != "total"]

    def check(parent: tuple[Any, ...], children: list[tuple[Any, ...]]) -> None:
        if parent not in values or any(c not in values for c in children):
            return
        hidden = [c for c in children if values[c].startswith("<")] + \
                 ([parent] if values[parent].startswith("<") else [])
        if len(hidden) == 1:
            found.append(f"{parent} minus its children pins {hidden[0]}")

    for u in units:
        for r in rows:
            check(("year", u, r), [(q, u, r) for q in parts])
    for q in quarters:
        for r in rows:
            check((q, "all", r), [(q, u, r) for u in unit_ids])
        for u in units:
            check((q, u, "total"), [(q, u, r) for r in members])
    return found


def test_differencing_filters_pins_nothing(app: Flask, clock: Clock) -> None:
    """A generated year (today: every quarter ended) with small units; the auditor downloads the
    CSV of every filter (year and each quarter, all units and each unit) and subtracts."""
    rng = random.Random(7)
    with transaction(state(app).db) as db:
        units = [make_unit(db, f"U{i}", f"Unit {i}").id for i in range(4)]
        for _ in range(90):
            seed(db, rng.choice(units[:2] * 4 + units[2:]), 1,
                 received=date(2025, 1, 1) + timedelta(days=rng.randrange(365)),
                 category=rng.choice(list(Category)[:4]), kind=rng.choice(list(Kind)))
    who = enrol(app, "aud", "auditor", None)
    c = app.test_client()
    login_as(c, who, clock)
    for dim_rows in ("kind", "category"):
        values: dict[tuple[Any, ...], str] = {}
        for q, u in itertools.product([None, 1, 2, 3, 4], [None, *units]):
            args = {"year": "2025", **({"quarter": str(q)} if q else {}), **({"unit": str(u)} if u else {})}
            resp = c.get("/admin/stats.csv", query_string=args)
            assert resp.status_code == 200
            for row in csv.DictReader(io.StringIO(resp.get_data(as_text=True))):
                if row["table"] == dim_rows:
                    values[(q or "year", u or "all", row["row_code"])] = row["value"]
        assert any(v.startswith("<") for v in values.values())  # the attack has targets
        assert _leaky_lines(values, 5) == []
    with transaction(state(app).db) as db:
        for key in ("kind", "category"):
            data = dashboard._year_data(db, 2025, 5, "id", state(app).config, date(2026, 2, 1), {})
            assert data.releases[key].leaks() == set()  # any linear combination, not just lines


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 7), min_size=3, max_size=5), min_size=3, max_size=5),
       st.integers(2, 6))
def test_fast_and_exact_determination_agree(matrix: list[list[int]], k: int) -> None:
    width = min(len(r) for r in matrix)
    matrix = [r[:width] for r in matrix]
    values, hidden = suppression.suppress_matrix(matrix, k)
    lines = suppression.cross_lines(len(matrix), width)
    rng = random.Random(sum(map(sum, matrix)))
    for extra in range(4):
        probe = set(hidden) | set(rng.sample(sorted(values), min(len(values), extra * 3)))
        assert suppression._determined_svd(probe, lines) == suppression._determined_exact(probe, lines)


def test_release_is_consistent_across_views() -> None:
    rows = [("a", "a"), ("b", "b")]
    counts = {(1, 10, "a"): 3, (2, 10, "a"): 9, (1, 11, "b"): 12, (3, 11, "a"): 1}
    rel = release.build_release("x", rows, [10, 11], counts)
    assert rel.leaks() == set()
    assert rel.view(None, None).total.value == 25
    assert rel.view(1, 10).totals[0].hidden  # the 3


@pytest.fixture
def auditor(app: Flask, clock: Clock) -> FlaskClient:
    who = enrol(app, "auditor1", "auditor", None)
    c = app.test_client()
    login_as(c, who, clock)
    return c


def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    import whistle.blueprints.admin.stats as page

    monkeypatch.setattr(page, "local_today", lambda *a: TODAY)


def test_page_and_exports(auditor: FlaskClient, office: dict[str, int],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    _today(monkeypatch)
    html = auditor.get("/admin/stats?year=2026").get_data(as_text=True)
    assert "<meter" in html and "<script" not in html and "&lt;5" in html
    csv_body = auditor.get("/admin/stats.csv?year=2026").get_data(as_text=True)
    xlsx = auditor.get("/admin/stats.xlsx?year=2026")
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(xlsx.get_data())).active
    from_xlsx = {(r[0], r[1]): "" if r[3] is None else str(r[3]) for r in ws.iter_rows(min_row=2, values_only=True)}
    from_csv = {(r["table"], r["row_code"]): r["value"] for r in csv.DictReader(io.StringIO(csv_body))}
    assert from_xlsx == from_csv  # the same cells hidden in every format
    assert from_csv[("category", "maladministration")] == "<5"


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_pdf_report_pages_read_back(auditor: FlaskClient, office: dict[str, int], tmp_path: Any,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _today(monkeypatch)
    resp = auditor.get("/admin/stats.pdf?year=2026")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(resp.get_data())
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 2
    keep = os.environ.get("WHISTLE_TEST_ARTIFACTS")
    if keep:  # for a person to look at the pages
        for page in pages:
            shutil.copy(page, Path(keep) / f"report-{page.name}")
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True).stdout.decode()
    for expected in ("Laporan Pengelolaan Pengaduan", "Tahun 2026", "Kepatuhan terhadap SOP",
                     "Laporan Gratifikasi dan WBK", "Mengetahui"):
        assert expected in text


def test_metadata_export_is_pseudonymous(app: Flask, auditor: FlaskClient, office: dict[str, int]) -> None:
    a = list(csv.DictReader(io.StringIO(auditor.get("/admin/stats/cases.csv?year=2026").get_data(as_text=True))))
    b = list(csv.DictReader(io.StringIO(auditor.get("/admin/stats/cases.csv?year=2026").get_data(as_text=True))))
    assert len(a) == 34 and set(a[0]) == set(dashboard_columns())
    assert len({r["case"] for r in a}) == 34  # stable and distinct within one export
    assert not {r["case"] for r in a} & {r["case"] for r in b}  # different between exports
    with transaction(state(app).db) as db:
        ids = set(db.scalars(select(Case.id)))
        regs = set(db.scalars(select(Case.register_no)))
        assert db.scalar(select(AuditEntry).where(AuditEntry.action == "stats.metadata_export"))
    for r in a:
        assert r["case"] not in ids and not any(r["case"] in x for x in ids | regs)
        assert len(r["received_month"]) == 7  # month, not day


def dashboard_columns() -> tuple[str, ...]:
    from whistle.services.records.exports import METADATA_COLUMNS

    return METADATA_COLUMNS


@pytest.mark.parametrize("query", ["year=abc", "year=1999", "year=2999", "quarter=5", "unit=x",
                                   "unit=99999999999", "year=2026&unit=424242"])
def test_bad_filters_are_a_400(auditor: FlaskClient, query: str) -> None:
    resp = auditor.get("/admin/stats?" + query)
    assert resp.status_code == 400 and 'id="error"' in resp.get_data(as_text=True)


@pytest.mark.parametrize("role", ["verifikator", "pengkaji", "penerima"])
def test_case_handlers_do_not_see_it(app: Flask, clock: Clock, role: str) -> None:
    with transaction(state(app).db) as db:
        unit = make_unit(db, "X", "X").id
    who = enrol(app, f"{role}x", role, unit)
    c = app.test_client()
    login_as(c, who, clock)
    assert c.get("/admin/stats").status_code == 403


def test_pdf_rendering_fetches_nothing_from_the_network() -> None:
    import http.server
    import threading

    from whistle.services.records.pdf import html_to_pdf

    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        pdf = html_to_pdf(f'<link rel="stylesheet" href="{url}/a.css"><img src="{url}/b.png"><p>x</p>')
    finally:
        server.shutdown()
    assert pdf.startswith(b"%PDF") and hits == []


def test_cache_follows_new_reports_and_transitions(app: Flask, office: dict[str, int]) -> None:
    before = build(app)
    with transaction(state(app).db) as db:
        seed(db, office["B"], 5, received=date(2026, 7, 1))
    assert build(app).total.total.value == before.total.total.value + 5
    with transaction(state(app).db) as db:
        case = db.scalars(select(Case).where(Case.unit_id == office["B"])).first()
        case.status = Status.CLOSED.value  # a versioned UPDATE, as every transition is
    after = build(app)
    assert value(after.tables["status"], "closed") == value(before.tables["status"], "closed") + 1
