"""Benchmark: ``whistle audit verify`` over 1,000,000 audit entries on SQLite (target <= 10 s).

Builds a fresh instance (its own audit keys) and an SQLite database, fills ``audit_log`` with
N entries in one bulk insert that computes the real keyed chain (the same canonical encoding
and HMAC as ``audit.append``), then times

* ``audit.verify`` in-process: the median of ``--reps`` walks, and entries per second;
* ``whistle audit verify`` as a subprocess, once: what an operator waits for (interpreter
  start and imports included);
* one ``audit.append`` in its own transaction on the full log, and the MAC alone against the
  plain SHA-256 link it replaced (what the key added to every audited action).

Usage (repo root): .venv/bin/python bench/bench_audit.py [--entries 1000000] [--reps 5]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from whistle.config import Config, init_instance, load_secrets  # noqa: E402
from whistle.db import make_engine, make_sessionmaker, transaction  # noqa: E402
from whistle.models import Base  # noqa: E402
from whistle.services.custody import audit  # noqa: E402

ACTIONS = ("case.view", "case.message", "case.start_verification", "login.ok", "case.file",
           "team.member_wrap", "identity.request")


def build(db_path: Path, keys: audit.AuditKeys, n: int) -> float:
    """Fill audit_log with n chained entries (ids 1..n); returns seconds."""
    started = time.perf_counter()
    mac = audit.chain_mac(keys.chain_key)
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")

    def rows():  # type: ignore[no-untyped-def]
        prev = audit.GENESIS
        for i in range(1, n + 1):
            at = audit.at_text(t0 + timedelta(seconds=i * 7))
            actor = f"officer:{i % 97 + 1}" if i % 5 else "reporter"
            action = ACTIONS[i % len(ACTIONS)]
            obj = f"case:{hashlib.md5(str(i // 9).encode()).hexdigest()}"
            detail = f"to=verification request={i}" if i % 4 == 0 else None
            digest = mac(audit.entry_message(prev, i, at, actor, action, obj, detail))
            yield i, at, actor, action, obj, detail, prev, digest
            prev = digest

    with con:
        con.executemany("INSERT INTO audit_log (id, at, actor, action, object, detail, prev_hash, "
                        "hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows())
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    instance = Path(tmp.name) / "instance"
    config = Config(instance_dir=instance)
    init_instance(config)
    keys = audit.AuditKeys.from_secrets(load_secrets(config))
    db_path = instance / "whistle.db"
    engine = make_engine(f"sqlite:///{db_path}")
    Base.metadata.create_all(engine)
    build_s = build(db_path, keys, args.entries)
    factory = audit.bind(make_sessionmaker(engine), keys)

    walks, cpu = [], []
    for _ in range(args.reps):
        t, c = time.perf_counter(), time.process_time()
        with transaction(factory) as db:
            report = audit.verify(db)
        walks.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        assert report.ok and report.entries == args.entries, report
    median = statistics.median(walks)

    env = dict(os.environ, WHISTLE_INSTANCE_DIR=str(instance), PYTHONPATH=str(ROOT))
    t = time.perf_counter()
    cli = subprocess.run([str(ROOT / ".venv/bin/whistle"), "audit", "verify"], env=env,
                         capture_output=True, text=True)
    cli_s = time.perf_counter() - t
    assert cli.returncode == 0, cli.stderr

    appends = []
    for i in range(51):
        t = time.perf_counter()
        with transaction(factory) as db:
            audit.append(db, "officer:1", "case.view", f"case:{i:032x}")
        appends.append(time.perf_counter() - t)

    msg = audit.entry_message(os.urandom(32), 123456, "2026-03-30 10:00:00.000000", "officer:12",
                              "case.view", "case:" + "ab" * 16, None)
    n = 200_000
    t = time.perf_counter()
    for _ in range(n):
        audit.entry_mac(keys.chain_key, msg)
    hmac_us = (time.perf_counter() - t) / n * 1e6
    t = time.perf_counter()
    for _ in range(n):
        hashlib.sha256(msg).digest()
    sha_us = (time.perf_counter() - t) / n * 1e6
    engine.dispose()

    print(f"entries: {args.entries}; build (bulk insert with the real chain): {build_s:.1f} s; "
          f"db {db_path.stat().st_size / 2**20:.0f} MiB; load average {os.getloadavg()[0]:.2f}")
    print(f"| audit.verify, median of {args.reps} | {median:.2f} s "
          f"({args.entries / median:,.0f} entries/s; CPU {statistics.median(cpu):.2f} s; "
          f"runs {', '.join(f'{w:.2f}' for w in walks)}) |")
    print(f"| `whistle audit verify` (subprocess, once) | {cli_s:.2f} s |")
    print(f"| audit.append in its own transaction, median of 51 | "
          f"{statistics.median(appends) * 1000:.2f} ms |")
    print(f"| entry MAC (HMAC-SHA256) vs the old SHA-256 link | {hmac_us:.2f} µs vs {sha_us:.2f} µs |")


if __name__ == "__main__":
    main()
