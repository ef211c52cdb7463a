"""Officer and admin pages speak Indonesian by default and English after ?lang=en; the Indonesian
catalog is complete (every extracted string translated, nothing fuzzy) and its .mo is current.

The catalog tests make a new untranslated string fail CI: after adding one, run
``scripts/i18n.sh``, translate it in ``whistle/translations/id/LC_MESSAGES/messages.po``, run the
script again and commit the .po and .mo files (README "Translations").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from tests.web.cases_world import World, at_local, build_world
from tests.web.officer_login import (  # noqa: F401
    Clock, Enrolled, clock, csrf, enrol, finish_enrolment, login_as, make_login_ready)
from whistle.db import transaction
from whistle.domain.constants import Role
from whistle.models import Officer
from whistle.services.people import accounts
from whistle.services.custody import escalation, releases
from whistle.services.reporter import reports
from whistle.services.cases.calendar import today
from whistle.web.state import state

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "whistle" / "translations"
ID_PO = TRANSLATIONS / "id" / "LC_MESSAGES" / "messages.po"
ID_MO = TRANSLATIONS / "id" / "LC_MESSAGES" / "messages.mo"
# The keywords scripts/i18n.sh passes to pybabel extract (on top of babel's defaults).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
IDENTITY = {"name": "Rahmat Hidayat", "nik": "3201010101010001"}


# -- pages ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    who: str  # "anonymous", a cases_world officer, "admin" or "auditor"
    path: str  # "{case}" is replaced by the id of a late case of the PUSAT verifikator team
    id: tuple[str, ...]  # Indonesian texts that must be on the page (default locale)
    en: tuple[str, ...]  # their English originals (must be absent in Indonesian, present in English)


PAGES = {
    "login": Page("anonymous", "/officer/login",
                  ("Masuk petugas", "Frasa sandi", "Kode dari aplikasi autentikator", ">Masuk<"),
                  ("Officer log-in", "Passphrase", "Code from the authenticator app", ">Log in<")),
    "inbox": Page("ver", "/officer/cases",
                  ("Kotak masuk", "Hanya yang terlambat", "No. register", "Tenggat", "Keluar",
                   "Permintaan pembukaan identitas", "Area petugas. Setiap tindakan dicatat"),
                  ("Inbox", "Late only", "Register no.", "Deadline", "Log out",
                   "Identity requests", "Officer area. Every action is recorded")),
    "case": Page("ver", "/officer/cases/{case}",
                 ("Tindakan", "Riwayat", "Percakapan", "Daftar periksa verifikasi (5W+1H)",
                  "TERLAMBAT", "Mulai verifikasi", "Situs web", "<dt>Apa</dt>",
                  "<legend>Mengapa</legend>", "Kirim kepada pelapor", "Identitas"),
                 ("Actions", "History", "Thread", "Verification checklist (5W+1H)",
                  "LATE", "Start verification", "Website", "<dt>What</dt>",
                  "<legend>Why</legend>", "Send to the reporter", "Identity")),
    "intake": Page("pen", "/officer/intake",
                   ("Catat laporan", "Cara laporan diterima", "Isi laporan (5W+1H)",
                    "Anonim: identitas tidak dicatat", "Tanggal diterima"),
                   ("Record a report", "How it arrived", "The report (5W+1H)",
                    "Anonymous: no identity recorded", "Date it arrived")),
    "account": Page("pyb", "/officer/account",
                    ("Akun saya", "Tim saya", "Kunci tim"),
                    ("My account", "My teams", "Team key")),
    "identity": Page("ver", "/officer/identity",
                     ("Menunggu keputusan saya", "Permintaan saya"),
                     ("Waiting for my decision", "My requests")),
    "not found": Page("ver", "/officer/cases/" + "f" * 32,
                      ("Halaman tidak ditemukan", "Kode kesalahan"),
                      ("Page not found", "Error code")),
    "admin index": Page("admin", "/admin/",
                        ("Administrasi", "Kalender hari kerja", "Menu administrasi",
                         "Halaman administrasi tidak pernah menampilkan isi laporan"),
                        ("Administration", "Working-day calendar", "Administration menu",
                         "Administration never shows case content")),
    "officers": Page("admin", "/admin/officers",
                     ("Petugas baru", "Nama pengguna", "Buat akun petugas", "Peran"),
                     ("New officer", "Username", "Create officer", "Role")),
    "teams": Page("admin", "/admin/teams",
                  ("Tim baru", "Anggota pertama", "Buat tim", "Sidik kunci"),
                  ("New team", "First member", "Create team", "Key fingerprint")),
    "units": Page("admin", "/admin/units", ("Unit baru", "Buat unit"), ("New unit", "Create unit")),
    "calendar": Page("admin", "/admin/calendar",
                     ("Tambah perubahan", "hari libur tambahan", "Tidak ada perubahan."),
                     ("Add a change", "extra holiday", "No changes.")),
    "audit": Page("auditor", "/admin/audit",
                  ("Log audit", "Periksa keutuhan rantai hash", "Waktu (UTC)", "terbaru di atas"),
                  ("Audit log", "Verify the hash chain", "Time (UTC)", "newest first")),
}


class Office:
    """The cases_world office (verifikator, PYB, penerima, ...) plus an admin and an auditor,
    each with a logged-in client (created on first use)."""

    def __init__(self, app: Flask, clock: Clock) -> None:
        self.app, self.clock = app, clock
        self.world: World = build_world(state(app).db)
        self.people: dict[str, Enrolled] = {}
        with transaction(state(app).db) as db:
            for name, o in self.world.officers.items():
                secret = make_login_ready(db, db.get(Officer, o.officer.id), app)
                self.people[name] = Enrolled(o.officer.id, name, o.passphrase, secret)
            admin, enrolment_secret = accounts.create_first_admin(db, "root")
            self.people["admin"] = finish_enrolment(app, db, admin.id, enrolment_secret)
        self.people["auditor"] = enrol(app, "audra", Role.AUDITOR, None)
        self.clients: dict[str, FlaskClient] = {}
        # A confidential case whose verification deadline has passed (the page marks it late).
        long_ago = today(state(app).config) - timedelta(days=30)
        self.case_id, _ = self.world.file(received=at_local(long_ago),
                                          anonymity=reports.CONFIDENTIAL, identity=IDENTITY)

    def client(self, who: str) -> FlaskClient:
        if who not in self.clients:
            c = self.app.test_client()
            if who != "anonymous":
                login_as(c, self.people[who], self.clock)
            self.clients[who] = c
        return self.clients[who]


@pytest.fixture
def office(app: Flask, clock: Clock) -> Office:
    return Office(app, clock)


def _choose(c: FlaskClient, lang: str) -> None:
    resp = c.get(f"/officer/login?lang={lang}")
    assert resp.status_code == 303 and f"lang={lang}" in resp.headers.get("Set-Cookie", "")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_officer_and_admin_pages_follow_the_language(office: Office, lang: str) -> None:
    """Default (no choice made): Indonesian, no English original. After ?lang=en: English,
    no Indonesian. Login page, inbox, case, intake, account, identity requests, error page,
    admin index, officers, teams, units, calendar and audit log."""
    if lang == "en":
        for who in {p.who for p in PAGES.values()}:
            _choose(office.client(who), "en")
    for name, page in PAGES.items():
        resp = office.client(page.who).get(page.path.format(case=office.case_id))
        html = resp.get_data(as_text=True)
        assert resp.status_code == (404 if name == "not found" else 200), (name, html[:300])
        assert f'<html lang="{lang}">' in html, name
        want, unwanted = (page.id, page.en) if lang == "id" else (page.en, page.id)
        missing = [s for s in want if s not in html]
        leaked = [s for s in unwanted if s in html]
        assert not missing and not leaked, f"{name} ({lang}): missing {missing}, leaked {leaked}"


def test_choosing_indonesian_again_switches_back(office: Office) -> None:
    c = office.client("ver")
    _choose(c, "en")
    assert "Inbox" in c.get("/officer/cases").get_data(as_text=True)
    _choose(c, "id")
    html = c.get("/officer/cases").get_data(as_text=True)
    assert "Kotak masuk" in html and "Inbox" not in html


def _step(office: Office, who: str, fn, *args):  # type: ignore[no-untyped-def]
    with transaction(state(office.app).db) as db:
        return fn(db, db.get(Officer, office.people[who].id), office.world.keys(who), *args)


def test_identity_request_pages_are_translated(office: Office) -> None:
    """Stored state codes (pending, opened) and identity field names show as words in the
    page's language; the state code stays machine-readable in data-status."""
    ver = office.client("ver")
    req = _step(office, "ver", escalation.request_identity, office.case_id,
                "Keterangan pelapor diperlukan sebagai saksi dalam pemeriksaan.", "witness",
                "Pasal 12 Peraturan Menteri PANRB 2019")
    detail = f"/officer/identity/{req.id}"
    assert re.search(r'data-status="pending">menunggu keputusan<', ver.get(detail).get_data(as_text=True))
    _step(office, "pyb", escalation.decide, req.id, True, True, "Diperlukan untuk pemeriksaan.")
    _step(office, "uki", releases.release_share, req.id)
    _step(office, "pyb", releases.release_share, req.id)
    html = ver.post(f"{detail}/open", data={"csrf_token": csrf(ver, detail)},
                    follow_redirects=True).get_data(as_text=True)
    assert re.search(r'data-status="opened">telah dibuka oleh pemohon<', html)
    assert "<dt>Nama lengkap</dt><dd>Rahmat Hidayat</dd>" in html and "Identitas pelapor" in html
    assert "<dt>name</dt>" not in html and "Full name" not in html
    _choose(ver, "en")
    html = ver.get(detail).get_data(as_text=True)
    assert re.search(r'data-status="opened">opened by the requester<', html)
    assert "<dt>Full name</dt><dd>Rahmat Hidayat</dd>" in html and "Reporter's identity" in html


def test_service_refusals_follow_the_language(office: Office) -> None:
    """A refusal raised by a service (an English msgid) is shown in the page's language."""
    admin = office.client("admin")

    def bad_unit() -> str:
        resp = admin.post("/admin/units", data={"csrf_token": csrf(admin, "/admin/units"),
                                                "code": "no spaces allowed", "name": "X"})
        assert resp.status_code == 422
        return resp.get_data(as_text=True)

    html = bad_unit()
    assert "Kode unit: 1-32 huruf, angka" in html and "Unit code: 1-32 letters" not in html
    _choose(admin, "en")
    html = bad_unit()
    assert "Unit code: 1-32 letters, digits" in html and "Kode unit" not in html


# -- the catalog ------------------------------------------------------------------------------

def _id_catalog():  # type: ignore[no-untyped-def]
    with ID_PO.open("rb") as fh:
        return read_po(fh, locale="id")


def _translated(string: str | tuple[str, ...]) -> bool:
    return all(string) if isinstance(string, tuple) else bool(string)


def test_indonesian_catalog_has_no_empty_or_fuzzy_entry() -> None:
    catalog = _id_catalog()
    assert not catalog.fuzzy, "the catalog header is marked fuzzy (pybabel compile would skip it)"
    entries = [m for m in catalog if m.id]
    assert len(entries) > 300
    empty = [m.id for m in entries if not _translated(m.string)]
    fuzzy = [m.id for m in entries if m.fuzzy]
    assert not empty, f"untranslated in {ID_PO.relative_to(ROOT)}: {empty}"
    assert not fuzzy, f"fuzzy in {ID_PO.relative_to(ROOT)}: {fuzzy}"


def test_indonesian_translations_keep_placeholders() -> None:
    catalog = _id_catalog()
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert not problems
    placeholder = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
    for m in catalog:
        if m.id and isinstance(m.id, str):
            assert sorted(placeholder.findall(m.id)) == sorted(placeholder.findall(m.string)), m.id


def test_every_source_string_is_in_the_indonesian_catalog() -> None:
    """Catches a string added to the code or a template without running scripts/i18n.sh."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    extracted = {(msgid[0] if isinstance(msgid, tuple) else msgid)
                 for _file, _line, msgid, _comments, _context
                 in extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS)}
    catalog = _id_catalog()
    missing = sorted(m for m in extracted if m and (catalog.get(m) is None
                                                    or not _translated(catalog.get(m).string)))
    assert not missing, f"run scripts/i18n.sh and translate: {missing}"


def test_compiled_indonesian_catalog_is_current() -> None:
    """The service reads the .mo: it must hold exactly the .po's translations."""
    with ID_MO.open("rb") as fh:
        compiled = {m.id: m.string for m in read_mo(fh) if m.id}
    source = {m.id: m.string for m in _id_catalog() if m.id and _translated(m.string)}
    assert compiled == source, "run scripts/i18n.sh compile and commit the .mo"
