"""Officer-side benchmark: inbox first page, deep page, case page and the sweep at 100,000 cases.

    .venv/bin/python bench/bench_officer.py                       # SQLite in a temp dir
    .venv/bin/python bench/bench_officer.py --url postgresql://whistle@127.0.0.1:5432/bench

Seeding (bulk Core inserts, 5,000 rows a statement batch):
* every case gets a real HPKE wrap of its case key to the verifikator team (ML-KEM-768+X25519,
  context bound to the case id) and a real AES-GCM title field bound to its case id;
* for seeding speed one case key is shared by each block of 1,000 cases (production draws
  one per case; sharing changes no query and no per-row crypto cost measured here);
* no ticket wrap, identity or thread rows (the inbox and sweep never read them); the sweep's
  pre-sealed archive notice is seeded for awaiting_data cases, as the service would.

Status mix: 20% received, 20% verification, 10% awaiting_data (half of them past their
deadline), 10% forwarded_pyb, 10% investigation, 10% answered, 10% closed, 10% archived.
Deadlines spread over Jan..Jun 2026 ("today" for the sweep is 1 April 2026).
"""
from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text  # noqa: E402

import crypto  # noqa: E402
from crypto import PrivateKey  # noqa: E402
from whistle.db import make_engine, make_sessionmaker, transaction  # noqa: E402
from whistle.models import (  # noqa: E402
    Base, Case, CaseField, CaseKeyWrap, Officer, Team, TeamMember, Unit,
)
from whistle.services.cases import page as casepage  # noqa: E402
from whistle.services.cases import inbox
from whistle.services.operations import sweep
from whistle.services.custody import audit  # noqa: E402
from whistle.services.custody.casekeys import CaseCipher, team_key_context, wrap_for_team  # noqa: E402
from whistle.services.cases.transitions import FIELD_SWEEP_NOTICE  # noqa: E402

STATUSES = (["received"] * 2 + ["verification"] * 2 + ["awaiting_data", "forwarded_pyb",
            "investigation", "answered", "closed", "archived"])
CATEGORIES = ("ethics_code", "abuse_of_authority", "maladministration", "poor_public_service")
KINDS = ("complaint", "whistleblowing", "aspiration", "information_request")
TODAY = date(2026, 4, 1)
NOW = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)  # 10:00 in Jakarta
CHUNK = 5000


def seed(factory, n: int) -> tuple[dict[int, PrivateKey], Officer, str]:
    team_key = PrivateKey.generate()
    with transaction(factory) as db:
        unit = Unit(code="PUSAT", name="Unit Pusat")
        db.add(unit)
        db.flush()
        team = Team(unit_id=unit.id, role="verifikator", public_key=team_key.public_key().to_bytes())
        db.add(team)
        officer_key = PrivateKey.generate()
        officer = Officer(username="bench", display_name="Bench", role="verifikator", unit_id=unit.id,
                          email="bench@example.go.id", public_key=officer_key.public_key().to_bytes())
        db.add(officer)
        db.flush()
        db.add(TeamMember(team_id=team.id, officer_id=officer.id,
                          wrapped_key=officer_key.public_key().wrap(team_key.to_bytes(),
                                                                    context=team_key_context(team.id))))
        unit_id, team_id = unit.id, team.id
    rng = secrets.SystemRandom()
    sample_id = ""
    now = NOW
    for start in range(0, n, CHUNK):
        cases_rows, wraps, fields = [], [], []
        for i in range(start, min(n, start + CHUNK)):
            if i % 1000 == 0:
                block_key = crypto.generate_key()  # one case key per 1,000 cases (seeding only)
            case_id = secrets.token_hex(16)
            status = STATUSES[i % len(STATUSES)]
            due: date | None = date(2026, 1, 5) + timedelta(days=rng.randrange(0, 170))
            if status == "awaiting_data":
                due = TODAY - timedelta(days=3) if i % 20 < 10 else TODAY + timedelta(days=5)
            if status in ("forwarded_pyb", "closed", "archived"):
                due = None
            cases_rows.append(dict(
                id=case_id, register_no=f"WBS-2026-{i:07d}", kind=KINDS[i % 4],
                category=CATEGORIES[(i // 3) % 4], channel="web", status=status, unit_id=unit_id,
                team_id=team_id, tier=None, anonymity="anonymous", has_identity=False,
                has_witnesses=False, received_at=now - timedelta(days=30), step_started_on=TODAY,
                due_on=due, is_late=False, needs_attention=False, ticket_lookup=secrets.token_bytes(32),
                ticket_salt=secrets.token_bytes(16), ticket_kdf=bytes(14), created_at=now, updated_at=now,
                closed_at=now - timedelta(days=60) if status == "closed" else None,
                archived_at=None, version=1))
            cipher = CaseCipher(case_id, block_key)
            wraps.append(dict(case_id=case_id, team_id=team_id,
                              blob=wrap_for_team(case_id, block_key, team.public_key)))
            fields.append(dict(case_id=case_id, name="title",
                               blob=cipher.seal_text("field", "title", f"Laporan dugaan pungli nomor {i}")))
            if status == "awaiting_data":
                msg_id = secrets.token_hex(16)
                fields.append(dict(case_id=case_id, name=FIELD_SWEEP_NOTICE,
                                   blob=msg_id.encode() + cipher.seal_text("message", msg_id, "Diarsipkan.")))
            if i == n // 2:
                sample_id = case_id
        with transaction(factory) as db:
            db.execute(insert(Case), cases_rows)
            db.execute(insert(CaseKeyWrap), wraps)
            db.execute(insert(CaseField), fields)
    return {team_id: team_key}, officer, sample_id


def median_ms(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="", help="database URL (default: SQLite in a temp dir)")
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=21)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.url or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            Base.metadata.drop_all(conn)
    Base.metadata.create_all(engine)
    # Fresh keys: the bench has no instance folder, and audit.append refuses an unbound factory.
    factory = audit.bind(make_sessionmaker(engine), audit.AuditKeys.generate())

    t = time.perf_counter()
    keys, officer, sample = seed(factory, args.cases)
    seed_s = time.perf_counter() - t
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    team_ids = list(keys)

    def first_page(filters: inbox.Filters, after: inbox.Cursor | None = None) -> inbox.Page:
        with transaction(factory) as db:
            page = inbox.list_page(db, team_ids, filters, after=after)
            inbox.decrypt_titles(db, page.rows, keys)
            assert len(page.rows) == inbox.PAGE_SIZE and page.rows[0].title
            return page

    results: list[tuple[str, float]] = []
    results.append(("inbox first page (default: open cases), 50 titles decrypted",
                    median_ms(lambda: first_page(inbox.Filters()), args.reps)))
    results.append(("inbox first page, status=verification",
                    median_ms(lambda: first_page(inbox.Filters(status="verification")), args.reps)))
    results.append(("inbox first page, category + kind filter",
                    median_ms(lambda: first_page(inbox.Filters(category="maladministration",
                                                               kind="complaint")), args.reps)))
    # page 1,000 (50,000 rows in): keyset cost does not grow with depth
    with transaction(factory) as db:
        row = db.execute(select(Case.due_on, Case.id).where(Case.due_on.is_not(None),
                         Case.status != "archived").order_by(Case.due_on, Case.id)
                         .offset(min(50_000, args.cases // 3)).limit(1)).one()
    deep = inbox.Cursor(row[0], row[1])
    results.append(("inbox deep page (keyset, ~row 33-50k)",
                    median_ms(lambda: first_page(inbox.Filters(), deep), args.reps)))
    with transaction(factory) as db:
        officer_row = db.get(Officer, officer.id)

    def open_case() -> None:
        with transaction(factory) as db:
            view = casepage.load(db, officer=officer_row, team_keys=keys, case_id=sample)
            assert view.fields

    results.append(("case page (decrypt fields, thread, history + audit entry)",
                    median_ms(open_case, args.reps)))
    t = time.perf_counter()
    report = sweep.run(factory, now=NOW, send_mail=False)
    sweep_s = time.perf_counter() - t
    t = time.perf_counter()
    again = sweep.run(factory, now=NOW, send_mail=False)
    sweep2_s = time.perf_counter() - t
    # First call right after the sweep flipped ~30% of is_late (cold, statistics stale), then
    # the median of warm calls.
    t = time.perf_counter()
    first_page(inbox.Filters(late_only=True))
    late_cold_ms = (time.perf_counter() - t) * 1000
    late_ms = median_ms(lambda: first_page(inbox.Filters(late_only=True)), args.reps)
    with transaction(factory) as db:
        total = db.scalar(select(func.count()).select_from(Case))

    print(f"backend: {engine.dialect.name}; cases: {total}; seeding: {seed_s:.1f} s")
    for name, ms in results:
        print(f"| {name} | {ms:.1f} ms |")
    print(f"| inbox late-only first page after the sweep: first call / median | "
          f"{late_cold_ms:.1f} ms / {late_ms:.1f} ms |")
    print(f"| sweep, first run over {total} cases ({report.summary()}) | {sweep_s:.2f} s |")
    print(f"| sweep, second run (nothing to do) ({again.summary()}) | {sweep2_s:.2f} s |")
    engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    os.environ.setdefault("WHISTLE_BENCH", "1")
    main()
