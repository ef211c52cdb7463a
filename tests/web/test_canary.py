"""Canary: unique markers typed by a reporter must never reach a disk in any recognisable form.

Files reports (identity, witnesses, body, file content, file NAME) and a reply with a file
through the real HTTP routes, then scans the database files and write-ahead log (SQLite: the
file and its -wal, read before any checkpoint; PostgreSQL: heap files, pg_wal and the server
log after a CHECKPOINT), the attachment store, the work/temp folder and the log folder for every marker as
raw UTF-8, UTF-16 (LE/BE), lowercase, uppercase, hex and base64. The ticket must appear nowhere.
"""
from __future__ import annotations

import base64
import io
import logging
import os
import secrets
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from whistle.models import Case

from tests.web.reporter_helpers import confirm, csrf, file_report, good_form, login, make_org
from whistle.web.state import state


def _forms(marker: str) -> list[bytes]:
    raw = marker.encode()
    forms = {raw, raw.lower(), raw.upper(), marker.encode("utf-16-le"), marker.encode("utf-16-be"),
             raw.hex().encode(), raw.hex().upper().encode()}
    # base64 of the marker at each of the 3 alignments it can take inside a longer text
    for pad in range(3):
        enc = base64.b64encode(b"\x00" * pad + raw)[4 if pad else 0:][:-4]
        if len(enc) >= 12:
            forms.add(enc)
    return sorted(forms)


def _scan(paths: list[Path], markers: dict[str, str]) -> list[str]:
    hits = []
    for path in paths:
        data = path.read_bytes()
        for label, marker in markers.items():
            for form in _forms(marker):
                if form in data:
                    hits.append(f"{label} in {path.name} as {form[:20]!r}")
    return hits


@pytest.fixture
def file_logging(app):
    """Route every log record to a file in the instance's log folder while the test runs."""
    from whistle.web.logging import ScrubFilter

    log_dir = state(app).config.logs_dir
    log_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_dir / "whistle.log")
    handler.addFilter(ScrubFilter())
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield log_dir
    root.removeHandler(handler)
    root.setLevel(old)
    handler.close()


def _postgres_files(app, since: float) -> list[Path]:
    """The PostgreSQL cluster's heap files, WAL and server log written since ``since``.

    A CHECKPOINT and a WAL switch first, so that freshly committed rows are in the files
    (the test cluster runs with fsync and synchronous_commit off)."""
    data_dir = os.environ.get("WHISTLE_TEST_PG_DATA")
    if not data_dir:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("WHISTLE_TEST_PG_DATA not set in CI: ./test.sh exports it")
        pytest.skip("WHISTLE_TEST_PG_DATA not set (./test.sh sets it for its own cluster)")
    with state(app).engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("CHECKPOINT"))
        conn.execute(text("SELECT pg_switch_wal()"))
    root = Path(data_dir)
    files = [p for sub in ("base", "global", "pg_wal") for p in (root / sub).rglob("*")
             if p.is_file() and p.stat().st_mtime >= since - 1]
    log = root / "server.log"
    return files + ([log] if log.exists() else [])


def test_no_plaintext_anywhere(app, client, db_backend, file_logging) -> None:
    make_org(app)
    started = time.time()
    holder = None
    if db_backend == "sqlite":
        # Hold one connection open: the last connection to close checkpoints and deletes the
        # WAL, and the WAL is exactly where freshly written pages sit.
        db_file = Path(state(app).engine.url.database)
        holder = sqlite3.connect(db_file)
        holder.execute("SELECT count(*) FROM cases").fetchone()
    tag = secrets.token_hex(6)
    m = {name: f"CANARY{name.upper()}{tag}" for name in (
        "name", "nik", "address", "phone", "email", "witness", "who", "what", "where", "how",
        "when", "filecontent", "filename", "reply", "replyfile", "replyname", "pendingname")}
    nik = "3174" + str(int(tag, 16))[:12].rjust(12, "7")
    markers = dict(m, nik=nik)
    form = good_form(
        anonymity="confidential", name=m["name"], nik=nik, address=m["address"],
        phone="0812" + str(int(tag, 16))[:8], email=f"{m['email']}@example.org",
        position="Staf", w1_name=m["witness"], w1_contact=m["witness"], who=m["who"],
        what=f"Kejadian {m['what']} panjang sekali", where=m["where"], how=m["how"], when=m["when"])
    markers["phone"] = form["phone"]
    # a validation error first, so a file waits in the pending slot across requests
    html = client.get("/lapor").get_data(as_text=True)
    bad = dict(form, what="", csrf_token=csrf(html),
               files=[(io.BytesIO(m["filecontent"].encode() * 50), f"{m['pendingname']}.txt")])
    assert client.post("/lapor", data=bad, content_type="multipart/form-data").status_code == 422
    ticket, page = file_report(client, form, files=[(m["filecontent"].encode() * 100, f"{m['filename']}.txt")])
    markers["ticket"] = ticket
    assert confirm(client, page.get_data(as_text=True), ticket).status_code == 303
    html = client.get("/laporan").get_data(as_text=True)
    assert m["filename"] in html and m["pendingname"] in html  # the reporter does see them
    r = client.post("/laporan", data={"csrf_token": csrf(html), "body": m["reply"],
                                      "files": [(io.BytesIO(m["replyfile"].encode() * 10),
                                                 f"{m['replyname']}.txt")]},
                    content_type="multipart/form-data")
    assert r.status_code == 303
    # a second visitor logs in with the ticket and reads; and a failed log-in is logged nowhere
    other = app.test_client()
    assert login(other, ticket).status_code == 303
    assert m["reply"] in other.get("/laporan").get_data(as_text=True)
    login(app.test_client(), ticket[:-1] + ("0" if ticket[-1] != "0" else "1"))

    cfg = state(app).config
    if holder is not None:
        wal = Path(str(db_file) + "-wal")
        assert wal.exists() and wal.stat().st_size > 0  # read before anything checkpoints it
        files, control_files = [db_file, wal], [wal]
    else:
        files = _postgres_files(app, started)
        control_files = [p for p in files if p.parent.name == "pg_wal"]
    for folder in (cfg.attachments_dir, cfg.tmp_dir, cfg.logs_dir):
        files += [p for p in folder.rglob("*") if p.is_file()]
    assert any(p.parent.parent == cfg.attachments_dir for p in files)  # files were stored
    hits = _scan(files, markers)
    # Positive control: plaintext that IS stored (the public register number) is found, in
    # the WAL too, so a clean result means something.
    with state(app).engine.connect() as conn:
        register_no = conn.scalar(select(Case.register_no))
    control = _scan(control_files, {"register": register_no})
    if holder is not None:
        holder.close()
    assert control, "scan found not even the register number: the scan is broken"
    assert hits == [], hits


def test_intake_tickets_and_desk_reports_reach_no_disk(app, db_backend, file_logging,
                                                       monkeypatch) -> None:
    """The intake path (issue 7 item 5): what the penerima typed, the ticket they handed over
    (kept in their sealed session until shown) and the fresh ticket that replaces it (kept in
    the reporter's sealed session until confirmed) appear nowhere; so do the desk's look-ups
    beyond the register number."""
    import re

    from tests.web.officer_login import Clock, csrf as officer_csrf
    from tests.web.reporter_helpers import TICKET_RE
    from tests.web.test_cases_web import Office
    from whistle.services.cases.calendar import today

    from whistle.services.people import accounts

    clock = Clock()
    monkeypatch.setattr(accounts, "now", clock)  # officer log-ins step the TOTP clock
    office = Office(app, clock)
    started = time.time()
    holder = None
    if db_backend == "sqlite":
        db_file = Path(state(app).engine.url.database)
        holder = sqlite3.connect(db_file)
        holder.execute("SELECT count(*) FROM cases").fetchone()
    tag = secrets.token_hex(6)
    m = {name: f"CANARY{name.upper()}{tag}" for name in ("what", "who", "where", "name", "witness")}
    pen = office.client("pen")
    resp = pen.post("/officer/intake", data={
        "csrf_token": officer_csrf(pen, "/officer/intake"), "channel": "phone",
        "received_on": today().isoformat(), "kind": "complaint", "category": "maladministration",
        "unit_id": str(office.world.units["PUSAT"]), "what": f"Telepon {m['what']}",
        "who": m["who"], "where": m["where"], "anonymity": "confidential", "id_name": m["name"],
        "w_name": m["witness"]})
    assert resp.status_code == 303
    html = pen.get("/officer/intake/done").get_data(as_text=True)
    intake_ticket = re.search(r'id="ticket">([^<]+)<', html).group(1)
    register_no = re.search(r'id="register-no">([^<]+)<', html).group(1)
    reporter = app.test_client()
    assert login(reporter, intake_ticket).status_code == 303
    page = reporter.get("/lapor/tiket").get_data(as_text=True)
    fresh = "-".join(TICKET_RE.findall(page))
    assert confirm(reporter, page, fresh).status_code == 303
    assert login(app.test_client(), intake_ticket).status_code == 422
    pen.post("/officer/intake/status", data={"csrf_token": officer_csrf(pen, "/officer/intake/status"),
                                             "register_no": f"{m['name']} 0812"})  # not audited
    markers = dict(m, intake_ticket=intake_ticket, fresh_ticket=fresh,
                   intake_compact=intake_ticket.replace("-", ""), fresh_compact=fresh.replace("-", ""))

    cfg = state(app).config
    if holder is not None:
        wal = Path(str(db_file) + "-wal")
        assert wal.exists() and wal.stat().st_size > 0
        files, control_files = [db_file, wal], [wal]
    else:
        files = _postgres_files(app, started)
        control_files = [p for p in files if p.parent.name == "pg_wal"]
    for folder in (cfg.attachments_dir, cfg.tmp_dir, cfg.logs_dir):
        files += [p for p in folder.rglob("*") if p.is_file()]
    hits = _scan(files, markers)
    control = _scan(control_files, {"register": register_no})
    if holder is not None:
        holder.close()
    assert control, "scan found not even the register number: the scan is broken"
    assert hits == [], hits


def _binary_forms(secret: bytes) -> list[bytes]:
    """A binary secret as raw bytes, hex and base64 (standard and URL-safe, every alignment)."""
    forms = {secret, secret.hex().encode(), secret.hex().upper().encode()}
    for pad in range(3):
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            body = enc(b"\x00" * pad + secret)[4 if pad else 0:][:-4]
            if len(body) >= 16:
                forms.add(body)
    return sorted(forms)


def _scan_binary(paths: list[Path], secrets_: dict[str, bytes]) -> list[str]:
    hits = []
    for path in paths:
        data = path.read_bytes()
        for label, secret in secrets_.items():
            if any(form in data for form in _binary_forms(secret)):
                hits.append(f"{label} in {path.name}")
    return hits


def test_escalation_leaves_no_plaintext_and_no_key(app, db_backend, file_logging,
                                                   monkeypatch) -> None:
    """Identity escalation through the pages (issue 7): the legal-basis text, the reason, the
    PYB's decision reason, the reporter's consent and the identity shown to the requester reach
    no disk; neither do the request's ephemeral PRIVATE key, the identity key or a share in
    clear; and the audit log names none of them. Positive controls: the register number in the
    WAL, and the request's ephemeral PUBLIC key (stored in clear) in the database files."""
    import re

    import tests.web.cases_world as cases_world
    from crypto import PrivateKey, Share
    from tests.web.cases_world import build_world
    from tests.web.officer_login import Clock, csrf as officer_csrf, login as officer_login
    from tests.web.officer_login import make_login_ready
    from whistle.db import transaction
    from whistle.models import AuditEntry, IdentityRequest, IdentityShare, Officer
    from whistle.services.custody.casekeys import identity_share_context
    from whistle.services.custody.escalation_state import ephemeral_context
    from whistle.services.people import accounts
    from whistle.services.reporter import reports

    clock = Clock()
    monkeypatch.setattr(accounts, "now", clock)
    monkeypatch.setattr(cases_world, "PEPPER", state(app).secrets.pepper)
    started = time.time()
    holder = None
    if db_backend == "sqlite":
        db_file = Path(state(app).engine.url.database)
        holder = sqlite3.connect(db_file)
        holder.execute("SELECT count(*) FROM cases").fetchone()
    tag = secrets.token_hex(6)
    m = {name: f"CANARY{name.upper()}{tag}" for name in (
        "name", "address", "basistext", "reason", "decision", "witness")}
    world = build_world(state(app).db)
    case_id, ticket = world.file(anonymity=reports.CONFIDENTIAL,
                                 identity={"name": m["name"], "address": m["address"]},
                                 witnesses=[reports.Witness(name=m["witness"])])
    clients = {}
    for who in ("ver", "pyb", "uki"):
        with transaction(state(app).db) as db:
            secret = make_login_ready(db, db.get(Officer, world.officer_id(who)), app)
        c = app.test_client()
        assert officer_login(c, who, world.officers[who].passphrase, secret, clock).status_code == 303
        clients[who] = c
    ver, pyb, uki = clients["ver"], clients["pyb"], clients["uki"]
    # The reporter consents on their page (and withdraws: the approval path is what runs).
    reporter = app.test_client()
    assert login(reporter, ticket).status_code == 303
    page = reporter.get("/laporan").get_data(as_text=True)
    assert reporter.post("/laporan/identitas/setuju", data={
        "csrf_token": csrf(page), "confirm": "1"}).status_code == 303
    page = reporter.get("/laporan").get_data(as_text=True)
    assert reporter.post("/laporan/identitas/tarik", data={"csrf_token": csrf(page)}).status_code == 303
    form = f"/officer/cases/{case_id}/identity"
    resp = ver.post(form, data={"csrf_token": officer_csrf(ver, form), "basis": "witness",
                                "basis_text": m["basistext"], "reason": f"Perlu {m['reason']} saksi."})
    assert resp.status_code == 303
    detail = resp.headers["Location"]
    req_id = detail.rsplit("/", 1)[-1]
    pyb.post(f"{detail}/decide", data={"csrf_token": officer_csrf(pyb, detail), "decision": "approve",
                                       "decision_reason": f"Disetujui {m['decision']}."})
    # What the requester's passphrase can unseal right now (before the opening), so the scan
    # knows the secret bytes to look for; and the identity key the two shares make.
    with transaction(state(app).db) as db:
        req = db.get(IdentityRequest, req_id)
        assert req.status == "approved"
        ephemeral = world.officers["ver"].private_key.unwrap(
            req.ephemeral_sealed, context=ephemeral_context(req_id, case_id, world.officer_id("ver")))
        ephemeral_public = bytes(req.ephemeral_public)
        shares = []
        for s in db.scalars(select(IdentityShare).where(IdentityShare.case_id == case_id)):
            team = next(t for t in world.teams.values() if t.team.id == s.team_id)
            shares.append(team.private_key.unwrap(s.blob, context=identity_share_context(case_id, s.idx)))
    import crypto

    id_key = crypto.combine_shares([Share.from_bytes(s) for s in shares])
    assert PrivateKey.from_bytes(ephemeral).public_key().to_bytes() == ephemeral_public
    for c in (uki, pyb):
        c.post(f"{detail}/release", data={"csrf_token": officer_csrf(c, "/officer/identity")})
    shown = ver.post(f"{detail}/open", data={"csrf_token": officer_csrf(ver, detail)},
                     follow_redirects=True).get_data(as_text=True)
    assert m["name"] in shown and m["witness"] in shown  # the requester does see it
    assert m["name"] in ver.get(detail).get_data(as_text=True)  # reload: from the sealed session
    assert m["basistext"] in shown and m["decision"] in shown
    with transaction(state(app).db) as db:
        audit = [" ".join(filter(None, (a.actor, a.action, a.object, a.detail)))
                 for a in db.scalars(select(AuditEntry))]
    assert any("identity.open" in a for a in audit) and any("identity.consent" in a for a in audit)
    for marker in list(m.values()) + [ticket]:
        assert not [a for a in audit if marker.lower() in a.lower()], marker

    cfg = state(app).config
    if holder is not None:
        wal = Path(str(db_file) + "-wal")
        assert wal.exists() and wal.stat().st_size > 0
        files, control_files = [db_file, wal], [wal]
    else:
        files = _postgres_files(app, started)
        control_files = [p for p in files if p.parent.name == "pg_wal"]
    for folder in (cfg.attachments_dir, cfg.tmp_dir, cfg.logs_dir):
        files += [p for p in folder.rglob("*") if p.is_file()]
    hits = _scan(files, dict(m, ticket=ticket))
    keys = {"ephemeral private key": ephemeral, "identity key": id_key}
    keys.update({f"share {i}": s[-32:] for i, s in enumerate(shares, 1)})  # a share's y bytes
    key_hits = _scan_binary(files, keys)
    with state(app).engine.connect() as conn:
        register_no = conn.scalar(select(Case.register_no).where(Case.id == case_id))
    control = _scan(control_files, {"register": register_no})
    public_control = _scan_binary(files, {"ephemeral public key": ephemeral_public[-64:]})
    if holder is not None:
        holder.close()
    assert control, "scan found not even the register number: the scan is broken"
    assert public_control, "scan found not even the ephemeral PUBLIC key: the scan is broken"
    assert re.fullmatch(r"[0-9a-f]{32}", req_id)
    assert hits == [] and key_hits == [], hits + key_hits
