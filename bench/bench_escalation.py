"""Identity escalation: time from the last share released to the identity shown.

    .venv/bin/python bench/bench_escalation.py                 # SQLite in a temp instance
    .venv/bin/python bench/bench_escalation.py --url postgresql://whistle@127.0.0.1:5432/bench
    .venv/bin/python bench/bench_escalation.py -n 100

For each round a fresh request is made, approved and released by both custodians through the
real services (not timed); then the requester's opening is timed, two ways:

* ``service``: ``releases.open_identity`` in its own transaction (unseal the ephemeral key,
  unwrap two shares, combine, decrypt the identity, claim the opening, destroy the keys,
  audit entry, commit);
* ``page``: what the requester waits for in the browser: POST /officer/identity/<id>/open
  (the same work plus the encrypted session write) and the redirected GET that shows it.

Both are compared with one HPKE unwrap (ML-KEM-768 + X25519, the default suite) measured on
the same machine: the opening does three unwraps (ephemeral key, two shares), so a ratio of a
few times that says the rest (database, audit, session) costs little.
Argon2 runs at its real cost for the one officer log-in and the filing (not timed).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyotp  # noqa: E402

from crypto import PrivateKey  # noqa: E402
from tests.web.cases_world import build_world  # noqa: E402
from tests.web.officer_login import make_login_ready  # noqa: E402
from whistle.app import create_app  # noqa: E402
from whistle.config import Config, init_instance  # noqa: E402
from whistle.db import make_engine, transaction  # noqa: E402
from whistle.models import Base, Officer  # noqa: E402
from whistle.services.custody import escalation, releases  # noqa: E402
from whistle.services.reporter import reports  # noqa: E402
from whistle.web.state import state  # noqa: E402
import tests.web.cases_world as cases_world  # noqa: E402

REASON = "Keterangan pelapor diperlukan sebagai saksi dalam pemeriksaan lapangan."


def median_ms(xs: list[float]) -> float:
    return statistics.median(xs) * 1000


def unwrap_cost(rounds: int = 2000) -> float:
    key = PrivateKey.generate()
    blob = key.public_key().wrap(b"s" * 32, context=b"bench")
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        key.unwrap(blob, context=b"bench")
        times.append(time.perf_counter() - t)
    return median_ms(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="", help="database URL (default: SQLite in a temp dir)")
    ap.add_argument("-n", type=int, default=50, help="openings per method")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="whistle-bench-esc-"))
    instance = tmp / "instance"
    init_instance(Config(instance_dir=instance))
    url = args.url or f"sqlite:///{tmp / 'whistle.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    app = create_app({"instance_dir": instance, "database_url": url, "testing": True,
                      "ratelimit_storage_uri": "memory://"})
    f = state(app).db
    cases_world.PEPPER = state(app).secrets.pepper
    world = build_world(f)
    case_id, _ = world.file(anonymity=reports.CONFIDENTIAL,
                            identity={"name": "Rahmat Hidayat", "nik": "3201010101010001"})

    def step(who: str, fn, *a):  # type: ignore[no-untyped-def]
        with transaction(f) as db:
            return fn(db, db.get(Officer, world.officer_id(who)), world.keys(who), *a)

    def ready_request() -> str:
        req = step("ver", escalation.request_identity, case_id, REASON, "witness",
                   "Pasal 12 Peraturan Menteri PANRB 2019")
        step("pyb", escalation.decide, req.id, True, False, "Diperlukan untuk pemeriksaan.")
        step("uki", releases.release_share, req.id)
        step("pyb", releases.release_share, req.id)  # the last share released: clock starts
        return str(req.id)

    service: list[float] = []
    service_cpu: list[float] = []
    for _ in range(args.n):
        rid = ready_request()
        t, c = time.perf_counter(), time.process_time()
        with transaction(f) as db:
            shown = releases.open_identity(db, db.get(Officer, world.officer_id("ver")),
                                           world.officers["ver"].private_key, world.keys("ver"), rid)
        service.append(time.perf_counter() - t)
        service_cpu.append(time.process_time() - c)
        assert shown.identity["name"] == "Rahmat Hidayat"

    with transaction(f) as db:
        secret = make_login_ready(db, db.get(Officer, world.officer_id("ver")), app)
    client = app.test_client()
    html = client.get("/officer/login").get_data(as_text=True)
    token = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    resp = client.post("/officer/login", data={
        "csrf_token": token, "username": "ver", "passphrase": world.officers["ver"].passphrase,
        "code": pyotp.TOTP(secret).now()})
    assert resp.status_code == 303, "log-in failed"
    page: list[float] = []
    page_cpu: list[float] = []
    for _ in range(args.n):
        rid = ready_request()
        detail = client.get(f"/officer/identity/{rid}").get_data(as_text=True)
        token = detail.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        t, c = time.perf_counter(), time.process_time()
        shown_page = client.post(f"/officer/identity/{rid}/open", data={"csrf_token": token},
                                 follow_redirects=True)
        page.append(time.perf_counter() - t)
        page_cpu.append(time.process_time() - c)
        assert "Rahmat Hidayat" in shown_page.get_data(as_text=True)

    unwrap = unwrap_cost()
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"backend {backend}, {args.n} openings per method")
    print(f"one HPKE unwrap (ML-KEM-768+X25519): median {unwrap:.3f} ms")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (cores: {os.cpu_count()})")
    for name, xs, cpu in (("service open_identity", service, service_cpu),
                          ("page POST open + GET", page, page_cpu)):
        m, mc = median_ms(xs), median_ms(cpu)
        print(f"{name:24s} wall median {m:7.2f} ms (p90 "
              f"{statistics.quantiles(xs, n=10)[-1] * 1000:7.2f}) = {m / unwrap:6.1f} x one unwrap;"
              f"  CPU median {mc:6.2f} ms = {mc / unwrap:6.1f} x")


if __name__ == "__main__":
    main()
