"""The intake ticket is single-use (issue 7 item 5): the reporter's first log-in with the ticket
the penerima handed over gives a fresh ticket, and once it is confirmed the intake ticket opens
nothing, checked against the database rows themselves and through the routes."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

import crypto
from crypto import CryptoError
from tests.concurrency import run_at_once
from tests.test_migrations import fill
from tests.web.cases_world import PEPPER, World, build_world
from tests.web.officer_login import Clock, clock, csrf  # noqa: F401
from tests.web.reporter_helpers import TICKET_RE, confirm
from tests.web.reporter_helpers import csrf as page_csrf
from tests.web.reporter_helpers import login as reporter_login
from tests.web.test_cases_web import Office
from whistle.cli import alembic_config
from whistle.config import Config
from whistle.db import Conflict, make_engine, transaction
from whistle.models import AuditEntry, Case, CaseKeyWrap, Message, Officer
from whistle.services.cases import intake
from whistle.services.cases import transitions as cases
from whistle.services.cases.calendar import today as local_today
from whistle.services.custody.casekeys import CaseCipher, unwrap_for_ticket
from whistle.services.reporter import followup
from whistle.services.reporter.intake_ticket import Replacement
from whistle.web.state import state

TODAY = date(2026, 3, 30)
SECRET_LATER = "Pemeriksaan lapangan dijadwalkan Kamis; saksi kedua bersedia."


@pytest.fixture
def world(factory: sessionmaker[Session]) -> World:
    return build_world(factory)


def record(world: World, **kw: str) -> intake.Recorded:
    form = {"channel": "phone", "received_on": "2026-03-27", "kind": "complaint",
            "category": "maladministration", "what": "Telepon: pungutan liar di loket KTP.",
            "unit_id": str(world.units["PUSAT"])} | kw
    return intake.record(world.factory, form, officer_id=world.officer_id("pen"), pepper=PEPPER,
                         today=TODAY)


def offered(world: World, ticket: str) -> Replacement:
    with pytest.raises(followup.MustReplace) as exc:
        followup.login(world.factory, ticket, pepper=PEPPER)
    return exc.value.replacement


def officer_says(world: World, case_id: str, body: str) -> None:
    with transaction(world.factory) as db:
        cases.post_message(db, officer=db.get(Officer, world.officer_id("ver")),
                           team_keys=world.keys("ver"), case_id=case_id, body=body,
                           internal=False)


# -- the database copy -----------------------------------------------------------------------

@dataclass(frozen=True)
class Copy:
    """What a copy of the database holds for the ticket attack: every case's lookup id, salt and
    Argon2 record, every ticket wrap, and every message (read with plain SQL, no ORM)."""

    cases: list[Any]
    ticket_wraps: list[Any]
    messages: list[Any]


def copy_of(world: World) -> Copy:
    with world.factory() as db:
        return Copy(
            db.execute(text("SELECT id, ticket_lookup, ticket_salt, ticket_kdf FROM cases")).all(),
            db.execute(text("SELECT case_id, blob FROM case_key_wraps WHERE team_id IS NULL")).all(),
            db.execute(text("SELECT id, case_id, blob FROM messages")).all())


def keys_from_ticket(copy: Copy, ticket: str) -> dict[str, bytes]:
    """Everything a holder of ``ticket`` gets from the copy: derive the reporter key with every
    case's salt and try it on EVERY ticket wrap (not only the case the lookup id points at)."""
    found: dict[str, bytes] = {}
    for case in copy.cases:
        reporter_key = crypto.reporter_key(ticket, bytes(case.ticket_salt),
                                           crypto.decode_params(bytes(case.ticket_kdf)))
        for wrap in copy.ticket_wraps:
            try:
                found[wrap.case_id] = unwrap_for_ticket(wrap.case_id, bytes(wrap.blob), reporter_key)
            except CryptoError:
                pass
    return found


def readable_messages(copy: Copy, keys: dict[str, bytes]) -> list[str]:
    out = []
    for m in copy.messages:
        if m.case_id in keys:
            out.append(CaseCipher(m.case_id, keys[m.case_id]).open_text("message", m.id, bytes(m.blob)))
    return out


def test_the_intake_ticket_opens_nothing_once_replaced_checked_on_the_data(world: World) -> None:
    web_case, web_ticket = world.file()  # a web filing beside it: unaffected
    done = record(world)
    before = copy_of(world)
    # Control: before the reporter's first log-in the penerima's ticket does open the case
    # from a copy, so the same attack below is able to find a key if one is there.
    assert set(keys_from_ticket(before, done.ticket)) == {done.case_id}

    r = offered(world, done.ticket)
    assert r.case_id == done.case_id and r.register_no == done.register_no
    assert r.ticket != done.ticket
    login = followup.confirm_replacement(world.factory, r, pepper=PEPPER)
    officer_says(world, done.case_id, SECRET_LATER)

    after = copy_of(world)
    lookup_old = crypto.ticket_lookup_id(done.ticket, PEPPER)
    assert all(bytes(c.ticket_lookup) != lookup_old for c in after.cases)
    assert keys_from_ticket(after, done.ticket) == {}  # no wrap of any case opens
    # ... while the new ticket does, and reads the later message: the attack is real
    new_keys = keys_from_ticket(after, r.ticket)
    assert new_keys == {done.case_id: login.case_key}
    assert SECRET_LATER in readable_messages(after, new_keys)
    # one ticket wrap per case, the old blob gone from the table
    assert sorted(w.case_id for w in after.ticket_wraps) == sorted([done.case_id, web_case])
    old_blob = next(bytes(w.blob) for w in before.ticket_wraps if w.case_id == done.case_id)
    assert all(bytes(w.blob) != old_blob for w in after.ticket_wraps)
    # the web filing's ticket is untouched, and works again and again
    for _ in range(2):
        assert followup.login(world.factory, web_ticket, pepper=PEPPER).case_id == web_case

    # Routes/services: the old ticket gets exactly a wrong ticket's answer; the new one works
    with pytest.raises(followup.TicketUnknown):
        followup.login(world.factory, done.ticket, pepper=PEPPER)
    again = followup.login(world.factory, r.ticket, pepper=PEPPER)
    assert again == login
    view = followup.case_view(world.factory, again, "id")
    assert view.register_no == done.register_no
    assert [m.body for m in view.messages][-1] == SECRET_LATER
    with transaction(world.factory) as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "ticket.replaced")).one()
        assert (entry.actor, entry.object, entry.detail) == ("reporter", f"case:{done.case_id}", "intake")
        assert db.get(Case, done.case_id).ticket_single_use is False


def test_a_fresh_ticket_never_confirmed_leaves_the_intake_ticket_working(world: World) -> None:
    done = record(world)
    before = copy_of(world)
    first = offered(world, done.ticket)  # shown, never noted: the tab was closed
    # nothing was written; the fresh ticket opens nothing, the intake ticket still finds the case
    assert copy_of(world) == before
    with pytest.raises(followup.TicketUnknown):
        followup.login(world.factory, first.ticket, pepper=PEPPER)
    second = offered(world, done.ticket)
    assert second.ticket not in (first.ticket, done.ticket) and second.case_key == first.case_key
    followup.confirm_replacement(world.factory, second, pepper=PEPPER)
    # a stale offer (the first one) can no longer be confirmed
    with pytest.raises(followup.TicketUnknown):
        followup.confirm_replacement(world.factory, first, pepper=PEPPER)
    assert followup.login(world.factory, second.ticket, pepper=PEPPER).case_id == done.case_id
    for stale in (done.ticket, first.ticket):
        with pytest.raises(followup.TicketUnknown):
            followup.login(world.factory, stale, pepper=PEPPER)


def test_reporter_and_penerima_confirming_at_once_exactly_one_wins(world: World) -> None:
    done = record(world)
    offers = iter([offered(world, done.ticket), offered(world, done.ticket)])
    tried: list[Replacement] = []

    def go() -> str:
        r = next(offers)
        tried.append(r)
        followup.confirm_replacement(world.factory, r, pepper=PEPPER)
        return r.ticket

    won, errors = run_at_once(go)
    assert len(won) == 1 and len(errors) == 1, errors
    # the loser gets a wrong ticket's answer (or, had SQLite been busy, "try again")
    assert isinstance(errors[0], (followup.TicketUnknown, Conflict)), errors
    lost = next(r.ticket for r in tried if r.ticket != won[0])
    assert followup.login(world.factory, won[0], pepper=PEPPER).case_id == done.case_id
    for dead in (lost, done.ticket):
        with pytest.raises(followup.TicketUnknown):
            followup.login(world.factory, dead, pepper=PEPPER)
    with transaction(world.factory) as db:
        assert db.scalar(select(func.count()).select_from(CaseKeyWrap).where(
            CaseKeyWrap.case_id == done.case_id, CaseKeyWrap.team_id.is_(None))) == 1


def test_a_replacement_costs_one_argon2_at_log_in_and_one_at_confirmation(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The intake log-in does no extra derivation (timing tells nothing about where a ticket
    came from); the confirmation derives the new reporter key once, like a web confirmation."""
    done = record(world)
    calls: list[int] = []
    real = crypto.reporter_key
    monkeypatch.setattr(crypto, "reporter_key", lambda *a, **k: calls.append(1) or real(*a, **k))
    r = offered(world, done.ticket)
    assert len(calls) == 1
    followup.confirm_replacement(world.factory, r, pepper=PEPPER)
    assert len(calls) == 2


def test_migration_0008_makes_earlier_intake_tickets_single_use(empty_db_url: str,
                                                                  tmp_path: Any) -> None:
    """A ticket handed over at the desk before the upgrade is still the one the penerima saw:
    0008 marks every case not filed on the web, and only those."""
    from alembic import command

    cfg = alembic_config(Config(instance_dir=tmp_path, database_url=empty_db_url))
    engine = make_engine(empty_db_url)
    try:
        flags = {}
        for channel in ("letter", "web"):
            command.upgrade(cfg, "0007auditanchor")
            fill(engine)  # one row in every table, the case included
            with engine.begin() as conn:
                conn.execute(text("UPDATE cases SET channel = :c"), {"c": channel})
            command.upgrade(cfg, "0008intakeonce")
            with engine.connect() as conn:
                flags[channel] = conn.execute(text("SELECT ticket_single_use FROM cases")).scalars().all()
            command.downgrade(cfg, "base")
        assert flags == {"letter": [True], "web": [False]}
    finally:
        engine.dispose()


# -- over HTTP -------------------------------------------------------------------------------

@pytest.fixture
def office(app: Flask, clock: Clock) -> Office:
    return Office(app, clock)


def desk_records(office: Office) -> tuple[str, str]:
    """The penerima records a phone report through the pages; returns (ticket, register no)."""
    c = office.client("pen")
    token = csrf(c, "/officer/intake")
    resp = c.post("/officer/intake", data={
        "channel": "phone", "received_on": local_today().isoformat(), "kind": "complaint",
        "category": "maladministration", "what": "Telepon: pungutan liar di loket KTP.",
        "unit_id": str(office.world.units["PUSAT"]), "csrf_token": token})
    assert resp.status_code == 303
    html = c.get("/officer/intake/done").get_data(as_text=True)
    return (re.search(r'id="ticket">([^<]+)<', html).group(1),
            re.search(r'id="register-no">([^<]+)<', html).group(1))


def answer(resp: Any) -> str:
    """The page without its per-session CSRF token (to compare two answers byte for byte)."""
    return re.sub(r'value="[^"]{20,}"', 'value=""', resp.get_data(as_text=True))


def test_first_log_in_with_the_intake_ticket_through_the_pages(office: Office) -> None:
    app = office.app
    intake_ticket, register_no = desk_records(office)
    reporter = app.test_client()
    resp = reporter_login(reporter, intake_ticket.lower())
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/lapor/tiket")
    assert reporter.get("/laporan").status_code == 303  # nothing of the case before confirming
    page = reporter.get("/lapor/tiket")
    html = page.get_data(as_text=True)
    assert 'id="replacing"' in html and register_no in html
    fresh = "-".join(TICKET_RE.findall(html))
    assert len(fresh) == 24 and fresh != intake_ticket
    # as after a web filing: shown again on a reload, in this browser only, until confirmed
    assert "-".join(TICKET_RE.findall(reporter.get("/lapor/tiket").get_data(as_text=True))) == fresh
    assert TICKET_RE.findall(app.test_client().get("/lapor/tiket").get_data(as_text=True)) == []
    # a mismatch is corrected like on the web; nothing changes meanwhile
    assert confirm(reporter, html, "ZZZZ").status_code == 422
    assert office.world.case(_case_id(office, register_no)).ticket_single_use
    done = confirm(reporter, html, fresh.rsplit("-", 1)[1])
    assert done.status_code == 303 and done.headers["Location"].endswith("/laporan")
    case_page = reporter.get("/laporan").get_data(as_text=True)
    assert register_no in case_page
    # the reporter replies with a file; an officer answers
    r = reporter.post("/laporan", data={"csrf_token": page_csrf(case_page), "body": "Bukti terlampir.",
                                        "files": [(io.BytesIO(b"kuitansi 42"), "kuitansi.txt")]},
                      content_type="multipart/form-data")
    assert r.status_code == 303
    case_id = _case_id(office, register_no)
    officer_says(office.world, case_id, SECRET_LATER)
    assert reporter.get("/lapor/tiket").status_code == 303  # the receipt is gone

    # the intake ticket: exactly the answer of a ticket that never existed
    penerima_at_home = app.test_client()
    old = reporter_login(penerima_at_home, intake_ticket)
    never = reporter_login(app.test_client(), crypto.new_ticket())
    assert old.status_code == never.status_code == 422
    assert answer(old) == answer(never)
    assert penerima_at_home.get("/laporan").status_code == 303
    # the new ticket, in another browser: case, thread and attachment
    later = app.test_client()
    assert reporter_login(later, fresh).headers["Location"].endswith("/laporan")
    html = later.get("/laporan").get_data(as_text=True)
    assert register_no in html and "Bukti terlampir." in html and SECRET_LATER in html
    att = re.search(r'href="/laporan/berkas/([0-9a-f]{32})"', html).group(1)
    assert later.get(f"/laporan/berkas/{att}").get_data() == b"kuitansi 42"


def _case_id(office: Office, register_no: str) -> str:
    with transaction(state(office.app).db) as db:
        return db.scalar(select(Case.id).where(Case.register_no == register_no))


def test_a_web_ticket_is_not_single_use_through_the_pages(app: Flask, client: FlaskClient) -> None:
    from tests.web.reporter_helpers import file_report, make_org
    make_org(app)
    ticket, page = file_report(client)
    assert 'id="replacing"' not in page.get_data(as_text=True)
    assert confirm(client, page.get_data(as_text=True), ticket).status_code == 303
    for _ in range(2):
        c = app.test_client()
        assert reporter_login(c, ticket).headers["Location"].endswith("/laporan")


def test_two_holders_of_the_intake_ticket_the_second_confirmation_is_refused(office: Office) -> None:
    app = office.app
    intake_ticket, register_no = desk_records(office)
    pages = {}
    for who in ("reporter", "penerima"):
        c = app.test_client()
        reporter_login(c, intake_ticket)
        html = c.get("/lapor/tiket").get_data(as_text=True)
        pages[who] = (c, html, "-".join(TICKET_RE.findall(html)))
    c, html, fresh = pages["reporter"]
    assert confirm(c, html, fresh).status_code == 303
    c2, html2, fresh2 = pages["penerima"]
    late = confirm(c2, html2, fresh2)
    assert late.status_code == 422 and "<form" in late.get_data(as_text=True)
    assert c2.get("/laporan").status_code == 303
    assert reporter_login(app.test_client(), fresh2).status_code == 422
    assert reporter_login(app.test_client(), fresh).status_code == 303
    with transaction(state(app).db) as db:
        msgs = db.scalar(select(func.count()).select_from(Message)
                         .where(Message.case_id == _case_id(office, register_no)))
        assert msgs == 1  # only the acknowledgement: nothing half-written by the loser
