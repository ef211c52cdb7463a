"""Every role lands, after log-in, on a page it may use (never a 403)."""
from __future__ import annotations

import pytest
from flask import Flask

from tests.factories import make_unit
from tests.web.officer_login import Clock, clock, enrol, login_as  # noqa: F401
from whistle.db import transaction
from whistle.domain.constants import Role
from whistle.web.state import state


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_landing_page_answers_200(app: Flask, clock: Clock, role: str) -> None:
    with transaction(state(app).db) as db:
        unit = make_unit(db, "PUSAT", "Pusat").id
    who = enrol(app, f"{role}-1", role, None if role in ("admin", "auditor") else unit)
    c = app.test_client()
    resp = login_as(c, who, clock)
    landing = resp.headers["Location"]
    assert c.get(landing).status_code == 200, (role, landing)


def test_officer_nav_has_a_space_before_every_separator(app: Flask, clock: Clock) -> None:
    import re

    who = enrol(app, "admin-nav", "admin", None)
    c = app.test_client()
    login_as(c, who, clock)
    html = c.get("/admin/").get_data(as_text=True)
    nav = re.search(r'<nav class="officer"[^>]*>(.*?)</nav>', html, re.S).group(1)
    text = re.sub(r"<[^>]+>", "", nav)
    assert "|" in text and not re.search(r"\S\|", text), text


def test_receipt_has_one_charset(app: Flask) -> None:
    from tests.web.reporter_helpers import file_report, make_org

    make_org(app)
    c = app.test_client()
    file_report(c)
    resp = c.get("/lapor/tanda-terima.txt")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_system_notices_show_one_language(app: Flask) -> None:
    """A notice with an officer's message inside (blank lines and all) is shown in the
    viewer's language only, on the reporter's page."""
    from tests.web.cases_world import PEPPER  # noqa: F401
    from tests.web.reporter_helpers import confirm, file_report, login, make_org  # noqa: F401
    from whistle.domain.constants import Text, bilingual, one_language

    stored = bilingual(Text("Kami memerlukan keterangan:\n\nfoto kuitansi", "We need more:\n\nfoto kuitansi"))
    assert one_language(stored, "id") == "Kami memerlukan keterangan:\n\nfoto kuitansi"
    assert one_language(stored, "en") == "We need more:\n\nfoto kuitansi"
    assert one_language("plain text\n\nwith a blank line", "en") == "plain text\n\nwith a blank line"
    with app.test_request_context("/?lang=en"):
        from flask import render_template_string

        assert render_template_string("{{ s|one_language }}", s=stored) in (
            "Kami memerlukan keterangan:\n\nfoto kuitansi", "We need more:\n\nfoto kuitansi")
