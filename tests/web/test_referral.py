"""The referral package to another agency, opened with the standard `age` and `gpg` tools.

The receiving agency has no whistle: the test decrypts the package with the age identity or
the OpenPGP secret key using the command-line tools, unzips it, and checks every manifest hash.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from tests.web.officer_login import Clock, clock  # noqa: F401
from tests.web.test_cases_web import Office, _attach, office  # noqa: F401
from whistle.attachments.storage import AttachmentStore
from whistle.db import transaction
from whistle.models import AuditEntry, Event
from whistle.web.state import state

CANARY_NAME = "Rahmawati-CANARY-7731"
EVIDENCE = b"%PDF-1.4 kuitansi suap 15 juta CANARY-EVIDENCE\n" * 200

need_age = pytest.mark.skipif(shutil.which("age") is None and not os.environ.get("CI"),
                              reason="age CLI not installed (test.sh installs it)")
need_gpg = pytest.mark.skipif(shutil.which("gpg") is None and not os.environ.get("CI"),
                              reason="gpg not installed")


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _age_identity(tmp: Path) -> tuple[Path, str]:
    key = tmp / "agency.key"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    recipient = re.search(r"public key: (age1\w+)", key.read_text()).group(1)
    return key, recipient


def _gpg_key(tmp: Path) -> tuple[dict[str, str], str]:
    home = tmp / "gnupg"
    home.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    subprocess.run(["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
                    "--quick-gen-key", "Inspektorat Jenderal <wise@itjen.example.go.id>",
                    "default", "default", "never"], check=True, capture_output=True, env=env)
    pub = subprocess.run(["gpg", "--armor", "--export", "wise@itjen.example.go.id"],
                         check=True, capture_output=True, env=env).stdout.decode()
    return env, pub


def _open_zip(plain: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(plain)) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(files["manifest.json"])
    assert set(manifest["files"]) == set(files) - {"manifest.json"}
    for name, digest in manifest["files"].items():
        assert hashlib.sha256(files[name]).hexdigest() == digest, name
    return files


def _refer(office: Office, case_id: str, **form: object) -> object:
    c = office.client("ver")
    page = c.get(f"/officer/cases/{case_id}/referral")
    assert page.status_code == 200
    data = {"csrf_token": _csrf(page.get_data(as_text=True)), **form}
    return c.post(f"/officer/cases/{case_id}/referral", data=data)


@need_age
def test_age_package_opens_with_the_age_tool_and_every_hash_holds(
        office: Office, tmp_path: Path) -> None:
    case_id, _ = office.world.file(what="Pungutan liar di loket perizinan CANARY-WHAT")
    att_id = _attach(office.app, office.world, case_id, EVIDENCE, "kuitansi.pdf")
    identity, recipient = _age_identity(tmp_path)
    resp = _refer(office, case_id, field=["what", "who"], attachment=[att_id],
                  agency="Inspektorat Jenderal", reference="WISE-2026-0042", recipient=recipient)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    package = resp.get_data()
    assert b"CANARY-WHAT" not in package and b"CANARY-EVIDENCE" not in package
    enc = tmp_path / "pkg.age"
    enc.write_bytes(package)
    plain = subprocess.run(["age", "-d", "-i", str(identity), str(enc)], check=True,
                           capture_output=True).stdout
    files = _open_zip(plain)
    report = json.loads(files["report.json"])
    assert set(report) == {"what", "who"} and "CANARY-WHAT" in report["what"]
    assert [n for n in files if n.startswith("attachments/")] == ["attachments/01_kuitansi.pdf"]
    assert files["attachments/01_kuitansi.pdf"] == EVIDENCE
    manifest = json.loads(files["manifest.json"])
    assert manifest["register_no"] == office.world.case(case_id).register_no
    assert manifest["agency"] == "Inspektorat Jenderal" and manifest["included"]["identity"] is False
    assert "identity.json" not in files
    assert files["summary.pdf"].startswith(b"%PDF")
    # Recorded: audit entry with the package hash, case event, and a notice for the reporter.
    digest = hashlib.sha256(package).hexdigest()
    assert resp.headers["X-Package-SHA256"] == digest
    with transaction(office.world.factory) as db:
        audits = [a.detail for a in db.scalars(select(AuditEntry).where(
            AuditEntry.action == "case.referral_package"))]
        assert len(audits) == 1 and f"sha256={digest}" in audits[0]
        assert "Inspektorat" not in audits[0]
        assert db.scalar(select(Event).where(Event.case_id == case_id,
                                             Event.action == "referral_package")) is not None
    thread = office.world.thread(case_id)
    assert any("diteruskan kepada instansi lain" in text for _, text in thread)
    assert not any("Inspektorat" in text for _, text in thread)


@need_gpg
def test_openpgp_package_opens_with_gpg(office: Office, tmp_path: Path) -> None:
    case_id, _ = office.world.file(what="Gratifikasi pengadaan CANARY-PGP")
    env, pub = _gpg_key(tmp_path)
    resp = _refer(office, case_id, field=["what"], agency="Kejaksaan Negeri", recipient=pub)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    enc = tmp_path / "pkg.pgp"
    enc.write_bytes(resp.get_data())
    assert b"CANARY-PGP" not in enc.read_bytes()
    plain = subprocess.run(["gpg", "--batch", "--decrypt", str(enc)], check=True,
                           capture_output=True, env=env).stdout
    files = _open_zip(plain)
    assert "CANARY-PGP" in json.loads(files["report.json"])["what"]


def test_no_identity_goes_in_without_a_release(office: Office, tmp_path: Path) -> None:
    """A report with an identity: the package (decrypted with our own test identity) holds
    none of it, because nothing was released to this officer in this session."""
    import pyrage

    ident = pyrage.x25519.Identity.generate()
    case_id, _ = office.world.file(identity={"name": CANARY_NAME, "nik": "3171000000007731"})
    resp = _refer(office, case_id, field=["what", "who", "how"], agency="Ombudsman",
                  recipient=str(ident.to_public()))
    assert resp.status_code == 200
    plain = pyrage.decrypt(resp.get_data(), [ident])
    files = _open_zip(plain)
    assert "identity.json" not in files
    for name, data in files.items():
        if name.endswith(".pdf"):
            text = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True).stdout \
                if shutil.which("pdftotext") else b""
            assert CANARY_NAME.encode() not in text
        assert CANARY_NAME.encode() not in data and b"3171000000007731" not in data


def test_bad_input_is_a_clear_422_and_records_nothing(office: Office) -> None:
    case_id, _ = office.world.file()
    cases = [
        {"field": ["what"], "agency": "X", "recipient": "not a key"},
        {"field": ["what"], "agency": "X", "recipient": "-----BEGIN PGP PUBLIC KEY BLOCK-----\nzz\n"},
        {"field": ["what"], "agency": "", "recipient": "age1" + "q" * 58},
        {"field": ["nope"], "agency": "X", "recipient": "age1" + "q" * 58},
        {"agency": "X", "recipient": "age1" + "q" * 58},
        {"field": ["what"], "agency": "X", "agency_key": "99999999999999999999", "recipient": ""},
        {"field": ["what"], "agency": "X", "recipient": "-----BEGIN PGP PRIVATE KEY BLOCK-----\nzz\n"},
    ]
    for form in cases:
        resp = _refer(office, case_id, **form)
        assert resp.status_code == 422, (form, resp.status_code)
        assert 'id="error"' in resp.get_data(as_text=True)
    with transaction(office.world.factory) as db:
        assert db.scalar(select(AuditEntry).where(AuditEntry.action == "case.referral_package")) is None


def test_only_verifikator_and_pyb_of_the_case(office: Office) -> None:
    case_id, _ = office.world.file()
    assert office.client("pk_kw").get(f"/officer/cases/{case_id}/referral").status_code in (403, 404)
    assert office.client("ver_kw").get(f"/officer/cases/{case_id}/referral").status_code == 404
    assert office.client("pen").get(f"/officer/cases/{case_id}/referral").status_code == 403


def test_admin_agency_key_list(app: Flask, office: Office, tmp_path: Path) -> None:
    import pyrage

    from tests.web.officer_login import Enrolled, login_as, make_login_ready
    from tests.factories import make_officer
    from whistle.models import Officer
    from whistle.web.state import state

    with transaction(state(app).db) as db:
        admin = make_officer(db, None, "admin", "root")
        secret = make_login_ready(db, db.get(Officer, admin.officer.id), app)
    c = app.test_client()
    login_as(c, Enrolled(admin.officer.id, "root", admin.passphrase, secret), office.clock)
    ident = pyrage.x25519.Identity.generate()
    page = c.get("/admin/agencies").get_data(as_text=True)
    bad = c.post("/admin/agencies", data={"csrf_token": _csrf(page), "name": "Itjen", "key": "junk"})
    assert bad.status_code == 422
    ok = c.post("/admin/agencies", data={"csrf_token": _csrf(page), "name": "Itjen",
                                         "key": str(ident.to_public())})
    assert ok.status_code == 303
    with transaction(state(app).db) as db:
        from whistle.models import AgencyKey

        key_id = db.scalar(select(AgencyKey.id))
    case_id, _ = office.world.file(what="lewat daftar admin")
    resp = _refer(office, case_id, field=["what"], agency="Itjen", agency_key=str(key_id))
    assert resp.status_code == 200
    assert "lewat daftar admin" in json.loads(_open_zip(pyrage.decrypt(resp.get_data(), [ident]))["report.json"])["what"]


def test_lapor_export_has_the_report_but_no_names(office: Office) -> None:
    case_id, _ = office.world.file(what="=HYPERLINK(\"x\") pungli loket", identity={"name": CANARY_NAME})
    c = office.client("ver")
    j = c.get(f"/officer/cases/{case_id}/lapor.json")
    assert j.status_code == 200
    rec = json.loads(j.get_data())
    assert rec["klasifikasi"] == "Pengaduan" and rec["nomor_referensi"] == office.world.case(case_id).register_no
    assert "pungli loket" in rec["isi_laporan"] and rec["lokasi_kejadian"] == "Kantor Pelayanan"
    assert "Kepala Seksi" in rec["isi_laporan"]
    csv_body = c.get(f"/officer/cases/{case_id}/lapor.csv").get_data()
    for body in (j.get_data(), csv_body):
        assert CANARY_NAME.encode() not in body and b"Pak Budi" not in body  # reporter / reported
    assert b"'=HYPERLINK" in csv_body  # no spreadsheet formula
    assert c.get(f"/officer/cases/{case_id}/lapor.xml").status_code == 404
    assert office.client("ver_kw").get(f"/officer/cases/{case_id}/lapor.json").status_code == 404


def test_released_identity_goes_in_only_when_given(office: Office) -> None:
    """The route passes the identity only from this officer's session (an escalation's reading
    window); given it, the package carries identity.json and says so in its manifest."""
    import pyrage

    from crypto.external import parse_recipient
    from whistle.models import Officer
    from whistle.services.records import referral

    ident = pyrage.x25519.Identity.generate()
    case_id, _ = office.world.file(identity={"name": CANARY_NAME})
    with transaction(office.world.factory) as db:
        pkg = referral.build(db, officer=db.get(Officer, office.world.officer_id("ver")),
                             team_keys=office.world.keys("ver"), case_id=case_id,
                             selection=referral.Selection(fields=frozenset({"what"}), agency="Kejaksaan"),
                             recipient=parse_recipient(str(ident.to_public())),
                             store=AttachmentStore(state(office.app).config.attachments_dir),
                             summary_pdf=lambda info: b"%PDF-1.4 test",
                             identity={"identity": {"name": CANARY_NAME}, "witnesses": []})
    files = _open_zip(pyrage.decrypt(pkg.data, [ident]))
    assert json.loads(files["identity.json"])["identity"]["name"] == CANARY_NAME
    assert json.loads(files["manifest.json"])["included"]["identity"] is True
