"""Headless Chromium (Debian's /usr/bin/chromium via playwright) with JavaScript OFF: an officer
enrols (QR PNG served by us, secret read from the page), then logs in with a TOTP code
computed here. Fixtures ``live`` and ``browser``: tests/browser/conftest.py."""
from __future__ import annotations

import time

import pyotp
import pytest
from flask import Flask

from whistle.db import transaction
from whistle.domain.constants import Role
from whistle.services.people import accounts
from whistle.web.state import state
from tests.factories import make_unit

pytestmark = pytest.mark.browser

PASS = "perahu layar di teluk biru"


def test_enrol_then_log_in_without_javascript(app: Flask, live: str, browser: object) -> None:
    with transaction(state(app).db) as db:
        unit = make_unit(db)
        _, secret = accounts.create_officer(db, "test", "wati", "Wati", Role.VERIFIKATOR, unit.id)

    context = browser.new_context(java_script_enabled=False)  # type: ignore[attr-defined]
    page = context.new_page()
    pngs: list[tuple[int, str, str]] = []
    page.on("response", lambda r: pngs.append((r.status, r.headers.get("content-type", ""),
                                               r.headers.get("cache-control", "")))
            if r.url.endswith("/officer/enrol/qr.png") else None)

    page.goto(live + "/officer/enrol")
    page.fill("#username", "wati")
    page.fill("#secret", secret)
    page.click("button[type=submit]")
    page.wait_for_url("**/officer/enrol/setup")
    assert page.locator("img[src='/officer/enrol/qr.png']").count() == 1
    page.wait_for_load_state("load")
    assert pngs and pngs[0][0] == 200 and pngs[0][1] == "image/png" and "no-store" in pngs[0][2]
    totp_secret = page.inner_text("#totp-secret").replace(" ", "")
    otp = pyotp.TOTP(totp_secret)

    page.fill("#passphrase", PASS)
    page.fill("#confirm", PASS)
    page.fill("#code", otp.at(time.time()))
    page.click("button[type=submit]")
    page.wait_for_url("**/officer/login")
    assert page.locator("p.flash").count() == 1  # "enrolment complete", in either language

    # The enrolment code's step is spent: log in with the next step's code (±1 step drift).
    page.fill("#username", "wati")
    page.fill("#passphrase", PASS)
    page.fill("#code", otp.at(time.time() + 30))
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    assert "/officer/login" not in page.url, page.content()[:2000]
    page.goto(live + "/officer/account")
    assert "wati" in page.content()
    cookies = context.cookies()
    session_cookie = [c for c in cookies if c["name"] == "whistle"]
    assert session_cookie and session_cookie[0]["httpOnly"] and session_cookie[0]["sameSite"] == "Strict"

    page.click("nav.officer button[type=submit]")  # log out (a POST form, no JavaScript)
    page.wait_for_url("**/officer/login")
    page.goto(live + "/officer/account")
    assert "/officer/login" in page.url
    context.close()
