"""What SQLite's synchronous=FULL costs the embedded default, against NORMAL.

FULL makes every commit wait for the write-ahead log to reach the disk, so an acknowledged
report survives a power cut; NORMAL only survives a process crash. This files reports through
the real app (Flask test client, in this process, default Argon2 costs, a fresh SQLite file)
in both modes, alternating rounds so that outside load hits both alike, and prints:

  * the median time of POST /lapor (the filing: Argon2, the case transaction, the session
    save; two commits) per mode, and the ratio;
  * the median time of a bare session save (one small commit) per mode, and the ratio;
  * the sustained filing rate with 8 threads filing at once (fsync happens inside SQLite's
    write lock, so concurrency is where FULL could hurt most), and the ratio.

    .venv/bin/python bench/bench_durability.py [--rounds 6] [--reports 40] [--threads 8]
"""
from __future__ import annotations

import argparse
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_reporter import prepare_instance, report_fields  # noqa: E402

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
MODES = ("NORMAL", "FULL")


def make_app(instance: Path, db_url: str, mode: str) -> Any:
    import whistle.db
    from whistle.app import create_app
    from whistle.web.state import state

    whistle.db.SQLITE_SYNCHRONOUS = mode
    app = create_app({"instance_dir": instance, "database_url": db_url,
                      "ratelimit_global": "1000000 per minute",
                      "ratelimit_session": "1000000 per minute",
                      "ratelimit_key_prefix": "b" + secrets.token_hex(4)})
    with state(app).engine.connect() as conn:
        got = conn.exec_driver_sql("PRAGMA synchronous").scalar()
    assert got == {"NORMAL": 1, "FULL": 2}[mode], (mode, got)
    return app


def file_one(app: Any, i: int) -> float:
    client = app.test_client()
    html = client.get("/lapor").get_data(as_text=True)
    token = CSRF.search(html)
    assert token, "no csrf token"
    data = report_fields(i) | {"csrf_token": token.group(1)}
    t0 = time.perf_counter()
    resp = client.post("/lapor", data=data, content_type="multipart/form-data")
    elapsed = time.perf_counter() - t0
    assert resp.status_code == 303, resp.status_code
    return elapsed


def session_saves(app: Any, n: int) -> list[float]:
    from whistle.web.sessions import make_store
    from whistle.web.state import state

    st = state(app)
    store = make_store(st.config, st.engine)
    times = []
    for _ in range(n):
        blob = secrets.token_bytes(600)
        now = time.time()
        t0 = time.perf_counter()
        store.save(secrets.token_bytes(32), blob, created=now, last_seen=now, expires=now + 900)
        times.append(time.perf_counter() - t0)
    return times


def rate(app: Any, threads: int, per: int) -> float:
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            for i in range(per):
                file_one(app, seed * 10_000 + i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(s,)) for s in range(threads)]
    t0 = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise errors[0]
    return threads * per / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=6, help="rounds per mode (alternating)")
    ap.add_argument("--reports", type=int, default=40, help="sequential filings per round")
    ap.add_argument("--saves", type=int, default=200, help="session saves per round")
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--per-thread", type=int, default=10)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="whistle-durability-"))
    instance = tmp / "instance"
    instance.mkdir(parents=True)
    db_url = f"sqlite:///{instance / 'whistle.db'}"
    prepare_instance(instance, db_url)
    filing: dict[str, list[float]] = {m: [] for m in MODES}
    saves: dict[str, list[float]] = {m: [] for m in MODES}
    rates: dict[str, list[float]] = {m: [] for m in MODES}
    for r in range(args.rounds):
        for mode in MODES if r % 2 == 0 else MODES[::-1]:
            app = make_app(instance, db_url, mode)
            file_one(app, 0)  # warm-up: first connection, templates
            filing[mode] += [file_one(app, i) for i in range(args.reports)]
            saves[mode] += session_saves(app, args.saves)
            rates[mode].append(rate(app, args.threads, args.per_thread))
            from whistle.web.state import state

            state(app).engine.dispose()
    med = {m: statistics.median(filing[m]) * 1000 for m in MODES}
    smed = {m: statistics.median(saves[m]) * 1000 for m in MODES}
    rmed = {m: statistics.median(rates[m]) for m in MODES}
    print(f"rounds {args.rounds} per mode, alternating; {args.reports} filings, {args.saves} "
          f"session saves and {args.threads}x{args.per_thread} concurrent filings per round")
    for m in MODES:
        print(f"{m:6s}: POST /lapor median {med[m]:.2f} ms (n={len(filing[m])}); "
              f"session save median {smed[m]:.3f} ms; {args.threads} threads "
              f"{rmed[m]:.1f} reports/s (median of {len(rates[m])})")
    print(f"FULL/NORMAL: filing {med['FULL'] / med['NORMAL']:.3f}, +{med['FULL'] - med['NORMAL']:.2f} ms; "
          f"session save {smed['FULL'] / smed['NORMAL']:.2f}, "
          f"+{smed['FULL'] - smed['NORMAL']:.3f} ms; concurrent rate "
          f"{rmed['FULL'] / rmed['NORMAL']:.3f}")


if __name__ == "__main__":
    main()
