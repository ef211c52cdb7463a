"""Crash safety (issue 10): an app process SIGKILLed at random moments while 8 clients file
reports with attachments, at least 20 kills, on PostgreSQL (two hosts, one of them killed) and
on SQLite (one host, killed). Two in three kills take one gunicorn worker (its master starts
another), the others the whole host (master and workers), which is then started again.

Afterwards, checked against the data and not only the pages:
* every report whose ticket page was delivered opens with its ticket, on the site, and its
  evidence decrypts to exactly what was sent; every filing answered 303 got its ticket page
  (reloaded, if the first one died on the way);
* no half-written case: every case has its fields, its ticket and verifikator key wraps, its
  acknowledgement and "filed" event, and identity blobs with both custodian shares when it
  holds an identity;
* no orphan file: every attachment row has its file in the store, every stored file has a row,
  and no upload temp is left in the store;
* no plaintext of an upload in any work folder once the killed host is up again, and none of
  the uploads' or identities' plaintext anywhere on disk;
* no 5xx, ever.
"""
from __future__ import annotations

import http.client
import io
import os
import random
import re
import secrets
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import func, select

import crypto
from tests.production.browserless import Browser
from tests.production.conftest import (
    Deployment,
    Host,
    Service,
    make_deployment,
    seed_office,
    start_gunicorn,
)

KILLS = 20
CLIENTS = 8
REGISTER = re.compile(r"WBS-\d{4}-[0-9A-Z]{6}")
FAST = {"WHISTLE_RATELIMIT_GLOBAL": "1000000 per minute",
        "WHISTLE_RATELIMIT_SESSION": "1000000 per minute"}  # 8 clients share one address


def png_with_metadata(marker: str) -> bytes:
    """A small PNG carrying ``marker`` in a text chunk: cleaning (in the sandboxed child, the
    longest time an upload's plaintext exists) must strip it."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", marker)
    out = io.BytesIO()
    Image.new("RGB", (24, 24), (200, 30, 30)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


@dataclass
class Filed:
    ticket: str
    register_no: str
    texts: dict[str, bytes]  # evidence .txt name -> bytes sent (kept byte for byte)
    names: list[str]  # every file name sent


@dataclass
class Traffic:
    ports: list[int]
    stop: threading.Event = field(default_factory=threading.Event)
    delivered: list[Filed] = field(default_factory=list)
    five_xx: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    lost_tickets: list[str] = field(default_factory=list)  # 303 answered, ticket never shown
    markers: list[str] = field(default_factory=list)  # plaintext that must never reach a disk
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, bucket: list[str], what: str) -> None:
        with self.lock:
            bucket.append(what)

    def client(self, seed: int) -> None:
        rnd = random.Random(seed)
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                self.visit(rnd, f"{seed}-{n}")
            except (OSError, http.client.HTTPException):
                time.sleep(0.05)  # host down or connection cut: outcome unknown, start over

    def visit(self, rnd: random.Random, tag: str) -> None:
        b = Browser(rnd.choice(self.ports))
        form = b.get("/lapor")
        if form.status >= 500:
            return self.note(self.five_xx, f"GET /lapor {form.status}")
        marker = f"bukti-{tag}-{secrets.token_hex(6)}"
        who = f"Saksi{secrets.token_hex(4)}"
        with self.lock:
            self.markers += [marker, who]
        texts = {f"catatan-{tag}.txt": f"Catatan rahasia {marker}\n".encode() * 20}
        files = [(name, content, "text/plain") for name, content in texts.items()]
        if rnd.random() < 0.5:
            files.append((f"foto-{tag}.png", png_with_metadata(marker + "-png"), "image/png"))
        fields = {"csrf_token": form.csrf(), "kind": "whistleblowing",
                  "category": "abuse_of_authority", "who": "Kepala Bidang", "what":
                  f"Pungutan liar {marker} saat pengurusan izin.", "when": "Maret 2026",
                  "where": "Kantor Pelayanan", "how": "Tunai."}
        if rnd.random() < 0.5:
            fields |= {"anonymity": "confidential", "name": who, "phone": "0812 1111 2222",
                       "w1_name": who + " Saksi", "w1_contact": "0813 3333 4444"}
        else:
            fields["anonymity"] = "anonymous"
        filed = b.post_multipart("/lapor", fields, files)
        if filed.status >= 500:
            return self.note(self.five_xx, f"POST /lapor {filed.status}")
        if filed.status != 303:
            return self.note(self.unexpected, f"POST /lapor {filed.status}: {filed.text[:300]}")
        # Acknowledged. The ticket page must arrive, if need be on a reload (on any host).
        for _ in range(600):  # bounded: ~60 s of a host being down
            b.port = rnd.choice(self.ports)
            try:
                page = b.get("/lapor/tiket")
            except (OSError, http.client.HTTPException):  # the page died on the way: reload
                time.sleep(0.1)
                continue
            if page.status >= 500:
                return self.note(self.five_xx, f"GET /lapor/tiket {page.status}")
            ticket, register = page.ticket(), REGISTER.search(page.text)
            if page.status != 200 or ticket is None or register is None:
                return self.note(self.lost_tickets, f"{tag}: {page.status}")
            with self.lock:
                self.delivered.append(Filed(ticket, register.group(0), texts,
                                            [f[0] for f in files]))
            return None
        return self.note(self.lost_tickets, f"{tag}: no host answered")


def kill_a_worker(host: Host) -> bool:
    assert host.service is not None
    workers = host.service.children()
    if not workers:
        return False
    os.kill(random.choice(workers), signal.SIGKILL)
    return True


def run_under_kills(dep: Deployment, victim: Host, services: list[Service], tmp: Path,
                    traffic: Traffic) -> dict[str, int]:
    threads = [threading.Thread(target=traffic.client, args=(i,), daemon=True)
               for i in range(CLIENTS)]
    counts = {"worker": 0, "host": 0}
    for t in threads:
        t.start()
    try:
        for k in range(KILLS):
            time.sleep(random.uniform(0.3, 1.2))
            # Two in three take a worker (cheap to replace), one in three the whole host.
            if k % 3 != 2 and k != KILLS - 1 and kill_a_worker(victim):
                counts["worker"] += 1  # its master reaps it, tidies up, forks another
                continue
            assert victim.service is not None
            victim.service.kill_hard()
            counts["host"] += 1
            start_gunicorn(victim, services, tmp)  # start-up recovery runs before it serves
        time.sleep(1.0)  # traffic through the restarted host
    finally:
        traffic.stop.set()
        for t in threads:
            t.join(90)
    assert not any(t.is_alive() for t in threads), "a client did not stop"
    return counts


def check_cases(dep: Deployment) -> int:
    """No half-written case, in the rows themselves. Returns the number of cases."""
    from whistle.db import make_engine, make_sessionmaker
    from whistle.models import (
        Case,
        CaseField,
        CaseKeyWrap,
        Event,
        IdentityBlob,
        IdentityShare,
        Message,
    )
    from whistle.services.reporter.reports import REPORT_FIELDS

    engine = make_engine(dep.db_url)
    try:
        with make_sessionmaker(engine)() as db:
            def per_case(q: object) -> dict[str, int]:
                return dict(db.execute(q).all())  # type: ignore[call-overload]

            cases = db.execute(select(Case.id, Case.has_identity, Case.has_witnesses)).all()
            fields = per_case(select(CaseField.case_id, func.count()).group_by(CaseField.case_id))
            ticket_wraps = per_case(select(CaseKeyWrap.case_id, func.count())
                                    .where(CaseKeyWrap.team_id.is_(None)).group_by(CaseKeyWrap.case_id))
            team_wraps = per_case(select(CaseKeyWrap.case_id, func.count())
                                  .where(CaseKeyWrap.team_id == dep.teams["verifikator"].team.id)
                                  .group_by(CaseKeyWrap.case_id))
            messages = per_case(select(Message.case_id, func.count()).group_by(Message.case_id))
            filed = per_case(select(Event.case_id, func.count()).where(Event.action == "filed")
                             .group_by(Event.case_id))
            blobs = per_case(select(IdentityBlob.case_id, func.count()).group_by(IdentityBlob.case_id))
            shares = per_case(select(IdentityShare.case_id, func.count())
                              .group_by(IdentityShare.case_id))
            half = []
            for case_id, has_identity, has_witnesses in cases:
                sealed = int(bool(has_identity)) + int(bool(has_witnesses))
                if (fields.get(case_id) != len(REPORT_FIELDS) + 1  # + the title
                        or ticket_wraps.get(case_id) != 1 or team_wraps.get(case_id) != 1
                        or messages.get(case_id, 0) < 1 or filed.get(case_id) != 1
                        or blobs.get(case_id, 0) != sealed
                        or shares.get(case_id, 0) != (2 if sealed else 0)):
                    half.append(case_id)
            assert half == [], f"half-written cases: {half}"
            return len(cases)
    finally:
        engine.dispose()


def check_store(dep: Deployment) -> dict[str, tuple[str, str, bytes, bytes]]:
    """Every row has its file and every file its row; no upload temp left. Returns, per
    storage name, (attachment id, case id, key blob, meta blob) for the decryption checks."""
    from whistle.attachments.storage import AttachmentStore
    from whistle.db import make_engine, make_sessionmaker
    from whistle.models import Attachment

    store = AttachmentStore(dep.storage)
    engine = make_engine(dep.db_url)
    try:
        with make_sessionmaker(engine)() as db:
            rows = {a.storage_name: a for a in db.scalars(select(Attachment))}
            info = {n: (a.id, a.case_id, a.key_blob, a.meta_blob) for n, a in rows.items()}
    finally:
        engine.dispose()
    on_disk = {p.name: p for p in dep.storage.rglob("*")
               if p.is_file() and p.parent != store.tmp_dir}
    missing = [n for n in rows if n not in on_disk]
    orphans = [n for n in on_disk if n not in rows]
    assert missing == [], f"rows whose file is missing: {missing}"
    assert orphans == [], f"files no row refers to: {orphans}"
    wrong_size = [n for n, a in rows.items() if on_disk[n].stat().st_size != a.size]
    assert wrong_size == [], wrong_size
    temps = sorted(p.name for p in store.tmp_dir.iterdir())
    assert temps == [], f"upload temps left in the store: {temps}"
    return info


def check_evidence(dep: Deployment, delivered: list[Filed],
                   info: dict[str, tuple[str, str, bytes, bytes]]) -> None:
    """Each delivered report's .txt evidence decrypts (verifikator key) to the bytes sent."""
    from whistle.attachments.storage import AttachmentStore
    from whistle.models import Case
    from whistle.db import make_engine, make_sessionmaker
    from whistle.services.custody.casekeys import CaseCipher, case_key_for_teams

    team = dep.teams["verifikator"]
    store = AttachmentStore(dep.storage)
    engine = make_engine(dep.db_url)
    by_case: dict[str, list[tuple[str, str, bytes, bytes]]] = {}
    for name, (att_id, case_id, key_blob, meta_blob) in info.items():
        by_case.setdefault(case_id, []).append((name, att_id, key_blob, meta_blob))
    try:
        with make_sessionmaker(engine)() as db:
            ids = dict(db.execute(select(Case.register_no, Case.id)).all())
            for f in delivered:
                case_id = ids[f.register_no]
                key = case_key_for_teams(db, case_id, {team.team.id: team.private_key})
                assert key is not None
                cipher = CaseCipher(case_id, key)
                got: dict[str, bytes] = {}
                names = []
                for storage_name, att_id, key_blob, meta_blob in by_case.get(case_id, []):
                    meta = cipher.open_json("attachment", att_id, meta_blob)
                    names.append(meta["name"])
                    if meta["name"].endswith(".txt"):
                        file_key = cipher.open("filekey", att_id, key_blob)
                        with store.open_read(storage_name) as src:
                            got[meta["name"]] = b"".join(crypto.iter_decrypt(file_key, src, aad=b""))
                assert sorted(names) == sorted(f.names), (f.register_no, names, f.names)
                assert got == f.texts, f.register_no
    finally:
        engine.dispose()


def check_tickets_open(ports: list[int], delivered: list[Filed]) -> None:
    """Through the site, as the reporter would: the ticket logs in and shows the case."""
    def open_one(i_f: tuple[int, Filed]) -> str | None:
        i, f = i_f
        b = Browser(ports[i % len(ports)])
        token = b.get("/masuk").csrf()
        r = b.post("/masuk", {"csrf_token": token, "ticket": f.ticket})
        if r.status != 303:
            return f"{f.register_no}: log-in {r.status}"
        page = b.get("/laporan")
        if page.status != 200 or f.register_no not in page.text:
            return f"{f.register_no}: case page {page.status}"
        if any(name not in page.text for name in f.names):
            return f"{f.register_no}: evidence missing from the case page"
        return None

    with ThreadPoolExecutor(4) as pool:
        problems = [p for p in pool.map(open_one, enumerate(delivered)) if p]
    assert problems == [], problems


def check_no_plaintext(dep: Deployment, markers: list[str]) -> None:
    # Idle hosts: the work folders hold no file at all (only empty, locked workspaces).
    for host in dep.hosts:
        left = sorted(str(p.relative_to(host.work)) for p in host.work.rglob("*") if not p.is_dir())
        assert left == [], f"files left in {host.name}'s work folder: {left}"
    needles = [m.encode() for m in markers]
    roots = [dep.storage] + [h.instance.parent for h in dep.hosts]
    for root in roots:
        for p in root.rglob("*"):
            if not p.is_file() or p.name.endswith((".db", ".db-wal", ".db-shm")):
                continue  # SQLite files: ciphertext and metadata, scanned below
            data = p.read_bytes()
            hits = [n for n in needles if n in data]
            assert hits == [], f"plaintext {hits[:3]} in {p}"
    for host in dep.hosts:
        for p in host.instance.glob("whistle.db*"):
            data = p.read_bytes()
            assert not [n for n in needles if n in data], f"plaintext in {p}"


def crash_run(dep: Deployment, services: list[Service], tmp: Path) -> None:
    seed_office(dep)
    for host in dep.hosts:
        start_gunicorn(host, services, tmp)
    traffic = Traffic([h.port for h in dep.hosts])
    victim = dep.hosts[0]
    started = time.monotonic()
    counts = run_under_kills(dep, victim, services, tmp, traffic)
    took = time.monotonic() - started
    try:
        check_after(dep, traffic, counts)
    except AssertionError as exc:  # keep what the servers said: tmp folders do not last
        logs = {s.log for s in services if s.name.startswith("gunicorn")}
        tails = "\n".join(f"--- {p.name}\n" + "\n".join(p.read_text(errors="replace")
                                                          .splitlines()[-30:]) for p in logs)
        raise AssertionError(f"{exc}\n{tails}") from None
    info = check_store(dep)
    logs = {s.log for s in services if s.name.startswith("gunicorn")}
    recovered = sum(len(re.findall(r"crash recovery: plaintext removed [1-9]",
                                   p.read_text(errors="replace"))) for p in logs)
    print(f"\n{dep.db_url.split(':')[0]}: {counts['worker']} workers and {counts['host']} hosts "
          f"killed in {took:.0f} s; {len(traffic.delivered)} tickets delivered, "
          f"{len(info)} files; {recovered} recoveries removed a killed upload's plaintext")


def check_after(dep: Deployment, traffic: Traffic, counts: dict[str, int]) -> None:
    assert traffic.five_xx == [], traffic.five_xx
    assert traffic.unexpected == [], traffic.unexpected
    assert traffic.lost_tickets == [], traffic.lost_tickets
    assert len(traffic.delivered) >= KILLS, "too little traffic to mean anything"
    assert counts["worker"] + counts["host"] >= KILLS
    check_cases(dep)
    info = check_store(dep)
    check_no_plaintext(dep, traffic.markers)
    check_evidence(dep, traffic.delivered, info)
    check_tickets_open([h.port for h in dep.hosts], traffic.delivered)


@pytest.mark.time_limit(420)
def test_crash_safety_on_postgresql_with_two_hosts(tmp_path: Path, services: list[Service],
                                                   pg_url: str, redis_server_url: str) -> None:
    dep = make_deployment(tmp_path, "pg", 2, pg_url, redis_server_url, FAST)
    crash_run(dep, services, tmp_path)


@pytest.mark.time_limit(420)
def test_crash_safety_on_sqlite(tmp_path: Path, services: list[Service]) -> None:
    url = f"sqlite:///{tmp_path / 'host-A' / 'instance' / 'whistle.db'}"
    dep = make_deployment(tmp_path, "sqlite", 1, url, "", FAST)
    crash_run(dep, services, tmp_path)
