"""Headless Chromium, JavaScript off: a newcomer joins a custodian (UKI) team only after two
key holders approve in their own sessions, having compared the fingerprint the newcomer reads
from their own account page; and a holder's refusal drops a pending membership.

Fixtures ``live`` and ``browser``: tests/browser/conftest.py."""
from __future__ import annotations

import time

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

import crypto
from crypto import PrivateKey
from tests.factories import make_unit
from tests.web.officer_login import Enrolled, finish_enrolment
from whistle.db import transaction
from whistle.domain.constants import Role
from whistle.models import Officer, OfficerNotice, Team, TeamMember
from whistle.services.custody import membership, teams
from whistle.services.custody.casekeys import team_key_context
from whistle.services.people import accounts
from whistle.web.state import state

pytestmark = pytest.mark.browser


def _people(app: Flask) -> tuple[dict[str, Enrolled], int]:
    """Admin; UKI holders ani and budi (budi approved by ani); newcomers cici and dewi."""
    f = state(app).db
    out: dict[str, Enrolled] = {}
    with transaction(f) as db:
        unit = make_unit(db, "ITJEN", "Inspektorat Jenderal")
        admin, secret = accounts.create_first_admin(db, "root")
        out["root"] = finish_enrolment(app, db, admin.id, secret, "frasa sandi si admin")
        for name in ("ani", "budi", "cici", "dewi"):
            o, secret = accounts.create_officer(db, f"officer:{admin.id}", name, name.title(),
                                                Role.UKI, unit.id)
            out[name] = finish_enrolment(app, db, o.id, secret, f"frasa sandi rahasia {len(out)}")
        ani = db.get(Officer, out["ani"].id)
        budi = db.get(Officer, out["budi"].id)
        assert ani is not None and budi is not None and ani.sealed_private_key is not None
        team = teams.create_team(db, f"officer:{admin.id}", unit, Role.UKI, ani)
        teams.add_member(db, f"officer:{admin.id}", team, budi)
        keys = membership.held_team_keys(
            db, ani.id, crypto.open_sealed_key(ani.sealed_private_key, out["ani"].passphrase))
        assert membership.approve(db, ani, keys, team.id, budi.id, compared=True,
                                  fingerprint=membership.key_fingerprint(budi.public_key)  # type: ignore[arg-type]
                                  ).joined
        return out, team.id


def _log_in(browser: object, live: str, who: Enrolled) -> object:
    context = browser.new_context(java_script_enabled=False)  # type: ignore[attr-defined]
    context.add_cookies([{"name": "lang", "value": "en", "url": live}])
    page = context.new_page()
    page.goto(live + "/officer/login")
    page.fill("#username", who.username)
    page.fill("#passphrase", who.passphrase)
    # The enrolment spent the current step: the next one is inside the ±1 step window.
    page.fill("#code", pyotp.TOTP(who.totp_secret).at(time.time() + 30))
    page.click("form[action='/officer/login'] button[type=submit]")
    page.wait_for_load_state("load")
    assert "/officer/login" not in page.url, page.content()[:1500]
    return page


def _holds_key(app: Flask, who: Enrolled, team_id: int) -> bool:
    with transaction(state(app).db) as db:
        o = db.get(Officer, who.id)
        m = db.get(TeamMember, (team_id, who.id))
        if o is None or m is None or m.wrapped_key is None or o.sealed_private_key is None:
            return False
        key = crypto.open_sealed_key(o.sealed_private_key, who.passphrase)
        team_key = PrivateKey.from_bytes(key.unwrap(m.wrapped_key,
                                                    context=team_key_context(team_id)))
        team = db.get(Team, team_id)
        return team is not None and team_key.public_key().to_bytes() == team.public_key


def _decide(page: object, live: str, team_id: int, officer_id: int, expected_fp: str,
            action: str) -> None:
    page.goto(live + "/officer/account")  # type: ignore[attr-defined]
    page.click(f"a[href='/officer/team/{team_id}/members/{officer_id}']")  # type: ignore[attr-defined]
    page.wait_for_load_state("load")  # type: ignore[attr-defined]
    shown = page.inner_text("#fingerprint")  # type: ignore[attr-defined]
    assert shown == expected_fp  # "read aloud" by the newcomer and compared here
    assert "compare" in page.content().lower()  # type: ignore[attr-defined]
    if action == "approve":
        page.check("#compared")  # type: ignore[attr-defined]
        page.click("#approve")  # type: ignore[attr-defined]
    else:
        page.click("#refuse")  # type: ignore[attr-defined]
    page.wait_for_load_state("load")  # type: ignore[attr-defined]


def test_two_custodians_approve_a_newcomer_and_one_refuses_another(
        app: Flask, live: str, browser: object) -> None:
    people, team_id = _people(app)
    cici, dewi = people["cici"], people["dewi"]

    admin = _log_in(browser, live, people["root"])
    for newcomer in (cici, dewi):
        admin.goto(live + "/admin/teams")  # type: ignore[attr-defined]
        admin.select_option(f"#add-{team_id}", str(newcomer.id))  # type: ignore[attr-defined]
        admin.click(f"form[action='/admin/teams/{team_id}/members'] button[type=submit]")  # type: ignore[attr-defined]
        admin.wait_for_load_state("load")  # type: ignore[attr-defined]
    assert not _holds_key(app, cici, team_id) and not _holds_key(app, dewi, team_id)

    newcomer = _log_in(browser, live, cici)
    newcomer.goto(live + "/officer/account")  # type: ignore[attr-defined]
    cici_fp = newcomer.inner_text("#my-fingerprint")  # type: ignore[attr-defined]
    assert len(cici_fp.split()) == 8

    ani = _log_in(browser, live, people["ani"])
    assert not _holds_key(app, cici, team_id)  # a holder logging in hands nothing on
    _decide(ani, live, team_id, cici.id, cici_fp, "approve")
    assert "1 of 2" in ani.content()  # type: ignore[attr-defined]
    assert not _holds_key(app, cici, team_id)  # still pending after the first approval
    newcomer.goto(live + "/officer/account")  # type: ignore[attr-defined]
    assert "1 of 2 approvals given" in newcomer.content()  # type: ignore[attr-defined]

    budi = _log_in(browser, live, people["budi"])
    _decide(budi, live, team_id, cici.id, cici_fp, "approve")
    assert _holds_key(app, cici, team_id)
    newcomer.goto(live + "/officer/account")  # type: ignore[attr-defined]
    body = newcomer.content()  # type: ignore[attr-defined]
    assert "now holds the key" in body and ">held<" in body

    # The refusal path: ani refuses dewi; the membership is gone and dewi is told.
    with transaction(state(app).db) as db:
        dewi_fp = membership.key_fingerprint(db.get(Officer, dewi.id).public_key)  # type: ignore[union-attr,arg-type]
    _decide(ani, live, team_id, dewi.id, dewi_fp, "refuse")
    with transaction(state(app).db) as db:
        assert db.get(TeamMember, (team_id, dewi.id)) is None
        told = db.scalars(select(OfficerNotice.kind).where(
            OfficerNotice.officer_id == dewi.id)).all()
    assert "member_refused" in told
    assert not _holds_key(app, dewi, team_id)
    dewi_page = _log_in(browser, live, dewi)
    dewi_page.goto(live + "/officer/account")  # type: ignore[attr-defined]
    assert "refused" in dewi_page.content()  # type: ignore[attr-defined]
