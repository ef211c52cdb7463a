"""The public procedure page (generated from the workflow table and the office's settings), the
reporter's printable copy, and the scope text on the report form."""
from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.reporter_helpers import file_report, good_form, login, make_org
from whistle.config import ConfigError, load_config
from whistle.domain.constants import Channel, InvestigationTier, NotFollowableReason, Status, label
from whistle.domain.procedure import CONTENTS, RIGHTS, SCOPE


def _step(html: str, status: Status) -> str:
    m = re.search(rf'<li id="step-{status.value}">(.*?)</li>', html, re.S)
    assert m, status
    return m.group(1)


def _no_external_or_script(html: str) -> None:
    assert "<script" not in html.lower()
    assert not re.search(r'(src|href)="(https?:)?//', html), "external resource"


def test_procedure_page_shows_channels_contents_steps_outcomes_and_rights(client: FlaskClient) -> None:
    resp = client.get("/tata-cara")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    _no_external_or_script(html)
    for channel in Channel:
        assert label(channel, "id") in html, channel
    assert "Media sosial" in html and "Saluran pengaduan resmi lainnya" in html
    for text in (SCOPE, *CONTENTS, *RIGHTS):
        assert text.id in html
    for status in Status:
        assert f'id="step-{status.value}"' in html and label(status, "id") in html
    assert "3 hari kerja sejak laporan diterima" in _step(html, Status.VERIFICATION)
    awaiting = _step(html, Status.AWAITING_DATA)
    assert "10 hari kerja" in awaiting and "Diarsipkan" in awaiting
    assert label(Status.NOT_FOLLOWABLE, "id") not in awaiting  # not this office's ending
    investigation = _step(html, Status.INVESTIGATION)
    for tier in InvestigationTier:
        assert label(tier, "id") in investigation
    assert "sejak laporan diterima unit yang menanganinya" in investigation
    for reason in NotFollowableReason:
        if reason is not NotFollowableReason.OTHER:
            assert label(reason, "id") in html
    assert "Identitas aparat yang dilaporkan, termasuk jabatannya." in html


def test_procedure_page_follows_the_sipuma_setting(make_app: Callable[..., Flask]) -> None:
    app = make_app(data_request_policy="sipuma", data_request_calendar_days=14)
    awaiting = _step(app.test_client().get("/tata-cara").get_data(as_text=True), Status.AWAITING_DATA)
    assert "14 hari kalender" in awaiting and "hari kerja" not in awaiting
    assert label(Status.NOT_FOLLOWABLE, "id") in awaiting and "Diarsipkan" not in awaiting


def test_procedure_page_counts_the_configured_days(make_app: Callable[..., Flask]) -> None:
    app = make_app(data_request_days=12)
    awaiting = _step(app.test_client().get("/tata-cara").get_data(as_text=True), Status.AWAITING_DATA)
    assert "12 hari kerja" in awaiting


def test_procedure_page_in_english(client: FlaskClient) -> None:
    html = client.get("/tata-cara?lang=en", follow_redirects=True).get_data(as_text=True)
    assert SCOPE.en in html and "Social media (Facebook, Instagram)" in html
    assert "3 working days from the day the report was received" in _step(html, Status.VERIFICATION)


def test_bad_data_request_policy_is_refused_at_start_up() -> None:
    with pytest.raises(ConfigError, match="DATA_REQUEST_POLICY"):
        load_config({"WHISTLE_DATA_REQUEST_POLICY": "fourteen"})
    assert load_config({"WHISTLE_DATA_REQUEST_POLICY": "sipuma"}).data_request_policy == "sipuma"


def test_report_form_states_the_scope_and_asks_the_position(client: FlaskClient, app: Flask) -> None:
    make_org(app)
    html = client.get("/lapor").get_data(as_text=True)
    assert SCOPE.id in html and 'href="/tata-cara"' in html
    who, position = html.index('for="who"'), html.index('for="who_position"')
    assert who < position < html.index('for="what"')  # asked right after the name
    assert "Jabatan" in html[position:position + 300] or "jabatan" in html[position:position + 300]
    assert 'href="/tata-cara"' in client.get("/").get_data(as_text=True)


# -- the printable copy --------------------------------------------------------------------------

IDENTITY_NAME = "Siti Rahayu CANARYPRINT"


def _reporter(app: Flask, client: FlaskClient) -> str:
    make_org(app)
    ticket, _ = file_report(client, good_form(
        anonymity="confidential", name=IDENTITY_NAME, phone="0812 3456 7890",
        who="Pak Budi Santoso", who_position="Kepala Seksi Perizinan",
        w1_name="Saksi CANARYWITNESS"))
    client.get("/keluar")
    fresh = app.test_client()
    assert login(fresh, ticket).status_code == 303
    return ticket, fresh  # type: ignore[return-value]


def test_print_copy_holds_the_report_not_the_identity_nor_the_ticket(app: Flask, client: FlaskClient) -> None:
    ticket, reporter = _reporter(app, client)
    case_page = reporter.get("/laporan").get_data(as_text=True)
    assert 'id="print-link"' in case_page and 'href="/laporan/cetak"' in case_page
    resp = reporter.get("/laporan/cetak")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    _no_external_or_script(html)
    assert 'media="print"' in html and "print.css" in html
    assert 'id="print-warning"' in html and "risiko" in html
    for text in ("Pak Budi Santoso", "Kepala Seksi Perizinan", "Meminta uang pelicin", "Maret 2026",
                 "Kantor Pelayanan Terpadu", "Diminta tunai di ruangannya."):
        assert text in html, text
    assert 'id="identity-omitted"' in html and 'id="identity-section"' not in html
    for secret in (IDENTITY_NAME, "0812 3456 7890", "CANARYWITNESS", ticket, ticket.replace("-", "")):
        assert secret not in html
    shown = reporter.get("/laporan/cetak?identitas=1").get_data(as_text=True)
    assert 'id="identity-section"' in shown and "Anda memberikan identitas" in shown
    assert IDENTITY_NAME not in shown and "CANARYWITNESS" not in shown
    assert reporter.get("/static/print.css").status_code == 200


def test_print_copy_needs_the_ticket(client: FlaskClient) -> None:
    resp = client.get("/laporan/cetak")
    assert resp.status_code == 303 and "/masuk" in resp.headers["Location"]


def test_print_copy_in_english(app: Flask, client: FlaskClient) -> None:
    _, reporter = _reporter(app, client)
    html = reporter.get("/laporan/cetak?lang=en", follow_redirects=True).get_data(as_text=True)
    assert "Copy of your report" in html and "A printed copy is a risk" in html
