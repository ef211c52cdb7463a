"""HTTP tests of the reporter's side: form, validation, uploads, ticket, follow-up, log-out."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

import crypto
import crypto.kdf as kdf
from crypto import Share
from tests.factories import make_officer
from tests.web.reporter_helpers import (
    TICKET_RE, confirm, csrf, file_report, good_form, login, make_org,
)
from whistle.db import transaction
from whistle.models import Attachment, Case, Event, IdentityBlob, IdentityShare, Message, new_id
from whistle.services.custody.casekeys import CaseCipher, identity_share_context
from whistle.web.state import state


def _case(app) -> Case:
    with transaction(state(app).db) as db:
        return db.scalars(select(Case)).one()


def _files_on_disk(app) -> list[Path]:
    cfg = state(app).config
    roots = [cfg.attachments_dir, cfg.tmp_dir]
    return [p for r in roots if r.exists() for p in r.rglob("*") if p.is_file()]


def _logged_in(app, client, **kw):
    make_org(app)
    ticket, page = file_report(client, **kw)
    assert confirm(client, page.get_data(as_text=True), ticket).status_code == 303
    return ticket


# -- landing and form ----------------------------------------------------------------------

def test_landing_both_languages(client) -> None:
    html = client.get("/").get_data(as_text=True)
    assert 'href="/lapor"' in html and 'href="/masuk"' in html and "Tor Browser" in html
    client.get("/?lang=en")
    en = client.get("/").get_data(as_text=True)
    assert "What is protected" in en and "What is not protected" in en


def test_form_hides_unit_select_with_one_unit(app, client) -> None:
    make_org(app)
    html = client.get("/lapor").get_data(as_text=True)
    assert '<select id="unit"' not in html and 'type="hidden" name="unit"' in html
    assert html.count('type="file"') >= 3 and 'enctype="multipart/form-data"' in html
    make_org(app, ("verifikator",), code="CAB", name="Kantor Cabang")
    html = client.get("/lapor").get_data(as_text=True)
    assert '<select id="unit"' in html and "Kantor Cabang" in html


def test_not_accepting_without_verifikator(app, client) -> None:
    make_org(app, ("uki", "pyb"))
    resp = client.get("/lapor")
    assert resp.status_code == 503 and "/lapor" not in resp.get_data(as_text=True).split("<main")[1][:50]


def test_csrf_required(app, client) -> None:
    make_org(app)
    client.get("/lapor")
    resp = client.post("/lapor", data=good_form())
    assert resp.status_code == 400
    assert _count(app, Case) == 0


def test_expired_session_keeps_typed_report_unsent(app, client) -> None:
    """A session that ends while the reporter writes must not cost them their text or files."""
    make_org(app)
    html = client.get("/lapor").get_data(as_text=True)
    stale = csrf(html)
    client._cookies.clear()  # the session is gone, as after the idle timeout
    marker = "Kepala seksi meminta uang pelicin setiap Jumat sore di ruang arsip"
    resp = client.post("/lapor", data=dict(good_form(), what=marker, csrf_token=stale,
                                           files=[(io.BytesIO(b"evidence bytes"), "bukti.txt")]),
                       content_type="multipart/form-data")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert marker in body and "BELUM terkirim" in body
    assert _count(app, Case) == 0 and _files_on_disk(app) == []
    # the re-shown form carries a fresh token and now goes through
    resp = client.post("/lapor", data=dict(good_form(), what=marker, csrf_token=csrf(body)))
    assert resp.status_code == 303 and _count(app, Case) == 1


def _count(app, model) -> int:
    with transaction(state(app).db) as db:
        return db.scalar(select(func.count()).select_from(model))


def _post(client, data, files=None):
    html = client.get("/lapor").get_data(as_text=True)
    data = dict(data, csrf_token=csrf(html))
    if files:
        data["files"] = [(io.BytesIO(c), n) for c, n in files]
    return client.post("/lapor", data=data, content_type="multipart/form-data")


CASES = [
    ({"kind": ""}, "kind", "Please choose the kind of report."),
    ({"kind": "bogus"}, "kind", "Please choose the kind of report."),
    ({"category": ""}, "category", "Please choose what the report is about."),
    ({"who": ""}, "who", "Please name the official"),
    ({"what": ""}, "what", "Please describe what happened."),
    ({"what": "too short"}, "what", "at least 20 characters"),
    ({"what": "x" * 20_001}, "what", "20000 characters"),
    ({"when": "x" * 201}, "when", "200 characters"),
    ({"where": "x" * 301}, "where", "300 characters"),
    ({"how": "x" * 10_001}, "how", "10000 characters"),
    ({"who_position": "x" * 201}, "who_position", "200 characters"),
    ({"anonymity": ""}, "anonymity", "Please choose whether to stay anonymous"),
    ({"name": "Siti"}, "anonymity", "You chose to stay anonymous"),
    ({"anonymity": "confidential"}, "name", "Please give your name"),
    ({"anonymity": "confidential", "name": "S", "nik": "12345"}, "nik", "exactly 16 digits"),
    ({"anonymity": "confidential", "name": "S", "phone": "call me"}, "phone", "digits only"),
    ({"anonymity": "confidential", "name": "S", "email": "nope"}, "email", "e-mail address"),
    ({"anonymity": "confidential", "name": "S", "address": "x" * 501}, "address", "500 characters"),
    ({"anonymity": "confidential", "name": "x" * 201}, "name", "200 characters"),
    ({"w1_note": "x" * 501}, "w1_note", "500 characters"),
    ({"w2_contact": "x" * 201}, "w2_contact", "200 characters"),
]


@pytest.mark.parametrize("change,field,message", CASES)
def test_field_errors(app, client, change, field, message) -> None:
    make_org(app)
    client.get("/?lang=en")
    marker = "Kantor Pelayanan Terpadu lantai 3"
    resp = _post(client, good_form(where=marker, **change) if "where" not in change else good_form(**change))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert f'id="{field}-err"' in html and message in html
    if "where" not in change:
        assert marker in html  # what was typed survives
    assert _count(app, Case) == 0


def test_unknown_unit_refused(app, client) -> None:
    make_org(app)
    make_org(app, ("verifikator",), code="CAB", name="Cabang")
    client.get("/?lang=en")
    resp = _post(client, good_form(unit="999"))
    assert resp.status_code == 422 and 'id="unit-err"' in resp.get_data(as_text=True)


def test_indonesian_messages_by_default(app, client) -> None:
    make_org(app)
    html = _post(client, good_form(what="")).get_data(as_text=True)
    assert "Mohon" in html or "Silakan" in html


def test_uploads_survive_validation_error(app, client) -> None:
    make_org(app)
    client.get("/?lang=en")
    resp = _post(client, good_form(what=""), files=[(b"first evidence", "bukti-1.txt"),
                                                   (b"second", "bukti-2.txt")])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "bukti-1.txt" in html and "bukti-2.txt" in html and "file already received" in html
    # a second error round keeps them, and a removal drops one
    resp = _post(client, good_form(what=""), files=[(b"third", "bukti-3.txt")])
    html = resp.get_data(as_text=True)
    assert all(n in html for n in ("bukti-1.txt", "bukti-2.txt", "bukti-3.txt"))
    html2 = client.get("/lapor").get_data(as_text=True)
    data = dict(good_form(), csrf_token=csrf(html2), remove=["1"])
    resp = client.post("/lapor", data=data, content_type="multipart/form-data")
    assert resp.status_code == 303
    with transaction(state(app).db) as db:
        assert db.scalar(select(func.count()).select_from(Attachment)) == 2
    store_tmp = state(app).config.attachments_dir / "tmp"
    assert not list(store_tmp.iterdir())  # committed or discarded, none left pending
    page = client.get("/lapor/tiket").get_data(as_text=True)
    ticket = "-".join(TICKET_RE.findall(page))
    confirm(client, page, ticket)
    case_html = client.get("/laporan").get_data(as_text=True)
    assert "bukti-1.txt" in case_html and "bukti-3.txt" in case_html and "bukti-2.txt" not in case_html


def test_oversized_request_413_leaves_nothing(make_app) -> None:
    app = make_app(max_upload_bytes=64 * 1024)
    client = app.test_client()
    make_org(app)
    client.get("/?lang=en")
    resp = _post(client, good_form(), files=[(b"x" * 100_000, "big.bin")])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 413
    assert "Berkas terlalu besar" in html and "File too large" in html and "64 KB" in html
    assert _count(app, Case) == 0 and _files_on_disk(app) == []


def test_oversized_file_field_error_keeps_form(make_app) -> None:
    app = make_app(max_file_bytes=10_000)
    client = app.test_client()
    make_org(app)
    client.get("/?lang=en")
    resp = _post(client, good_form(where="Gedung B"), files=[(b"y" * 20_000, "huge.pdf"),
                                                            (b"small", "ok.txt")])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "“huge.pdf” is larger than" in html and "ok.txt" in html and "Gedung B" in html
    assert _count(app, Case) == 0
    # only the accepted file waits, encrypted, in the store's temp area; nothing plaintext
    left = _files_on_disk(app)
    assert len(left) == 1 and left[0].parent.name == "tmp" and b"small" not in left[0].read_bytes()


def test_refuses_confidential_without_custodians(app, client) -> None:
    make_org(app, ("verifikator",))
    client.get("/?lang=en")
    resp = _post(client, good_form(anonymity="confidential", name="Siti"))
    assert resp.status_code == 422 and "custodians" in resp.get_data(as_text=True)
    assert _count(app, Case) == 0
    assert _post(client, good_form()).status_code == 303


# -- ticket receipt -------------------------------------------------------------------------

def test_ticket_shown_on_reload_until_confirmed_then_never(app, client) -> None:
    # A ticket page whose response died on the way (dropped circuit, killed worker) must not
    # cost the reporter their case: a reload in the same session shows it again until they
    # confirm it, and the page says exactly that.
    make_org(app)
    client.get("/?lang=en")
    ticket, page = file_report(client)
    html = page.get_data(as_text=True)
    assert crypto.parse_ticket(ticket) == ticket and _case(app).register_no in html
    assert "this page shows your ticket again if you reload it" in html
    again = client.get("/lapor/tiket").get_data(as_text=True)
    assert "-".join(TICKET_RE.findall(again)) == ticket
    assert "-".join(TICKET_RE.findall(client.get("/lapor/tiket").get_data(as_text=True))) == ticket
    other = app.test_client()  # another browser (no cookie) never sees it
    assert ticket not in other.get("/lapor/tiket").get_data(as_text=True)
    wrong = confirm(client, again, "ZZZZ" if not ticket.endswith("ZZZZ") else "YYYY")
    assert wrong.status_code == 422 and "-".join(TICKET_RE.findall(wrong.get_data(as_text=True))) == ticket
    ok = confirm(client, again, ticket.split("-")[-1].lower())
    assert ok.status_code == 303 and ok.headers["Location"].endswith("/laporan")
    assert client.get("/laporan").status_code == 200
    gone = client.get("/lapor/tiket")
    assert gone.status_code == 303 and ticket not in gone.get_data(as_text=True)
    assert client.get("/lapor/tanda-terima.txt").status_code == 404


def test_receipt_txt_until_confirmed(app, client) -> None:
    make_org(app)
    ticket, page = file_report(client)
    first = client.get("/lapor/tanda-terima.txt")
    assert first.status_code == 200 and ticket in first.get_data(as_text=True)
    assert "attachment" in first.headers["Content-Disposition"]
    retry = client.get("/lapor/tanda-terima.txt")  # the first download may never have arrived
    assert retry.status_code == 200 and ticket in retry.get_data(as_text=True)
    assert confirm(client, page.get_data(as_text=True), ticket).status_code == 303
    assert client.get("/lapor/tanda-terima.txt").status_code == 404


def test_whole_ticket_confirms(app, client) -> None:
    make_org(app)
    ticket, page = file_report(client)
    assert confirm(client, page.get_data(as_text=True), ticket.replace("-", " ")).status_code == 303


# -- log-in ---------------------------------------------------------------------------------

def test_login_messages_and_equal_argon2(app, client, monkeypatch) -> None:
    make_org(app)
    ticket, _ = file_report(client)
    other = app.test_client()
    other.get("/?lang=en")
    calls: list[int] = []
    real = kdf.derive_key
    monkeypatch.setattr(kdf, "derive_key", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    typo = ticket[:-1] + ("0" if ticket[-1] != "0" else "1")
    r1 = login(other, typo)
    assert r1.status_code == 422 and "looks mistyped" in r1.get_data(as_text=True)
    assert len(calls) == 1
    r2 = login(other, crypto.new_ticket())
    assert r2.status_code == 422 and "No report matches this ticket" in r2.get_data(as_text=True)
    assert len(calls) == 2
    for r in (r1, r2):
        assert typo not in r.get_data(as_text=True)
    cookie_before = other.get_cookie("whistle").value
    r3 = login(other, ticket)
    assert r3.status_code == 303 and len(calls) == 3
    assert other.get_cookie("whistle").value != cookie_before  # rotated on log-in
    calls.clear()
    assert other.get("/laporan").status_code == 200 and calls == []  # no Argon2 once in


def test_ticket_rate_limited_per_ticket(make_app) -> None:
    app = make_app(ratelimit_ticket="2 per hour")
    make_org(app)
    ticket, _ = file_report(app.test_client())
    for i in range(2):
        assert login(app.test_client(), ticket).status_code == 303
    assert login(app.test_client(), ticket).status_code == 429  # fresh session, same ticket


def test_case_page_requires_login(client) -> None:
    resp = client.get("/laporan")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/masuk")


# -- case page and replies ------------------------------------------------------------------

def _officer_message(app, body: str, *, internal: bool = False, status: str | None = None) -> None:
    from whistle.services.custody.casekeys import case_key_for_teams
    with transaction(state(app).db) as db:
        case = db.scalars(select(Case)).one()
        from whistle.models import Team
        team = db.get(Team, case.team_id)
        off = db.scalar(select(func.count()).select_from(Message))
        officer = make_officer(db, None, "verifikator", f"o{off}{new_id()[:4]}")
        officer.officer.display_name = "Nama Petugas Rahasia"
        key = case_key_for_teams(db, case.id, {team.id: app.config["_TEAM_KEY"]})
        mid = new_id()
        db.add(Message(id=mid, case_id=case.id, author="officer", officer_id=officer.officer.id,
                       internal=internal, blob=CaseCipher(case.id, key).seal_text("message", mid, body)))
        if status:
            case.status = status


def test_case_page_thread_hides_officer_names_and_internal_notes(app, client) -> None:
    org = make_org(app)
    app.config["_TEAM_KEY"] = org.teams["verifikator"].private_key
    ticket, page = file_report(client)
    confirm(client, page.get_data(as_text=True), ticket)
    _officer_message(app, "Mohon lampirkan kuitansi.", status="awaiting_data")
    _officer_message(app, "catatan internal rahasia", internal=True)
    client.get("/?lang=en")
    html = client.get("/laporan").get_data(as_text=True)
    assert "Mohon lampirkan kuitansi." in html and "Officer" in html
    assert "Nama Petugas Rahasia" not in html and "catatan internal rahasia" not in html
    assert "Awaiting further information" in html and "Send the information we asked for" in html
    r = client.post("/laporan", data={"csrf_token": csrf(html), "body": "Kuitansi terlampir.",
                                      "files": [(io.BytesIO(b"receipt scan"), "kuitansi.txt")]},
                    content_type="multipart/form-data")
    assert r.status_code == 303
    html = client.get("/laporan?ok=sent").get_data(as_text=True)
    assert "Kuitansi terlampir." in html and "kuitansi.txt" in html and "Being verified" in html
    assert _case(app).status == "verification"
    with transaction(state(app).db) as db:
        assert db.scalar(select(Event).where(Event.action == "reporter_supplied_data")) is not None
    # download of the reporter's file from the thread
    att = re.search(r'href="(/laporan/berkas/[0-9a-f]{32})">kuitansi.txt', html).group(1)
    got = client.get(att)
    assert got.status_code == 200 and got.data == b"receipt scan"
    assert got.headers["Content-Type"] == "application/octet-stream"


def test_empty_reply_refused(app, client) -> None:
    _logged_in(app, client)
    html = client.get("/?lang=en") and client.get("/laporan").get_data(as_text=True)
    r = client.post("/laporan", data={"csrf_token": csrf(html), "body": "  "})
    assert r.status_code == 422 and "Please write a message or choose a file." in r.get_data(as_text=True)


def test_archived_case_is_read_only(app, client) -> None:
    _logged_in(app, client)
    with transaction(state(app).db) as db:
        db.scalars(select(Case)).one().status = "archived"
    html = client.get("/laporan").get_data(as_text=True)
    assert 'action="/laporan"' not in html
    r = client.post("/laporan", data={"csrf_token": csrf(html), "body": "hello"})
    assert r.status_code == 409
    assert _count(app, Message) == 1  # only the acknowledgement


def test_logout_destroys_session(app, client) -> None:
    _logged_in(app, client)
    html = client.get("/laporan").get_data(as_text=True)
    r = client.post("/keluar", data={"csrf_token": csrf(html)})
    assert r.status_code == 200
    assert client.get("/laporan").status_code == 303
    with transaction(state(app).db) as db:
        from whistle.models import ServerSession
        assert db.scalar(select(func.count()).select_from(ServerSession)) == 0


def test_download_other_case_or_bad_id_is_404(app, client) -> None:
    _logged_in(app, client)
    assert client.get("/laporan/berkas/" + "0" * 32).status_code == 404
    assert client.get("/laporan/berkas/..%2f..%2fetc").status_code == 404


# -- confidentiality through the web ---------------------------------------------------------

def test_web_confidential_report_sealed_to_custodians(app, client) -> None:
    org = make_org(app)
    ident = dict(name="Siti Aminah", nik="3174 0123 4567 8901", phone="0812 3456 7890",
                 email="siti@example.org", address="Jl. Melati 1", position="Staf")
    ticket, _ = file_report(client, good_form(anonymity="confidential", w1_name="Andi",
                                              w1_contact="0813", **ident))
    with transaction(state(app).db) as db:
        case = db.scalars(select(Case)).one()
        assert case.has_identity and case.has_witnesses
        blobs = {b.kind: b.blob for b in db.scalars(select(IdentityBlob))}
        sh = {s.idx: s.blob for s in db.scalars(select(IdentityShare))}
        shares = [Share.from_bytes(org.teams[r].private_key.unwrap(sh[i], context=identity_share_context(case.id, i)))
                  for i, r in ((1, "uki"), (2, "pyb"))]
        got = CaseCipher(case.id, crypto.combine_shares(shares)).open_json("identity", None, blobs["identity"])
        assert got["name"] == "Siti Aminah" and got["nik"] == "3174012345678901"


# -- page budget ---------------------------------------------------------------------------

def test_every_reporter_page_small_scriptless_and_local(app, client) -> None:
    make_org(app)
    make_org(app, ("verifikator",), code="CAB", name="Cabang")
    pages = {}
    for lang in ("id", "en"):
        client.get(f"/?lang={lang}")
        pages[f"landing-{lang}"] = client.get("/")
        pages[f"form-{lang}"] = client.get("/lapor")
        pages[f"login-{lang}"] = client.get("/masuk")
        pages[f"errors-{lang}"] = _post(client, good_form(what="", kind="", anonymity="confidential",
                                                          nik="1", email="x", phone="y"),
                                        files=[(b"a", "a.txt"), (b"b", "b.txt")])
    ticket, pages["ticket"] = file_report(client, good_form(unit=str(_first_unit(app))))
    html = pages["ticket"].get_data(as_text=True)
    pages["ticket-again"] = client.get("/lapor/tiket")
    confirm(client, html, ticket)
    pages["case"] = client.get("/laporan")
    for name, resp in pages.items():
        body = resp.get_data()
        assert len(body) < 30 * 1024, (name, len(body))
        text = body.decode()
        assert "<script" not in text.lower() and " style=" not in text.lower(), name
        assert not re.search(r'(src|href|action)="(https?:)?//', text), name


def _first_unit(app) -> int:
    from whistle.models import Unit
    with transaction(state(app).db) as db:
        return db.scalars(select(Unit.id).order_by(Unit.id)).first()


def test_reply_racing_an_officer_change_keeps_the_text(app, client, monkeypatch) -> None:
    """An officer moving the case while the reporter's reply commits: a 409 that keeps the
    typed reply and stores nothing, never a 500."""
    from whistle.services.reporter import followup as followup_service
    from sqlalchemy import update
    _logged_in(app, client)
    with transaction(state(app).db) as db:  # a data request is open: the reply moves the case
        db.scalars(select(Case)).one().status = "awaiting_data"
    html = client.get("/laporan").get_data(as_text=True)
    real_cipher = followup_service.CaseCipher

    def officer_acts_meanwhile(case_id: str, key: bytes) -> CaseCipher:
        with transaction(state(app).db) as db:  # commits between the reply's read and write
            db.execute(update(Case).where(Case.id == case_id).values(version=Case.version + 1))
        return real_cipher(case_id, key)

    monkeypatch.setattr(followup_service, "CaseCipher", officer_acts_meanwhile)
    before = _count(app, Message)
    reply = "Balasan penting yang tidak boleh hilang"
    r = client.post("/laporan", data={"csrf_token": csrf(html), "body": reply,
                                      "files": [(io.BytesIO(b"late evidence"), "bukti.txt")]},
                    content_type="multipart/form-data")
    assert r.status_code == 409 and reply in r.get_data(as_text=True)
    assert _count(app, Message) == before and _files_on_disk(app) == []
    assert _case(app).status == "awaiting_data"
