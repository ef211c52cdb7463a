"""The intake desk tells a caller the status of a case by its register number: the status label
and the deadline, nothing else, from plaintext metadata, each look-up audited (issue 7, 9)."""
from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.web.cases_world import PEPPER, World, build_world
from tests.web.officer_login import Clock, clock, csrf  # noqa: F401
from tests.web.test_cases_web import Office
from whistle.db import transaction
from whistle.domain.constants import Status, label
from whistle.models import AuditEntry, Case, Officer
from whistle.services.cases import intake
from whistle.web.state import state

WHAT = "Pungutan liar oleh petugas loket KTP di kecamatan."


@pytest.fixture
def world(factory: sessionmaker[Session]) -> World:
    return build_world(factory)


def audit_entries(factory: sessionmaker[Session]) -> list[AuditEntry]:
    with transaction(factory) as db:
        return list(db.scalars(select(AuditEntry).where(AuditEntry.action == "case.status_lookup")
                               .order_by(AuditEntry.id)))


@pytest.mark.parametrize("typed", ["WBS-2026-7QK2M9", " wbs-2026-7qk2m9 ", "WBS2026 7QK2M9",
                                   "wbs 2026 7qk2m9"])
def test_register_numbers_as_a_caller_reads_them(typed: str) -> None:
    assert intake.parse_register_no(typed) == "WBS-2026-7QK2M9"


def test_lookalikes_are_read_as_crockford_does() -> None:
    assert intake.parse_register_no("wbs-2026-oqk2ml") == "WBS-2026-0QK2M1"


@pytest.mark.parametrize("typed", ["", "   ", "WBS-26-7QK2M9", "WBS-2026-7QK2M", "WBS-2026-7QK2M99",
                                   "XYZ-2026-7QK2M9", "WBS-2026-7QKUM9", "WBS-2026-7QK2M9; DROP",
                                   "Siti Aminah 0812", "W" * 500, "WBS-２０２６-7QK2M9"])
def test_what_is_not_a_register_number_is_refused_and_not_audited(world: World, typed: str) -> None:
    with pytest.raises(intake.RegisterMalformed):
        intake.desk_status(world.factory, typed, officer_id=world.officer_id("pen"))
    assert audit_entries(world.factory) == []


def test_the_desk_reads_status_and_deadline_and_the_log_says_who_asked(world: World) -> None:
    case_id, _ = world.file(what=WHAT)
    case = world.case(case_id)
    pen = world.officer_id("pen")
    found = intake.desk_status(world.factory, case.register_no.lower(), officer_id=pen)
    assert found == intake.DeskStatus(case.register_no, Status.RECEIVED, case.due_on)
    # the status follows the case
    world.act("ver", case_id, "start_verification")
    moved = world.case(case_id)
    found = intake.desk_status(world.factory, case.register_no, officer_id=pen)
    assert (found.status, found.due_on) == (Status.VERIFICATION, moved.due_on)
    # an unknown number: a clear miss, audited too
    missing = "WBS-2026-ZZZZZZ" if case.register_no != "WBS-2026-ZZZZZZ" else "WBS-2026-YYYYYY"
    assert intake.desk_status(world.factory, missing, officer_id=pen) is None
    entries = audit_entries(world.factory)
    assert [(e.actor, e.object, e.detail) for e in entries] == [
        (f"officer:{pen}", f"case:{case_id}", f"register:{case.register_no}"),
        (f"officer:{pen}", f"case:{case_id}", f"register:{case.register_no}"),
        (f"officer:{pen}", None, f"register:{missing} unknown"),
    ]
    assert all("Pungutan" not in (e.detail or "") for e in entries)


def test_no_key_is_needed_and_none_is_used(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Plaintext metadata only: the look-up works with every decryption disabled."""
    import crypto

    case_id, _ = world.file()
    register_no = world.case(case_id).register_no

    def refuse(*a: object, **k: object) -> bytes:
        raise AssertionError("the desk decrypted something")

    monkeypatch.setattr(crypto, "decrypt", refuse)
    from crypto import keys
    monkeypatch.setattr(keys.PrivateKey, "unwrap", refuse)
    assert intake.desk_status(world.factory, register_no,
                              officer_id=world.officer_id("pen")).status is Status.RECEIVED


# -- over HTTP -------------------------------------------------------------------------------

@pytest.fixture
def office(app: Flask, clock: Clock) -> Office:
    return Office(app, clock)


def ask(c: FlaskClient, register_no: str):  # type: ignore[no-untyped-def]
    return c.post("/officer/intake/status",
                  data={"csrf_token": csrf(c, "/officer/intake/status"), "register_no": register_no})


def test_the_status_page_shows_label_and_deadline_only(office: Office) -> None:
    world = office.world
    case_id, _ = world.file(what=WHAT)
    world.act("ver", case_id, "start_verification")
    case = world.case(case_id)
    pen = office.client("pen")
    assert pen.get("/officer/intake/status").status_code == 200
    resp = ask(pen, case.register_no.lower())
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    status = re.search(r'<dd id="case-status" data-status="([a-z_]+)">([^<]+)</dd>', html)
    assert status.groups() == ("verification", label(Status.VERIFICATION, "id"))
    assert re.search(r'<dd id="due-on">([^<]+)</dd>', html).group(1) == case.due_on.isoformat()
    # nothing of the content, the unit or the people handling it
    with transaction(world.factory) as db:
        names = [o.display_name for o in db.scalars(select(Officer))]
    for secret in ["Pungutan liar", "Pak Budi", "Kepala Seksi", "Unit PUSAT", "PUSAT",
                   "verifikator", *names]:
        assert secret not in html, secret
    # English on request
    pen.get("/officer/login?lang=en")
    html = ask(pen, case.register_no).get_data(as_text=True)
    assert f'data-status="verification">{label(Status.VERIFICATION, "en")}<' in html


def test_bad_and_unknown_numbers_get_a_clear_message(office: Office) -> None:
    pen = office.client("pen")
    bad = ask(pen, "Bu Siti dari Kupang")
    assert bad.status_code == 422 and 'data-problem="malformed"' in bad.get_data(as_text=True)
    assert 'id="desk-status"' not in bad.get_data(as_text=True)
    unknown = ask(pen, "WBS-2026-ZZZZZZ")
    assert unknown.status_code == 404
    html = unknown.get_data(as_text=True)
    assert 'data-problem="unknown"' in html and 'id="desk-status"' not in html
    assert "Tidak ada laporan dengan nomor register ini" in html  # Indonesian first
    too_long = ask(pen, "WBS-2026-ZZZZZZ" + " " * 100 + "X")
    assert too_long.status_code == 422
    with transaction(state(office.app).db) as db:  # only the well-formed miss was audited
        assert db.scalar(select(func.count()).select_from(AuditEntry)
                         .where(AuditEntry.action == "case.status_lookup")) == 1


@pytest.mark.parametrize("who", ["ver", "pyb", "pk", "uki"])
def test_only_the_penerima_uses_the_desk(office: Office, who: str) -> None:
    case_id, _ = office.world.file()
    register_no = office.world.case(case_id).register_no
    c = office.client(who)
    assert c.get("/officer/intake/status").status_code == 403
    token = csrf(c, "/officer/account")
    assert c.post("/officer/intake/status", data={"csrf_token": token,
                                                  "register_no": register_no}).status_code == 403
    with transaction(state(office.app).db) as db:
        assert db.scalar(select(func.count()).select_from(AuditEntry)
                         .where(AuditEntry.action == "case.status_lookup")) == 0


def test_an_intake_case_can_be_looked_up_right_after_recording(world: World) -> None:
    done = intake.record(world.factory, {
        "channel": "letter", "received_on": "2026-03-17", "kind": "complaint",
        "category": "maladministration", "what": WHAT, "unit_id": str(world.units["PUSAT"])},
        officer_id=world.officer_id("pen"), pepper=PEPPER, today=date(2026, 3, 30))
    found = intake.desk_status(world.factory, done.register_no, officer_id=world.officer_id("pen"))
    assert found == intake.DeskStatus(done.register_no, Status.RECEIVED, done.due_on)
    with transaction(world.factory) as db:
        assert db.get(Case, done.case_id).status == "received"
