"""Dashboard at 100,000 cases: first build (counting + joint suppression) and a repeat view.

    .venv/bin/python bench/bench_dashboard.py                       # SQLite in a temp dir
    .venv/bin/python bench/bench_dashboard.py --url postgresql://whistle@127.0.0.1:5432/bench

Seeds N cases over 2026 across 8 units (plaintext columns only: the dashboard reads no blob)
with 3 events each (filed, verification, a routing step), then times, with today 2 Dec 2026:
* ``first``: a cold build of the year (the counting queries, the compliance pass over every
  event, and the joint suppression of every release), as after a new report arrives;
* ``view``: the same dashboard again and other filters of the same year (cached releases:
  two small signature queries and slicing), which is what people mostly load.
Prints the median of the repeats and the ratio view/first. Target: view <= 200 ms on PostgreSQL.
"""
from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from whistle.db import make_engine, make_sessionmaker, transaction  # noqa: E402
from whistle.models import Base, Case, Event, Unit, new_id  # noqa: E402
from whistle.services.records import dashboard  # noqa: E402

TODAY = date(2026, 12, 2)
CHUNK = 5000
STATUSES = ("verification", "forwarded_pyb", "forwarded_unit", "answered", "closed", "archived")


def seed(factory: object, n: int) -> list[int]:
    rng = random.Random(1)
    with transaction(factory) as db:  # type: ignore[arg-type]
        units = [Unit(code=f"U{i}", name=f"Unit {i}") for i in range(8)]
        db.add_all(units)
        db.flush()
        unit_ids = [u.id for u in units]
    kdf = b"\x01" * 8
    for start in range(0, n, CHUNK):
        cases, events = [], []
        for i in range(start, min(n, start + CHUNK)):
            received = datetime(2026, 1, 1, 2, tzinfo=UTC) + timedelta(minutes=rng.randrange(480 * 24 * 60 // 1))
            received = min(received, datetime(2026, 11, 30, tzinfo=UTC))
            cid = new_id()
            status = rng.choice(STATUSES)
            cases.append(dict(id=cid, register_no=f"WBS-2026-{i:07d}", kind=rng.choice(("complaint", "whistleblowing")),
                              category=rng.choice(("ethics_code", "abuse_of_authority", "maladministration")),
                              channel=rng.choice(("web", "phone", "letter")), status=status,
                              unit_id=rng.choice(unit_ids), anonymity="anonymous", received_at=received,
                              created_at=received, step_started_on=received.date(), due_on=received.date(),
                              is_late=False, needs_attention=False, has_identity=False, has_witnesses=False,
                              ticket_lookup=secrets.token_bytes(32), ticket_salt=secrets.token_bytes(16),
                              ticket_kdf=kdf, version=1, tier="14" if status == "forwarded_pyb" else None))
            events.append(dict(id=new_id(), case_id=cid, actor="system", at=received, action="file",
                               from_status=None, to_status="received"))
            events.append(dict(id=new_id(), case_id=cid, actor="officer", at=received + timedelta(days=1),
                               action="start", from_status="received", to_status="verification"))
            if status != "verification":
                events.append(dict(id=new_id(), case_id=cid, actor="officer",
                                   at=received + timedelta(days=rng.randrange(1, 9)), action="route",
                                   from_status="verification", to_status=status if status in ("forwarded_pyb", "forwarded_unit", "answered") else "answered"))
        with transaction(factory) as db:  # type: ignore[arg-type]
            db.execute(insert(Case), cases)
            db.execute(insert(Event), events)
    return unit_ids


def timed(fn: object, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    url = args.url or f"sqlite:///{tmp}/bench.db"
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    factory = make_sessionmaker(engine)
    t = time.perf_counter()
    units = seed(factory, args.cases)
    print(f"seeded {args.cases} cases in {time.perf_counter() - t:.1f} s on {engine.dialect.name}")

    def build(**filters: object) -> dashboard.Dashboard:
        with transaction(factory) as db:
            return dashboard.build(db, dashboard.Filters(2026, **filters), today=TODAY)  # type: ignore[arg-type]

    def cold() -> None:
        dashboard._CACHE.clear()
        build()

    first = timed(cold, max(3, args.repeats // 2))
    build()
    views = timed(lambda: (build(), build(quarter=2), build(unit=units[3]), build(quarter=3, unit=units[1])),
                  args.repeats)
    view = [v / 4 for v in views]
    f, v = statistics.median(first), statistics.median(view)
    print(f"first build (cold): median {f:.0f} ms over {len(first)}")
    print(f"dashboard view (warm): median {v:.1f} ms over {len(view) * 4} views; ratio view/first {v / f:.3f}")
    engine.dispose()


if __name__ == "__main__":
    main()
