"""The sweep mails the signed audit head to the auditors once a day, over a real SMTP server
(aiosmtpd on 127.0.0.1, as tests/web/test_notify.py); nothing without SMTP; no case content."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from email import message_from_bytes
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import make_officer
from tests.web.cases_world import World, at_local, build_world
from tests.web.test_notify import Inbox, cfg, free_port
from whistle.db import transaction
from whistle.domain.constants import Role
from whistle.models import AuditEntry
from whistle.services.custody import audit, audit_head
from whistle.services.operations import audit_mail, sweep

DAY = date(2026, 3, 30)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def world(factory: sessionmaker[Session]) -> World:
    world = build_world(factory)
    with transaction(factory) as db:
        for name, email, active in (("audra", "audra@example.go.id", True),
                                    ("odit", None, True),  # no address: nothing to send to
                                    ("lama", "lama@example.go.id", False)):  # deactivated
            o = make_officer(db, None, Role.AUDITOR.value, name).officer
            o.email, o.active = email, active
    return world


def head_mails(inbox: Inbox) -> list[tuple[list[str], str]]:
    out = []
    for rcpts, raw in inbox.mails:
        body = message_from_bytes(raw).get_payload(decode=True).decode()
        if audit_head.BEGIN in body:
            out.append((rcpts, body))
    return out


def test_head_goes_to_the_auditors_once_a_day(world: World, smtp, audit_keys: audit.AuditKeys) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp
    what = "Kepala seksi meminta uang pelicin."
    case_id, _ = world.file(what=what)
    register_no = world.case(case_id).register_no
    report = sweep.run(world.factory, config=cfg(port), now=at_local(DAY, 9))
    assert report.head_mails == 1
    mails = head_mails(inbox)
    assert [m[0] for m in mails] == [["audra@example.go.id"]]
    body = mails[0][1]
    assert "Rantai log diperiksa: utuh" in body and "Chain checked: intact" in body
    head = audit_head.check(audit_head.parse(body), audit_keys)  # the mail IS a usable head
    with transaction(world.factory) as db:
        assert audit_head.verify_against(db, head).ok
    raw = inbox.mails[-1][1].decode(errors="replace")
    for secret in (register_no, "pelicin", case_id, "Sutrisno"):
        assert secret not in raw, secret
    # A sweep every few minutes the same day mails nothing more ...
    for hour in (10, 15, 23):
        assert sweep.run(world.factory, config=cfg(port), now=at_local(DAY, hour)).head_mails == 0
    assert len(head_mails(inbox)) == 1
    # ... the next day it does, and the record of each mail is in the log itself.
    assert sweep.run(world.factory, config=cfg(port), now=at_local(DAY + timedelta(days=1), 0)).head_mails == 1
    with transaction(world.factory) as db:
        days = list(db.scalars(select(AuditEntry.object).where(
            AuditEntry.action == audit_mail.HEAD_MAIL_ACTION).order_by(AuditEntry.id)))
        assert audit.verify(db).ok
    assert days == [f"day:{DAY}", f"day:{DAY + timedelta(days=1)}"]


def test_a_broken_chain_is_announced(world: World, smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp
    world.file()
    with transaction(world.factory) as db:
        bad = db.scalar(select(AuditEntry.id).order_by(AuditEntry.id).limit(1))
        assert bad is not None
        db.execute(text("UPDATE audit_log SET detail = 'x' WHERE id = :i"), {"i": bad})
    assert sweep.run(world.factory, config=cfg(port), now=at_local(DAY)).head_mails == 1
    (_, body), = head_mails(inbox)
    subject = message_from_bytes(inbox.mails[-1][1])["Subject"]
    assert "RUSAK" in subject and "BROKEN" in subject
    assert f"RUSAK pada entri #{bad}" in body and f"BROKEN at entry #{bad}" in body


def test_nothing_is_sent_or_recorded_without_smtp(world: World) -> None:
    config = SimpleNamespace(smtp_host="")
    assert audit_mail.mail_daily_head(world.factory, config, at_local(DAY)) == 0
    with transaction(world.factory) as db:
        assert audit_mail.last_mailed_day(db) is None


def test_an_unreachable_mail_server_retries_at_the_next_sweep(world: World, smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp
    assert audit_mail.mail_daily_head(world.factory, cfg(free_port()), at_local(DAY)) == 0
    with transaction(world.factory) as db:
        assert audit_mail.last_mailed_day(db) is None  # not recorded: not delivered
    assert audit_mail.mail_daily_head(world.factory, cfg(port), at_local(DAY, 11)) == 1


def test_no_auditor_no_mail(factory: sessionmaker[Session], smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp
    build_world(factory)
    assert audit_mail.mail_daily_head(factory, cfg(port), at_local(DAY)) == 0
    assert inbox.mails == []
