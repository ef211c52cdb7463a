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
