"""Flood benchmark: ticket log-ins from one address (as every Tor client is) at the rate the
global limit allows, while a genuine reporter files a report.

Runs the service the production way: gunicorn with deploy/gunicorn.conf.py (2 workers), Redis
for the limits (a throw-away redis-server is started), SQLite or PostgreSQL (--pg-url), and
the DEFAULT rate limits and Argon2 costs unless overridden on the command line. Flooder
processes post well-formed random tickets to /masuk (each one costs the server an Argon2
derivation, the most expensive thing an anonymous client can ask for), renewing their session
before the per-session limit would stop them, paced to exactly the global limit's rate. After
a warm-up that fills the limit's one-minute window, a genuine reporter files reports one after
another: GET /lapor, POST /lapor, GET the ticket page, pressing "reload" after --retry-wait
seconds whenever a page says "too many requests" (429) or "busy" (503).

Reported: the filing time without a flood, and under the flood (median, max, how many
reloads), and what the flood got: responses by status and the server CPU it burnt.

    .venv/bin/python bench/bench_flood.py [--pg-url URL] [--filings 5] [--warmup 65]
        [--flood-rate PER_S] [--flooders 4] [--retry-wait 2] [--global-limit "600 per minute"]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_reporter import (  # noqa: E402  (bench scripts share their tiny HTTP client)
    Client,
    cpu_seconds,
    csrf,
    free_port,
    prepare_instance,
    report_fields,
    workers_of,
)

BUSY = (429, 503)


def start_redis(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    exe = shutil.which("redis-server")
    if exe is None:
        raise SystemExit("redis-server is needed (apt install redis-server)")
    port = free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc, f"redis://127.0.0.1:{port}/0"


def start_gunicorn(instance: Path, db_url: str, port: int, redis_url: str,
                   limits: dict[str, str]) -> subprocess.Popen[bytes]:
    env = dict(os.environ, WHISTLE_INSTANCE_DIR=str(instance), WHISTLE_DATABASE_URL=db_url,
               WHISTLE_RATELIMIT_STORAGE_URI=redis_url, PYTHONPATH=str(ROOT), **limits)
    cmd = [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "deploy/gunicorn.conf.py"),
           "-b", f"127.0.0.1:{port}", "whistle.app:create_app()"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=open(instance / "gunicorn.err", "wb"))
    for _ in range(300):
        try:
            status, _, _ = Client(port).get("/healthz")
            if status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not start; see " + str(instance / "gunicorn.err"))


# -- the flood --------------------------------------------------------------------------------

def flooder(port: int, rate: float, stop_at: float, stop: Any, out: Any) -> None:
    """Post random well-formed tickets at ``rate`` per second until ``stop`` (or stop_at)."""
    from crypto import new_ticket

    counts: dict[int, int] = {}
    client, token, used = None, "", 0
    next_at = time.monotonic()
    while time.monotonic() < stop_at and not stop.is_set():
        if client is None or used >= 100:  # a new session before the per-session limit bites
            client = Client(port)
            status, html, _ = client.get("/masuk")
            counts[status] = counts.get(status, 0) + 1
            token = csrf(html) if status == 200 else ""
            used = 0
            if not token:
                client = None
        else:
            status, _, _ = client.post_form("/masuk", {"csrf_token": token,
                                                       "ticket": new_ticket()})
            counts[status] = counts.get(status, 0) + 1
            used += 1
        next_at += 1.0 / rate
        time.sleep(max(0.0, next_at - time.monotonic()))
    out.put(counts)


# -- the genuine reporter -------------------------------------------------------------------

def patient(client: Client, fn: Any, retry_wait: float) -> tuple[int, bytes, int]:
    """Call ``fn`` until the page is not 429/503, waiting like a person pressing reload."""
    reloads = 0
    while True:
        status, body, _ = fn(client)
        if status not in BUSY:
            return status, body, reloads
        reloads += 1
        time.sleep(retry_wait)


def genuine_filing(port: int, i: int, retry_wait: float) -> tuple[float, int]:
    t0 = time.perf_counter()
    client = Client(port)
    status, html, r1 = patient(client, lambda c: c.get("/lapor"), retry_wait)
    assert status == 200, status
    fields = report_fields(i) | {"csrf_token": csrf(html)}
    status, body, r2 = patient(client, lambda c: c.post_multipart("/lapor", fields), retry_wait)
    assert status == 303, (status, body[:300])
    status, page, r3 = patient(client, lambda c: c.get("/lapor/tiket"), retry_wait)
    assert status == 200 and b'class="group"' in page, status
    return time.perf_counter() - t0, r1 + r2 + r3


def main() -> None:
    from limits import parse

    from whistle.config import Config

    ap = argparse.ArgumentParser()
    ap.add_argument("--pg-url", default="")
    ap.add_argument("--filings", type=int, default=5)
    ap.add_argument("--warmup", type=float, default=65.0, help="seconds of flood before filing")
    ap.add_argument("--flooders", type=int, default=4)
    ap.add_argument("--flood-rate", type=float, default=0.0,
                    help="log-ins per second (default: what the global limit allows)")
    ap.add_argument("--retry-wait", type=float, default=2.0)
    ap.add_argument("--global-limit", default=Config.ratelimit_global)
    ap.add_argument("--login-limit", default="", help="WHISTLE_RATELIMIT_LOGIN (if supported)")
    args = ap.parse_args()

    limit = parse(args.global_limit)
    rate = args.flood_rate or limit.amount / limit.get_expiry()
    tmp = Path(tempfile.mkdtemp(prefix="whistle-flood-"))
    instance = tmp / "instance"
    instance.mkdir(parents=True)
    db_url = f"sqlite:///{instance / 'whistle.db'}"
    if args.pg_url:
        db_url = args.pg_url
    prepare_instance(instance, db_url)
    redis, redis_url = start_redis(tmp)
    port = free_port()
    limits = {"WHISTLE_RATELIMIT_GLOBAL": args.global_limit}
    if args.login_limit:
        limits["WHISTLE_RATELIMIT_LOGIN"] = args.login_limit
    proc = start_gunicorn(instance, db_url, port, redis_url, limits)
    results: dict[str, Any] = {"backend": "postgresql" if args.pg_url else "sqlite",
                               "global_limit": args.global_limit, "flood_per_s": rate,
                               "login_limit": args.login_limit or "(default)"}
    try:
        for i in range(3):  # warm-up: imports, templates, connections in both workers
            genuine_filing(port, i, args.retry_wait)
        quiet = [genuine_filing(port, 100 + i, args.retry_wait)[0] for i in range(args.filings)]
        results["quiet_filing_median_s"] = statistics.median(quiet)
        # Let the quiet filings' hits leave the one-minute window before the flood starts.
        time.sleep(61)

        workers = workers_of(proc.pid)
        cpu0 = cpu_seconds(workers)
        duration = args.warmup + args.filings * 120 + 60
        stop_at = time.monotonic() + duration
        queue: Any = mp.Queue()
        stop = mp.Event()
        floods = [mp.Process(target=flooder,
                             args=(port, rate / args.flooders, stop_at, stop, queue))
                  for _ in range(args.flooders)]
        t_flood = time.perf_counter()
        for p in floods:
            p.start()
        time.sleep(args.warmup)
        times, reloads = [], []
        for i in range(args.filings):
            seconds, tries = genuine_filing(port, 200 + i, args.retry_wait)
            times.append(seconds)
            reloads.append(tries)
        elapsed = time.perf_counter() - t_flood
        cpu = cpu_seconds(workers) - cpu0
        stop.set()
        counts: dict[int, int] = {}
        for _ in floods:
            for status, n in queue.get(timeout=120).items():
                counts[status] = counts.get(status, 0) + n
        for p in floods:
            p.join()
        results.update({
            "flood_filing_median_s": statistics.median(times),
            "flood_filing_max_s": max(times),
            "flood_filing_reloads": reloads,
            "flood_worker_cpu_per_s": cpu / elapsed,
        })
        if counts:
            results["flood_statuses"] = counts
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        redis.terminate()
        redis.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(results, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
