"""Officer case pages over HTTP: inbox visibility, case page, actions, stale forms, downloads."""
from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import crypto
from tests.web.cases_world import World, build_world
from tests.web.officer_login import Clock, clock, csrf, login_as, make_login_ready, Enrolled  # noqa: F401
from whistle.attachments.storage import AttachmentStore
from whistle.db import transaction
from whistle.domain.constants import Category
from whistle.models import Attachment, Case, Message, Officer, new_id
from whistle.web.state import state


class Office:
    def __init__(self, app: Flask, clock: Clock) -> None:
        self.app = app
        self.clock = clock
        self.world: World = build_world(state(app).db)
        self.secrets: dict[str, str] = {}
        with transaction(state(app).db) as db:
            for name, o in self.world.officers.items():
                self.secrets[name] = make_login_ready(db, db.get(Officer, o.officer.id), app)
        self._clients: dict[str, FlaskClient] = {}

    def client(self, who: str) -> FlaskClient:
        if who not in self._clients:
            c = self.app.test_client()
            login_as(c, Enrolled(self.world.officer_id(who), who, self.world.officers[who].passphrase,
                                 self.secrets[who]), self.clock)
            self._clients[who] = c
        return self._clients[who]


@pytest.fixture
def office(app: Flask, clock: Clock) -> Office:
    return Office(app, clock)


def post_action(c: FlaskClient, case_id: str, action: str, version: int | None = None,
                **fields: str) -> tuple[int, str]:
    page = c.get(f"/officer/cases/{case_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    if version is None:
        version = int(re.search(r'name="version" value="(\d+)"', page).group(1))
    resp = c.post(f"/officer/cases/{case_id}/action",
                  data={"csrf_token": token, "action": action, "version": str(version), **fields})
    return resp.status_code, resp.get_data(as_text=True)


def test_inbox_lists_only_cases_of_the_officers_teams(office: Office) -> None:
    mine, _ = office.world.file(what="Pungutan liar di loket perizinan.")
    theirs, _ = office.world.file(unit="KANWIL", what="Antrean dijual calo.")
    ver = office.client("ver").get("/officer/cases")
    assert ver.status_code == 200
    html = ver.get_data(as_text=True)
    assert "Pungutan liar di loket perizinan." in html and "Antrean dijual calo." not in html
    assert office.world.case(mine).register_no in html
    # another unit's officer: nothing in the inbox, and the case page is a plain 404
    kw = office.client("pk_kw")
    assert "Pungutan" not in kw.get("/officer/cases").get_data(as_text=True)
    assert kw.get(f"/officer/cases/{mine}").status_code == 404
    assert kw.get(f"/officer/cases/{'f' * 32}").status_code == 404
    assert office.client("ver_kw").get(f"/officer/cases/{theirs}").status_code == 200


def test_bad_filters_are_a_400_not_a_500(office: Office) -> None:
    c = office.client("ver")
    for query in ("status=nope", "category=x", "unit=abc", "due_before=31-12-2026", "after=%%%"):
        assert c.get(f"/officer/cases?{query}").status_code == 400, query
    assert c.get("/officer/cases?late=1&status=all&kind=complaint").status_code == 200


def test_case_page_shows_report_thread_history_and_allowed_actions(office: Office) -> None:
    case_id, _ = office.world.file(what="Kepala seksi meminta uang.")
    html = office.client("ver").get(f"/officer/cases/{case_id}").get_data(as_text=True)
    assert "Kepala seksi meminta uang." in html and "Pak Budi" in html
    assert 'id="action-start_verification"' in html and 'id="action-forward_pyb"' not in html
    assert "filed" in html and 'id="deadline"' in html
    assert "Content-Security-Policy" in office.client("ver").get(f"/officer/cases/{case_id}").headers


def test_actions_through_the_form_and_refusals(office: Office) -> None:
    case_id, _ = office.world.file()
    c = office.client("ver")
    status, _ = post_action(c, case_id, "start_verification")
    assert status == 303 and office.world.case(case_id).status == "verification"
    # a request for data without its message: 422 with the reason, nothing changed
    status, body = post_action(c, case_id, "request_data")
    assert status == 422 and 'id="error"' in body and office.world.case(case_id).status == "verification"
    # a form rendered before someone else acted: 409 "reload", never a 500
    status, body = post_action(c, case_id, "request_data", version=1, message="Kapan?")
    assert status == 409 and 'id="case-changed"' in body
    status, _ = post_action(c, case_id, "forward_unit", unit_id=str(office.world.units["KANWIL"]))
    assert status == 303 and office.world.case(case_id).status == "forwarded_unit"
    # now the KANWIL pengkaji team holds it
    assert office.client("pk_kw").get(f"/officer/cases/{case_id}").status_code == 200
    status, _ = post_action(office.client("pk_kw"), case_id, "answer", message="Sudah dibenahi.")
    assert status == 303 and office.world.case(case_id).status == "answered"
    # roles: the PYB cannot even see it; the verifikator may not answer twice
    assert office.client("pyb").get(f"/officer/cases/{case_id}").status_code == 404
    status, _ = post_action(c, case_id, "answer", message="lagi")
    assert status == 422


def test_message_note_and_checklist_forms(office: Office) -> None:
    case_id, _ = office.world.file()
    c = office.client("ver")
    token = csrf(c, f"/officer/cases/{case_id}")
    assert c.post(f"/officer/cases/{case_id}/message", data={
        "csrf_token": token, "body": "Mohon sebutkan nomor loket.", "internal": "0"}).status_code == 303
    assert c.post(f"/officer/cases/{case_id}/message", data={
        "csrf_token": token, "body": "Catatan: cek CCTV.", "internal": "1"}).status_code == 303
    assert c.post(f"/officer/cases/{case_id}/message", data={
        "csrf_token": token, "body": "", "internal": "0"}).status_code == 422
    assert c.post(f"/officer/cases/{case_id}/checklist", data={
        "csrf_token": token, "ok_what": "1", "note_who": "nama belum lengkap"}).status_code == 303
    html = c.get(f"/officer/cases/{case_id}").get_data(as_text=True)
    assert "Catatan: cek CCTV." in html and "nama belum lengkap" in html
    reporter = [t for _, t in office.world.thread(case_id)]
    assert any("nomor loket" in t for t in reporter) and not any("CCTV" in t for t in reporter)


def _attach(app: Flask, world: World, case_id: str, data: bytes, name: str) -> str:
    store = AttachmentStore(state(app).config.attachments_dir)
    file_key = crypto.generate_key()
    pending = store.create_tmp()
    crypto.encrypt_stream(file_key, io.BytesIO(data), pending.file, aad=b"")
    storage_name = store.commit(pending)
    cipher = world.cipher(case_id)
    att_id = new_id()
    with transaction(state(app).db) as db:
        db.add(Attachment(id=att_id, case_id=case_id, message_id=None, storage_name=storage_name,
                          size=len(data) + 64, key_blob=cipher.seal("filekey", att_id, file_key),
                          meta_blob=cipher.seal_json("attachment", att_id, {
                              "name": name, "type": "text/html", "plain_size": len(data)})))
    return att_id


def test_attachment_download_is_streamed_and_never_inline(office: Office) -> None:
    case_id, _ = office.world.file()
    data = b"<html><script>alert(1)</script></html>" * 5000
    att_id = _attach(office.app, office.world, case_id, data, "bukti \"kuitansi\".html")
    c = office.client("ver")
    assert f"/officer/cases/{case_id}/files/{att_id}" in c.get(f"/officer/cases/{case_id}").get_data(as_text=True)
    resp = c.get(f"/officer/cases/{case_id}/files/{att_id}")
    assert resp.status_code == 200 and resp.is_streamed
    assert resp.get_data() == data
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert '"bukti _kuitansi_.html"' in resp.headers["Content-Disposition"]
    assert resp.mimetype == "application/octet-stream"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    # another unit's officer, or the right officer with another case's id: 404
    assert office.client("pk_kw").get(f"/officer/cases/{case_id}/files/{att_id}").status_code == 404
    other, _ = office.world.file()
    assert c.get(f"/officer/cases/{other}/files/{att_id}").status_code == 404
    assert c.get(f"/officer/cases/{case_id}/files/{'0' * 32}").status_code == 404


def test_officer_names_never_reach_the_reporter_thread(office: Office) -> None:
    case_id, _ = office.world.file(category=Category.POOR_PUBLIC_SERVICE)
    c = office.client("ver")
    post_action(c, case_id, "start_verification")
    token = csrf(c, f"/officer/cases/{case_id}")
    c.post(f"/officer/cases/{case_id}/message", data={"csrf_token": token, "body": "Halo.", "internal": "0"})
    with transaction(state(office.app).db) as db:
        officer_msgs = db.scalars(select(Message).where(Message.case_id == case_id,
                                                        Message.author == "officer")).all()
        assert officer_msgs and all(m.officer_id == office.world.officer_id("ver") for m in officer_msgs)
        assert db.get(Case, case_id).status == "verification"
    for author, text in office.world.thread(case_id):
        assert "Ver" not in text
