"""The single-use intake ticket in headless Chromium with JavaScript off: the penerima records a
phone report through the intake page and reads the ticket out; the reporter logs in with it,
is given a fresh ticket and confirms it; the intake ticket is then refused exactly like a wrong
one and the fresh ticket opens the case. The desk then tells the caller the status by register
number. Debian's /usr/bin/chromium (never `playwright install`); missing: skip, FAIL in CI."""
from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from tests.browser.test_officer_cases_browser import Desk
from tests.web.cases_world import World, build_world
from tests.web.officer_login import make_login_ready
from whistle.db import transaction
from whistle.domain.constants import Status, label
from whistle.models import Case, Officer
from whistle.web.state import state

pytestmark = pytest.mark.browser

WHAT = "Lewat telepon: petugas loket meminta uang tambahan untuk KTP elektronik."
NO_MATCH = "Tidak ada laporan yang cocok dengan tiket ini."  # "No report matches this ticket."


@pytest.fixture
def desk_world(app: Flask, db_backend: str) -> tuple[World, str]:
    if db_backend != "sqlite":
        pytest.skip("one backend is enough for the browser journey")
    world = build_world(state(app).db)
    with transaction(state(app).db) as db:
        secret = make_login_ready(db, db.get(Officer, world.officer_id("pen")), app)
    return world, secret


def reporter_logs_in(page, live: str, ticket: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live + "/masuk")
    page.fill("#ticket", ticket)
    page.click("form[action='/masuk'] button[type=submit]")
    page.wait_for_load_state("load")


def test_intake_ticket_is_replaced_at_the_first_log_in(browser: object, live: str,
                                                       desk_world: tuple[World, str]) -> None:
    world, secret = desk_world
    pen = Desk(browser, live, world, "pen", secret)
    pen.page.goto(live + "/officer/intake")
    pen.page.select_option("#channel", "phone")
    pen.page.select_option("#kind", "complaint")
    pen.page.select_option("#category", "maladministration")
    pen.page.fill("#f-what", WHAT)
    pen.page.click("#intake-form button[type=submit]")
    pen.page.wait_for_url("**/officer/intake/done")
    intake_ticket = pen.page.inner_text("#ticket").strip()
    register_no = pen.page.inner_text("#register-no").strip()
    assert pen.page.locator("#single-use").count() == 1

    ctx = browser.new_context(java_script_enabled=False)  # type: ignore[attr-defined]
    page = ctx.new_page()
    reporter_logs_in(page, live, intake_ticket)
    assert page.url.endswith("/lapor/tiket")
    assert page.locator("#replacing").count() == 1 and register_no in page.content()
    groups = page.locator(".ticket .group").all_inner_texts()
    fresh = "-".join(groups)
    assert len(groups) == 5 and fresh != intake_ticket
    page.fill("#typed", groups[-1])
    page.click("form[action='/lapor/tiket'] button[type=submit]")
    page.wait_for_load_state("load")
    assert page.url.endswith("/laporan") and register_no in page.content()
    page.click("form.logout button")
    page.wait_for_load_state("load")

    # the ticket the penerima read out: refused as if it never existed
    reporter_logs_in(page, live, intake_ticket)
    assert page.url.endswith("/masuk") and NO_MATCH in page.content()
    assert "tiket baru" not in page.content().lower()
    # the fresh ticket opens the case, again and again
    reporter_logs_in(page, live, fresh.lower())
    assert page.url.endswith("/laporan") and register_no in page.content()
    ctx.close()

    # the desk answers a caller: status label and deadline, never the content
    pen.page.goto(live + "/officer/intake/status")
    pen.page.fill("#register_no", register_no.lower())
    pen.page.click("#status-form button[type=submit]")
    pen.page.wait_for_load_state("load")
    assert pen.page.get_attribute("#case-status", "data-status") == "received"
    assert pen.page.inner_text("#case-status").strip() == label(Status.RECEIVED, "id")
    assert world.case(_case_id(world, register_no)).due_on.isoformat() == \
        pen.page.inner_text("#due-on").strip()
    assert "uang tambahan" not in pen.page.content()
    pen.close()


def _case_id(world: World, register_no: str) -> str:
    with transaction(world.factory) as db:
        return db.scalar(select(Case.id).where(Case.register_no == register_no))
