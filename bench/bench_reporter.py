"""Reporter-side benchmark against the service run the production way.

Starts gunicorn with deploy/gunicorn.conf.py (2 workers, gthread) on a fresh instance with the
DEFAULT Argon2 costs, SQLite by default or PostgreSQL with --pg-url, and drives it over HTTP from
this separate process (and a pool of client processes for the sustained rate):

  * median / p95 time to file a report with identity and witnesses (POST /lapor, timed at the
    client over loopback, so it is server time plus a few tens of microseconds);
  * sustained filing rate with concurrent clients (target >= 30 reports/s);
  * median ticket log-in (target <= 50 ms) and median case page once logged in (<= 20 ms);
  * bytes of every reporter page (< 30 KB) and number of <script> tags (0);
  * peak RSS (VmHWM) of the gunicorn workers while a 1 GiB file is uploaded (must stay flat).

Rate limits are raised for the run (the bench is one client hammering from one address); all
other settings are the production defaults.

    .venv/bin/python bench/bench_reporter.py [--pg-url URL] [--reports 200] [--clients 8]
        [--upload-mib 1024]
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
GROUP = re.compile(r'<span class="group">([0-9A-Z]{4})</span>')


# -- a tiny HTTP client with one cookie jar (no third-party packages) ---------------------

class Client:
    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        h = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        h.update(extra or {})
        return h

    def _keep(self, resp: http.client.HTTPResponse) -> None:
        for value in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            val = rest.split(";", 1)[0]
            if val == "" or "Max-Age=0" in value or "expires=Thu, 01 Jan 1970" in value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = val

    def request(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes, float]:
        t0 = time.perf_counter()
        self.conn.request(method, path, body=body, headers=self._headers(headers))
        resp = self.conn.getresponse()
        data = resp.read()
        elapsed = time.perf_counter() - t0
        self._keep(resp)
        return resp.status, data, elapsed

    def get(self, path: str) -> tuple[int, bytes, float]:
        return self.request("GET", path)

    def post_form(self, path: str, fields: dict[str, str]) -> tuple[int, bytes, float]:
        from urllib.parse import urlencode

        return self.request("POST", path, urlencode(fields).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def post_multipart(self, path: str, fields: dict[str, str],
                       files: list[tuple[str, bytes]] = ()) -> tuple[int, bytes, float]:
        boundary = uuid.uuid4().hex
        parts = []
        for k, v in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
        for name, content in files:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                         f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
                         + content + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request("POST", path, b"".join(parts),
                            {"Content-Type": f"multipart/form-data; boundary={boundary}"})


def csrf(html: bytes) -> str:
    m = CSRF.search(html.decode())
    assert m, "no csrf token"
    return m.group(1)


def report_fields(i: int) -> dict[str, str]:
    return {
        "kind": "whistleblowing", "category": "abuse_of_authority", "who": f"Pejabat {i}",
        "who_position": "Kepala Seksi", "what": "Meminta uang pelicin untuk menerbitkan izin. " * 8,
        "when": "Maret 2026", "where": "Kantor Pelayanan", "how": "Tunai di ruangannya.",
        "anonymity": "confidential", "name": "Pelapor Bench", "nik": "3174012345678901",
        "address": "Jl. Melati 1, Jakarta", "phone": "0812 3456 7890", "email": "p@example.org",
        "position": "Staf", "w1_name": "Saksi Satu", "w1_contact": "0813 1111 2222",
        "w1_note": "melihat langsung", "w2_name": "Saksi Dua", "w2_contact": "0814 3333 4444",
    }


def file_one(client: Client, i: int) -> tuple[float, str | None]:
    """GET the form, POST a report (timed), read the ticket page. Returns (seconds, ticket)."""
    status, html, _ = client.get("/lapor")
    assert status == 200, status
    fields = report_fields(i) | {"csrf_token": csrf(html)}
    status, body, elapsed = client.post_multipart("/lapor", fields)
    assert status == 303, (status, body[:500])
    status, page, _ = client.get("/lapor/tiket")
    groups = GROUP.findall(page.decode())
    return elapsed, "-".join(groups) if len(groups) == 5 else None


def _rate_worker(args: tuple[int, int, int, str]) -> tuple[int, float]:
    """mode "flow": a fresh visitor per report (GET form, POST, GET ticket page: 3 requests).
    mode "post": one visitor posting reports back to back (the filing request alone)."""
    port, count, seed, mode = args
    done = 0
    t0 = time.perf_counter()
    if mode == "flow":
        for i in range(count):
            file_one(Client(port), seed * 100000 + i)
            done += 1
    else:
        client = Client(port)
        _, html, _ = client.get("/lapor")
        token = csrf(html)
        for i in range(count):
            status, body, _ = client.post_multipart("/lapor", report_fields(i) | {"csrf_token": token})
            assert status == 303, (status, body[:300])
            done += 1
    return done, time.perf_counter() - t0


# -- server set-up ----------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare_instance(instance: Path, db_url: str) -> None:
    from crypto import PrivateKey
    from whistle.config import Config, init_instance
    from whistle.db import make_engine, make_sessionmaker, transaction
    from whistle.models import Base, Team, Unit

    init_instance(Config(instance_dir=instance))
    engine = make_engine(db_url)
    Base.metadata.create_all(engine)
    with transaction(make_sessionmaker(engine)) as db:
        unit = Unit(code="PUSAT", name="Unit Pusat")
        db.add(unit)
        db.flush()
        for role in ("verifikator", "uki", "pyb"):
            db.add(Team(unit_id=unit.id, role=role,
                        public_key=PrivateKey.generate().public_key().to_bytes()))
    engine.dispose()


def start_gunicorn(instance: Path, db_url: str, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, WHISTLE_INSTANCE_DIR=str(instance), WHISTLE_DATABASE_URL=db_url,
               WHISTLE_MAX_UPLOAD_BYTES=str(2 * 1024**3), WHISTLE_MAX_FILE_BYTES=str(2 * 1024**3),
               WHISTLE_RATELIMIT_GLOBAL="1000000 per minute",
               WHISTLE_RATELIMIT_SESSION="1000000 per minute",
               WHISTLE_RATELIMIT_TICKET="1000000 per hour", PYTHONPATH=str(ROOT))
    cmd = [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "deploy/gunicorn.conf.py"),
           "-b", f"127.0.0.1:{port}", "whistle.app:create_app()"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=open(instance / "gunicorn.err", "wb"))
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start; see " + str(instance / "gunicorn.err"))


def workers_of(master: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                kids.append(int(entry))
    return kids


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes (the gunicorn workers), in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
    return total / tick


def vm(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])  # KiB
    return 0


def upload_big(port: int, mib: int) -> tuple[int, float]:
    """Stream a report with one file of `mib` MiB (never held whole in this process either)."""
    client = Client(port)
    _, html, _ = client.get("/lapor")
    boundary = uuid.uuid4().hex
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in (report_fields(0) | {"csrf_token": csrf(html)}).items())
    head += (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.bin"\r\n'
             f"Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    chunk = os.urandom(1024 * 1024)
    length = len(head) + mib * len(chunk) + len(tail)

    def body():  # type: ignore[no-untyped-def]
        yield head
        for _ in range(mib):
            yield chunk
        yield tail

    t0 = time.perf_counter()
    client.conn.putrequest("POST", "/lapor", skip_host=True)
    for k, v in client._headers({"Content-Type": f"multipart/form-data; boundary={boundary}",
                                 "Content-Length": str(length)}).items():
        client.conn.putheader(k, v)
    client.conn.endheaders()
    for part in body():
        client.conn.send(part)
    resp = client.conn.getresponse()
    resp.read()
    return resp.status, time.perf_counter() - t0


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg-url", default="")
    ap.add_argument("--reports", type=int, default=200, help="sequential filings timed")
    ap.add_argument("--rate-reports", type=int, default=600, help="filings for the sustained rate")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--logins", type=int, default=100)
    ap.add_argument("--pages", type=int, default=300)
    ap.add_argument("--upload-mib", type=int, default=1024)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="whistle-bench-"))
    instance = tmp / "instance"
    if args.pg_url:
        from sqlalchemy import text

        from whistle.db import make_engine

        schema = "bench_" + secrets.token_hex(4)
        admin = make_engine(args.pg_url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        db_url = admin.url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
        admin.dispose()
    else:
        db_url = f"sqlite:///{instance / 'whistle.db'}"
    instance.mkdir(parents=True)
    prepare_instance(instance, db_url)
    port = free_port()
    proc = start_gunicorn(instance, db_url, port)
    results: dict[str, Any] = {"backend": "postgresql" if args.pg_url else "sqlite"}
    try:
        # warm-up (imports, first connections, template compilation) in both workers
        for i in range(10):
            file_one(Client(port), i)

        times, tickets = [], []
        for i in range(args.reports):
            elapsed, ticket = file_one(Client(port), i)
            times.append(elapsed)
            tickets.append(ticket)
        results["file_median_ms"] = statistics.median(times) * 1000
        results["file_p95_ms"] = pct(times, 95) * 1000

        per = max(1, args.rate_reports // args.clients)
        workers = workers_of(proc.pid)
        with ProcessPoolExecutor(args.clients) as pool:
            for mode in ("post", "flow"):
                t0, cpu0 = time.perf_counter(), cpu_seconds(workers)
                done = sum(n for n, _ in pool.map(
                    _rate_worker, [(port, per, s + 1, mode) for s in range(args.clients)]))
                results[f"rate_{mode}_per_s"] = done / (time.perf_counter() - t0)
                # Server CPU per filing: unlike the rate, barely moved by other load on the box.
                results[f"cpu_{mode}_ms"] = (cpu_seconds(workers) - cpu0) / done * 1000
        results["rate_clients"] = args.clients
        results["rate_reports"] = done

        login_times, page_times = [], []
        sizes: dict[str, tuple[int, int]] = {}
        logged: Client | None = None
        for ticket in tickets[: args.logins]:
            c = Client(port)
            _, html, _ = c.get("/masuk")
            status, _, elapsed = c.post_form("/masuk", {"csrf_token": csrf(html), "ticket": ticket})
            assert status == 303, status
            login_times.append(elapsed)
            logged = c
        results["login_median_ms"] = statistics.median(login_times) * 1000
        assert logged is not None
        for _ in range(args.pages):
            status, body, elapsed = logged.get("/laporan")
            assert status == 200
            page_times.append(elapsed)
        results["case_page_median_ms"] = statistics.median(page_times) * 1000

        def size(name: str, status_body: tuple[int, bytes, float]) -> None:
            _, body, _ = status_body
            sizes[name] = (len(body), body.lower().count(b"<script"))

        c = Client(port)
        size("landing /", c.get("/"))
        size("new report /lapor", c.get("/lapor"))
        _, html, _ = c.get("/lapor")
        size("form with errors", c.post_multipart("/lapor", {"csrf_token": csrf(html), "what": "",
                                                             "email": "x", "nik": "1"}))
        _, html, _ = c.get("/lapor")
        c.post_multipart("/lapor", report_fields(1) | {"csrf_token": csrf(html)})
        page = c.get("/lapor/tiket")
        size("ticket /lapor/tiket", page)
        ticket = "-".join(GROUP.findall(page[1].decode()))
        size("receipt .txt", c.get("/lapor/tanda-terima.txt"))
        c.post_form("/lapor/tiket", {"csrf_token": csrf(page[1]), "typed": ticket})
        size("case /laporan", c.get("/laporan"))
        _, html, _ = c.get("/laporan")
        size("logged out", c.post_form("/keluar", {"csrf_token": csrf(html)}))
        size("ticket log-in /masuk", c.get("/masuk"))
        results["sizes"] = sizes

        # 1 GiB upload: VmHWM (peak RSS since start) of each worker before and after.
        workers = workers_of(proc.pid)
        before = {w: vm(w, "VmHWM") for w in workers}
        status, seconds = upload_big(port, args.upload_mib)
        after = {w: vm(w, "VmHWM") for w in workers}
        results["upload"] = {"status": status, "seconds": seconds, "mib": args.upload_mib,
                             "hwm_before_kib": before, "hwm_after_kib": after}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    report(results, args)


def report(r: dict[str, Any], args: argparse.Namespace) -> None:
    up = r["upload"]
    growth = max(up["hwm_after_kib"][w] - up["hwm_before_kib"][w] for w in up["hwm_after_kib"])
    print(f"backend: {r['backend']}")
    print(f"file report (identity + 2 witnesses): median {r['file_median_ms']:.1f} ms, "
          f"p95 {r['file_p95_ms']:.1f} ms  (n={args.reports})")
    print(f"sustained filing: {r['rate_post_per_s']:.1f} reports/s (POST /lapor back to back), "
          f"{r['rate_flow_per_s']:.1f} reports/s (whole visit: form, post, ticket page)  "
          f"({r['rate_reports']} reports each, {r['rate_clients']} client processes)  target >= 30")
    print(f"server CPU per filing (both workers, user+sys): {r['cpu_post_ms']:.1f} ms (POST alone), "
          f"{r['cpu_flow_ms']:.1f} ms (whole visit); load average now {os.getloadavg()[0]:.1f}")
    print(f"ticket log-in: median {r['login_median_ms']:.1f} ms  (n={args.logins})  target <= 50")
    print(f"case page: median {r['case_page_median_ms']:.1f} ms  (n={args.pages})  target <= 20")
    for name, (n, scripts) in r["sizes"].items():
        print(f"  {name:28s} {n:6d} bytes  <script>: {scripts}")
    print(f"upload {up['mib']} MiB: HTTP {up['status']} in {up['seconds']:.1f} s; worker VmHWM "
          f"before {up['hwm_before_kib']} KiB, after {up['hwm_after_kib']} KiB; "
          f"max growth {growth / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
