"""Intake by the penerima: past arrival dates, channels, identity sealed like the web, ticket once."""
from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.web.cases_world import PEPPER, World, build_world
from tests.web.officer_login import Clock, clock, csrf  # noqa: F401
from tests.web.test_cases_web import Office
from whistle.db import transaction
from whistle.models import AuditEntry, Case, CaseKeyWrap, Event, IdentityBlob, IdentityShare
from whistle.services.reporter import followup
from whistle.services.cases import intake
from whistle.services.cases.calendar import local_date, today as local_today
from whistle.web.state import state

TODAY = date(2026, 3, 30)


@pytest.fixture
def world(factory: sessionmaker[Session]) -> World:
    return build_world(factory)


def form(**kw: str) -> dict[str, str]:
    base = {"channel": "letter", "received_on": "2026-03-17", "kind": "complaint",
            "category": "maladministration", "what": "Surat: pungutan di loket KTP.",
            "who": "Petugas loket 2", "when": "Februari 2026", "where": "Kecamatan", "how": "Tunai"}
    base.update(kw)
    return base


def test_a_letter_received_before_lebaran_counts_from_its_arrival(world: World) -> None:
    pen = world.officer_id("pen")
    done = intake.record(world.factory, form(unit_id=str(world.units["PUSAT"])), officer_id=pen,
                         pepper=PEPPER, today=TODAY)
    case = world.case(done.case_id)
    assert case.channel == "letter" and case.status == "received"
    assert local_date(case.received_at) == date(2026, 3, 17) == case.step_started_on
    assert case.due_on == date(2026, 3, 27) == done.due_on  # 3 working days after 17 March
    # the ticket handed over finds the case on the web, once (tests/web/test_intake_ticket.py)
    with pytest.raises(followup.MustReplace) as first:
        followup.login(world.factory, done.ticket, pepper=PEPPER)
    assert first.value.replacement.case_id == done.case_id
    with transaction(world.factory) as db:
        wraps = {w.team_id for w in db.scalars(select(CaseKeyWrap).where(CaseKeyWrap.case_id == case.id))}
        assert wraps == {None, world.teams[("PUSAT", "verifikator")].team.id}  # never the penerima
        ev = db.scalars(select(Event).where(Event.case_id == case.id)).one()
        assert (ev.action, ev.actor, ev.officer_id) == ("filed", "officer", pen)
        entry = db.scalars(select(AuditEntry).where(AuditEntry.object == f"case:{case.id}")).one()
        assert entry.actor == f"officer:{pen}" and entry.detail == "intake:letter"
    assert "pungutan di loket KTP" in world.field(case.id, "what")


@pytest.mark.parametrize("bad,field", [
    ({"received_on": "2026-03-31"}, "received_on"),  # tomorrow
    ({"received_on": "17/03/2026"}, "received_on"),
    ({"received_on": "2024-01-02"}, "received_on"),
    ({"channel": "web"}, "channel"),
    ({"channel": "pigeon"}, "channel"),
    ({"what": "  "}, "what"),
    ({"kind": "x"}, "kind"),
    ({"category": ""}, "category"),
    ({"anonymity": "confidential"}, "id_name"),
    ({"what": "x" * 10_001}, "what"),
])
def test_bad_intake_is_refused_and_writes_nothing(world: World, bad: dict[str, str], field: str) -> None:
    with pytest.raises(intake.IntakeInvalid) as err:
        intake.record(world.factory, form(**bad), officer_id=world.officer_id("pen"), pepper=PEPPER,
                      today=TODAY)
    assert field in err.value.errors
    with transaction(world.factory) as db:
        assert db.scalar(select(func.count()).select_from(Case)) == 0


def test_identity_given_at_intake_is_sealed_like_the_web(world: World) -> None:
    done = intake.record(world.factory, form(anonymity="confidential", id_name="Siti Aminah",
                                             unit_id=str(world.units["PUSAT"]),
                                             id_phone="0812-0000-1111", w_name="Pak Joko"),
                         officer_id=world.officer_id("pen"), pepper=PEPPER, today=TODAY)
    with transaction(world.factory) as db:
        case = db.get(Case, done.case_id)
        assert case.has_identity and case.has_witnesses and case.anonymity == "confidential"
        blobs = db.scalars(select(IdentityBlob).where(IdentityBlob.case_id == case.id)).all()
        assert {b.kind for b in blobs} == {"identity", "witnesses"}
        assert all(b"Siti" not in b.blob and b"Joko" not in b.blob for b in blobs)
        shares = db.scalars(select(IdentityShare).where(IdentityShare.case_id == case.id)).all()
        assert {s.team_id for s in shares} == {world.teams[("PUSAT", "uki")].team.id,
                                               world.teams[("PUSAT", "pyb")].team.id}
    assert all("Siti" not in t for _, t in world.thread(done.case_id))


# -- over HTTP -------------------------------------------------------------------------------

@pytest.fixture
def office(app: Flask, clock: Clock) -> Office:
    return Office(app, clock)


def test_intake_pages_show_the_ticket_once(office: Office) -> None:
    c = office.client("pen")
    assert c.get("/officer/intake").status_code == 200
    assert c.get("/officer/cases").status_code == 403  # a penerima has no inbox
    token = csrf(c, "/officer/intake")
    bad = c.post("/officer/intake", data={**form(received_on="2999-01-01"), "csrf_token": token})
    assert bad.status_code == 422 and 'id="err-received_on"' in bad.get_data(as_text=True)
    today = local_today().isoformat()
    resp = c.post("/officer/intake", data={**form(received_on=today, channel="phone"),
                                           "unit_id": str(office.world.units["PUSAT"]), "csrf_token": token})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/officer/intake/done")
    html = c.get("/officer/intake/done").get_data(as_text=True)
    ticket = re.search(r'id="ticket">([^<]+)<', html).group(1)
    register_no = re.search(r'id="register-no">([^<]+)<', html).group(1)
    assert 'id="already-shown"' in c.get("/officer/intake/done").get_data(as_text=True)
    with pytest.raises(followup.MustReplace) as first:
        followup.login(office.world.factory, ticket, pepper=state(office.app).secrets.pepper)
    case = office.world.case(first.value.replacement.case_id)
    assert 'id="single-use"' in html
    assert case.register_no == register_no and case.channel == "phone"
    # the penerima cannot open what they recorded; the verifikator can
    assert c.get(f"/officer/cases/{case.id}").status_code == 403
    assert office.client("ver").get(f"/officer/cases/{case.id}").status_code == 200
    assert office.client("ver").get("/officer/intake").status_code == 403
