"""Identity escalation end to end through the pages in headless Chromium, JavaScript off, each
officer in their own browser context (own cookies, own encrypted session):

* request -> the PYB approves (with a reason) -> the UKI and PYB custodians release -> the
  requester sees the identity once -> a reload within the reading window shows it again ->
  a reload after the window shows it is gone, and opening again is refused;
* the consent path: the reporter consents on their case page -> an officer requests on that
  basis (no PYB) -> both custodians release -> opened -> the reporter's page lists the opening
  with its date and role, never a name.

States are read from stable ids/attributes, not from UI strings. In CI a missing Chromium or
playwright fails instead of skipping.
"""
from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask

import tests.web.cases_world as cases_world
from tests.browser.test_officer_cases_browser import Desk
from tests.web.cases_world import World, build_world
from tests.web.officer_login import make_login_ready
from whistle.db import transaction
from whistle.models import Officer
from whistle.services.reporter import reports
from whistle.web.state import state

pytestmark = pytest.mark.browser

IDENTITY = {"name": "Rahmat Hidayat", "nik": "3201010101010001", "phone": "081234567890"}
REASON = "Keterangan pelapor diperlukan sebagai saksi dalam pemeriksaan lapangan."
READING_SECONDS = 3


@pytest.fixture
def app(make_app: Any) -> Flask:
    return make_app(identity_reading_seconds=READING_SECONDS)


@pytest.fixture
def office(app: Flask, monkeypatch: pytest.MonkeyPatch) -> tuple[World, dict[str, str], str, str]:
    # Filed with the app's own pepper, so the reporter can log in through the page.
    monkeypatch.setattr(cases_world, "PEPPER", state(app).secrets.pepper)
    world = build_world(state(app).db)
    case_id, ticket = world.file(anonymity=reports.CONFIDENTIAL, identity=IDENTITY)
    with transaction(state(app).db) as db:
        secrets = {name: make_login_ready(db, db.get(Officer, o.officer.id), app)
                   for name, o in world.officers.items()}
    return world, secrets, case_id, ticket


def submit(desk: Desk, form: str) -> None:
    desk.page.click(f"{form} button[type=submit]")
    desk.page.wait_for_load_state("load")


def release(desk: Desk, live: str, detail: str) -> None:
    desk.page.goto(live + detail)
    assert desk.page.locator("#release-form").count() == 1, desk.page.content()[:2000]
    submit(desk, "#release-form")


def test_escalation_through_the_pages(live: str, browser: object, office: Any) -> None:
    world, secrets, case_id, _ = office
    ver = Desk(browser, live, world, "ver", secrets["ver"])
    ver.page.goto(live + f"/officer/cases/{case_id}")
    ver.page.click("#identity-request")
    ver.page.wait_for_load_state("load")
    ver.page.select_option("#basis", "witness")
    ver.page.fill("#basis_text", "Pasal 12 Peraturan Menteri PANRB 2019")
    ver.page.fill("#reason", REASON)
    submit(ver, "#identity-request-form")
    detail = ver.page.url[len(live):]
    assert ver.page.get_attribute("#status", "data-status") == "pending"

    pyb = Desk(browser, live, world, "pyb", secrets["pyb"])
    pyb.page.goto(live + detail)
    assert REASON in pyb.page.inner_text("#reason")
    pyb.page.fill("#decision_reason", "Pemeriksaan lapangan memerlukan keterangan pelapor.")
    pyb.page.click("#decide-form button[value=approve]")
    pyb.page.wait_for_load_state("load")
    assert pyb.page.get_attribute("#status", "data-status") == "approved"

    ver.page.goto(live + detail)
    assert ver.page.locator("#waiting").count() == 1 and ver.page.locator("#open-form").count() == 0
    uki = Desk(browser, live, world, "uki", secrets["uki"])
    release(uki, live, detail)
    release(pyb, live, detail)
    assert "Rahmat" not in uki.page.content() and "Rahmat" not in pyb.page.content()

    ver.page.goto(live + detail)
    assert "Rahmat" not in ver.page.content()  # a GET opens nothing
    submit(ver, "#open-form")
    assert ver.page.get_attribute("#status", "data-status") == "opened"
    assert "Rahmat Hidayat" in ver.page.inner_text("#identity")
    ver.page.reload()
    ver.page.wait_for_load_state("load")
    assert "Rahmat Hidayat" in ver.page.inner_text("#identity")  # within the reading window
    time.sleep(READING_SECONDS + 0.5)
    ver.page.reload()
    ver.page.wait_for_load_state("load")
    assert ver.page.locator("#identity").count() == 0 and ver.page.locator("#gone").count() == 1
    assert "Rahmat" not in ver.page.content()
    assert ver.page.locator("#open-form").count() == 0  # opening again needs a new request
    for desk in (ver, pyb, uki):
        desk.close()


def test_consent_path_through_the_pages(live: str, browser: object, office: Any) -> None:
    world, secrets, case_id, ticket = office
    context = browser.new_context(java_script_enabled=False)  # type: ignore[attr-defined]
    rep = context.new_page()
    rep.goto(live + "/masuk")
    rep.fill("#ticket", ticket)
    rep.click("form[action='/masuk'] button[type=submit]")
    rep.wait_for_load_state("load")
    assert rep.locator("#openings-none").count() == 1
    rep.check("#consent-give input[name=confirm]")
    rep.click("#consent-give button[type=submit]")
    rep.wait_for_load_state("load")
    assert rep.get_attribute("#consent-status", "data-consent") == "given"

    ver = Desk(browser, live, world, "ver", secrets["ver"])
    ver.page.goto(live + f"/officer/cases/{case_id}/identity")
    assert ver.page.locator("#consent-on-file").count() == 1
    ver.page.select_option("#basis", "consent")
    ver.page.fill("#reason", REASON)
    submit(ver, "#identity-request-form")
    detail = ver.page.url[len(live):]
    assert ver.page.get_attribute("#status", "data-status") == "approved"  # no PYB decision
    assert ver.page.get_attribute("#route", "data-consent") == "1"

    uki = Desk(browser, live, world, "uki", secrets["uki"])
    pyb = Desk(browser, live, world, "pyb", secrets["pyb"])
    release(uki, live, detail)
    release(pyb, live, detail)
    ver.page.goto(live + detail)
    submit(ver, "#open-form")
    assert "Rahmat Hidayat" in ver.page.inner_text("#identity")

    rep.goto(live + "/laporan")
    items = rep.locator("#openings li")
    assert items.count() == 1 and items.first.get_attribute("data-consent") == "1"
    text = items.first.inner_text()
    assert "Verifikator" in text and any(ch.isdigit() for ch in text)  # role and date
    assert "Sutrisno" not in rep.content()  # never a name
    assert rep.locator("#consent-withdraw").count() == 0  # used: nothing left to withdraw
    for desk in (ver, pyb, uki):
        desk.close()
    context.close()
