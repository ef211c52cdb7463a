"""From nothing to a report with an identity, in headless Chromium with JavaScript off, with no
step done behind the UI's back: the first admin enrols with the secret `whistle init` prints,
follows the set-up checklist through the guided first unit, the three officers enrol with
their one-time secrets (each founding their team), and a reporter files a confidential report.
"""
from __future__ import annotations

import re
import time
from typing import Any

import pyotp
import pytest
from flask import Flask

from whistle.db import transaction
from whistle.services.people import accounts
from whistle.web.state import state

pytestmark = pytest.mark.browser

PASS = "perahu layar di teluk biru"


def _enrol(browser: Any, live: str, username: str, secret: str) -> pyotp.TOTP:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live + "/officer/enrol")
    page.fill("#username", username)
    page.fill("#secret", secret)
    page.click("button[type=submit]")
    page.wait_for_url("**/officer/enrol/setup")
    otp = pyotp.TOTP(page.inner_text("#totp-secret").replace(" ", ""))
    page.fill("#passphrase", PASS)
    page.fill("#confirm", PASS)
    page.fill("#code", otp.at(time.time()))
    page.click("button[type=submit]")
    page.wait_for_url("**/officer/login")
    context.close()
    return otp


def test_from_a_fresh_instance_to_a_report_with_an_identity(app: Flask, live: str, browser: Any) -> None:
    with transaction(state(app).db) as db:  # what `whistle init` does: a secret, no password
        _, admin_secret = accounts.create_first_admin(db)
    otp = _enrol(browser, live, "admin", admin_secret)

    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live + "/officer/login")
    page.fill("#username", "admin")
    page.fill("#passphrase", PASS)
    page.fill("#code", otp.at(time.time() + 30))
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    page.goto(live + "/admin/")
    assert page.locator("#setup-not-ready").count() == 1, (page.url, page.content()[:1500])
    assert page.locator("#step-unit.todo").count() == 1

    # The reporter's button says "not accepting" right now.
    reporter = browser.new_context(java_script_enabled=False).new_page()

    page.click("#first-unit-link a")
    page.wait_for_url("**/admin/first-unit")
    page.fill("#code", "PUSAT")
    page.fill("#name", "Kantor Pusat")
    for role in ("verifikator", "uki", "pyb"):
        page.fill(f"#{role}_username", f"{role}1")
        page.fill(f"#{role}_name", f"Petugas {role.upper()}")
    page.click("main button[type=submit], form[action$='first-unit'] button[type=submit]")
    page.wait_for_load_state("load")
    html = page.content()
    found = re.findall(r'<td>([a-z]+1)</td><td class="ticket" id="secret-[^"]*">([^<]+)</td>', html)
    assert len(found) == 3, html[-2000:]

    resp = page.goto(live + "/admin/")
    assert page.locator("#setup-not-ready").count() == 1, (resp.status, page.url, [c["name"] for c in context.cookies()], page.content()[-800:])  # nobody enrolled yet
    for username, secret in found:
        _enrol(browser, live, username, secret)
    page.goto(live + "/admin/")
    assert page.locator("#setup-ready").count() == 1, page.content()[:3000]

    reporter.goto(live + "/lapor")
    reporter.check("input[name=kind][value=whistleblowing]")
    reporter.select_option("#category", "abuse_of_authority")
    reporter.fill("#who", "Pak Budi")
    reporter.fill("#who_position", "Kepala Seksi")
    reporter.fill("#what", "Meminta uang pelicin untuk izin usaha.")
    reporter.fill("#when", "Maret 2026")
    reporter.fill("#where", "Kantor Pelayanan")
    reporter.fill("#how", "Diminta tunai di ruangannya.")
    reporter.check("input[name=anonymity][value=confidential]")
    reporter.fill("#name", "Siti Pelapor")
    reporter.fill("#phone", "0812000000")
    reporter.click("form[action$='/lapor'] button[type=submit], main form button[type=submit]")
    reporter.wait_for_load_state("load")
    assert "/lapor/tiket" in reporter.url, reporter.content()[:3000]
    assert reporter.locator("#ticket, .ticket").count() >= 1
    context.close()
