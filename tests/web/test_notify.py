"""Officer notifications over a real SMTP server (aiosmtpd on 127.0.0.1): counts and a link,
never any case content, each case announced once."""
from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import date
from email import message_from_bytes
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from tests.web.cases_world import World, at_local, build_world
from whistle.db import transaction
from whistle.domain.constants import Category
from whistle.models import Case
from whistle.services.operations import notify
from whistle.services.operations import sweep


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.mails.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    return build_world(factory)


def cfg(port: int) -> SimpleNamespace:
    return SimpleNamespace(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False, smtp_user="",
                           smtp_password="", smtp_from="whistle@example.go.id", smtp_timeout=5.0,
                           public_url="https://lapor.example.go.id")


def test_new_and_late_cases_are_mailed_once_without_content(world: World, smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp
    what = "Kepala seksi meminta uang pelicin sebesar lima juta."
    case_id, _ = world.file(what=what, category=Category.ABUSE_OF_AUTHORITY)
    register_no = world.case(case_id).register_no
    now = at_local(date(2026, 3, 30))

    report = sweep.run(world.factory, config=cfg(port), now=now)
    assert report.mails == 1 and len(inbox.mails) == 1
    rcpts, raw = inbox.mails[0]
    assert rcpts == ["ver@example.go.id"]  # only the team holding the case; not KANWIL, not PYB
    mail = message_from_bytes(raw)
    body = mail.get_payload(decode=True).decode()
    assert "1 laporan baru" in body and "1 new case" in body
    assert "https://lapor.example.go.id/officer/cases" in body
    for secret in (register_no, "pelicin", "lima juta", case_id, "Pak Budi", "abuse", "PUSAT",
                   "Penyalahgunaan"):
        assert secret not in raw.decode(errors="replace"), secret

    assert sweep.run(world.factory, config=cfg(port), now=now).mails == 0  # once only
    with transaction(world.factory) as db:
        db.execute(update(Case).where(Case.id == case_id).values(due_on=date(2026, 3, 27)))
    report = sweep.run(world.factory, config=cfg(port), now=now)
    assert report.mails == 1 and report.late_notices == 1
    body = message_from_bytes(inbox.mails[-1][1]).get_payload(decode=True).decode()
    assert "1 laporan melewati batas waktu" in body and "1 late case" in body
    assert register_no not in body
    assert sweep.run(world.factory, config=cfg(port), now=now).mails == 0


def test_late_mail_goes_to_the_handling_team(world: World, smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp
    case_id, _ = world.file()
    now = at_local(date(2026, 3, 30))
    sweep.run(world.factory, config=cfg(port), now=now)  # the "new" mail to the verifikator
    world.act("ver", case_id, "start_verification", now=at_local(date(2026, 2, 2)))
    world.act("ver", case_id, "forward_pyb", now=at_local(date(2026, 2, 2)))
    world.act("pyb", case_id, "dispose_to_pengkaji", tier="5", unit_id=str(world.units["KANWIL"]),
              now=at_local(date(2026, 2, 2)))
    inbox.mails.clear()
    report = sweep.run(world.factory, config=cfg(port), now=now)
    assert report.late_notices == 1
    assert [m[0] for m in inbox.mails] == [["pk_kw@example.go.id"]]


def test_an_unreachable_mail_server_does_not_stop_the_sweep(world: World) -> None:
    case_id, _ = world.file()
    report = sweep.run(world.factory, config=cfg(free_port()), now=at_local(date(2026, 3, 30)))
    assert report.new_notices == 1 and report.mails == 0


def test_no_smtp_host_sends_nothing() -> None:
    assert notify.send(SimpleNamespace(smtp_host=""), {"a@b": notify.Counts(new=1)}) == 0


def test_a_batch_retried_after_a_commit_conflict_is_counted_once(world: World, smtp,  # type: ignore[no-untyped-def]
                                                                  monkeypatch) -> None:
    """The mail says how many cases are new; a retry after losing the writer lock at commit
    must not make it say two when there is one."""
    from contextlib import contextmanager

    from whistle.db import Conflict

    inbox, port = smtp
    world.file(category=Category.ABUSE_OF_AUTHORITY)
    real = sweep.transaction
    failed: list[bool] = []

    @contextmanager
    def first_commit_conflicts(factory):  # type: ignore[no-untyped-def]
        with real(factory) as db:
            yield db
            if not failed:  # the first notice batch loses the race at commit: rolled back
                failed.append(True)
                raise Conflict()

    monkeypatch.setattr(sweep, "transaction", first_commit_conflicts)
    result = sweep.SweepReport()
    sweep.claim_notices(world.factory, now=at_local(date(2026, 3, 30)), report=result)
    assert failed == [True]
    assert {email: c.new for email, c in result.recipients.items()} == {"ver@example.go.id": 1}
