"""Shared helpers for the reporter web tests (imported, not a conftest: other suites own that)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.factories import TeamWithKey, make_team, make_unit
from whistle.db import transaction
from whistle.web.state import state

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
TICKET_RE = re.compile(r'<span class="group">([0-9A-Z]{4})</span>')


@dataclass
class Org:
    unit_id: int
    teams: dict[str, TeamWithKey]


def make_org(app: Flask, roles: tuple[str, ...] = ("verifikator", "uki", "pyb"),
             code: str = "PUSAT", name: str = "Unit Pusat") -> Org:
    with transaction(state(app).db) as db:
        unit = make_unit(db, code, name)
        return Org(unit.id, {r: make_team(db, unit, r) for r in roles})


def csrf(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert m, "no csrf token"
    return m.group(1)


def good_form(**kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "whistleblowing", "category": "abuse_of_authority", "who": "Pak Budi",
        "who_position": "Kepala Seksi Perizinan", "what": "Meminta uang pelicin untuk menerbitkan izin usaha.",
        "when": "Maret 2026", "where": "Kantor Pelayanan Terpadu", "how": "Diminta tunai di ruangannya.",
        "anonymity": "anonymous",
    }
    data.update(kw)
    return data


def file_report(client: FlaskClient, data: dict[str, Any] | None = None,
                files: list[tuple[bytes, str]] | None = None) -> tuple[str, Any]:
    """POST the form; returns (ticket, response of the ticket page)."""
    html = client.get("/lapor").get_data(as_text=True)
    form = dict(data or good_form())
    form["csrf_token"] = csrf(html)
    if files:
        import io
        form["files"] = [(io.BytesIO(content), name) for content, name in files]
    resp = client.post("/lapor", data=form, content_type="multipart/form-data")
    assert resp.status_code == 303, resp.get_data(as_text=True)[:3000]
    page = client.get("/lapor/tiket")
    groups = TICKET_RE.findall(page.get_data(as_text=True))
    assert len(groups) == 5
    return "-".join(groups), page


def confirm(client: FlaskClient, page_html: str, typed: str) -> Any:
    return client.post("/lapor/tiket", data={"csrf_token": csrf(page_html), "typed": typed})


def login(client: FlaskClient, ticket: str) -> Any:
    html = client.get("/masuk").get_data(as_text=True)
    return client.post("/masuk", data={"csrf_token": csrf(html), "ticket": ticket})
