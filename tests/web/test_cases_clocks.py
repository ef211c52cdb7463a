"""The clocks as the SOPs count them, on real 2026/2027 dates with the `holidays` data and cuti
bersama: each unit's own day (WIB/WITA/WIT) around midnight and at the year's end, both
data-request policies, follow-up deadlines from forwarding, information requests from receipt.

The holidays these dates cross (holidays 0.109, ID, public + government): 24 Dec 2026 (cuti
bersama), 25 Dec (Christmas), 1 Jan 2027 (New Year), 5 Jan 2027 (Isra' Mi'raj), 8 Mar 2027
(Nyepi), 9-15 Mar 2027 (Idul Fitri and its cuti bersama).
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.web.cases_world import PEPPER, World, at_local, build_world
from whistle.db import transaction
from whistle.domain.constants import Category, Kind, NotFollowableReason, Status, label
from whistle.models import AuditEntry, Case, CaseField, Event, Message, Unit
from whistle.services.cases import calendar as casecal
from whistle.services.cases import transitions as cases
from whistle.services.messages import Refusal
from whistle.services.operations import sweep
from whistle.services.reporter import followup

MAKASSAR = ZoneInfo("Asia/Makassar")
# 30 Dec 2026, 16:30 UTC: 23:30 in Jakarta (WIB), already 00:30 on 31 Dec in Kupang (WITA).
NEAR_MIDNIGHT = datetime(2026, 12, 30, 16, 30, tzinfo=UTC)


class Sipuma:
    data_request_policy = "sipuma"
    data_request_calendar_days = 14


@pytest.fixture
def world(factory: sessionmaker[Session]) -> World:
    w = build_world(factory)
    with transaction(factory) as db:  # KANWIL is a WITA office, as the NTT SOP's bureau is
        casecal.set_unit_timezone(db, "cli", w.units["KANWIL"], "WITA")
    return w


def at_wita(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=MAKASSAR).astimezone(UTC)


def _awaiting(world: World, unit: str, asked: datetime, config: Any = None) -> str:
    who = "ver" if unit == "PUSAT" else "ver_kw"
    case_id, _ = world.file(unit=unit, received=asked - timedelta(days=1))
    world.act(who, case_id, "start_verification", now=asked - timedelta(hours=1), config=config)
    world.act(who, case_id, "request_data", message="Kapan kejadiannya?", now=asked, config=config)
    return case_id


def test_a_unit_time_zone_is_one_of_three_and_audited(world: World) -> None:
    with transaction(world.factory) as db:
        assert db.get(Unit, world.units["PUSAT"]).timezone == "Asia/Jakarta"  # the default
        assert db.get(Unit, world.units["KANWIL"]).timezone == "Asia/Makassar"
        for bad in ("UTC", "Asia/Singapore", "", "wita-ish"):
            with pytest.raises(Refusal):
                casecal.set_unit_timezone(db, "cli", world.units["PUSAT"], bad)
        casecal.set_unit_timezone(db, "cli", world.units["PUSAT"], "Asia/Jayapura")
        assert db.get(Unit, world.units["PUSAT"]).timezone == "Asia/Jayapura"
        details = [e.detail for e in db.scalars(select(AuditEntry).where(AuditEntry.action == "unit.timezone"))]
    assert details == ["zone=WITA", "zone=WIT"]


@pytest.mark.parametrize(("config", "wib_due", "wita_due"), [
    # SP4N-LAPOR!: 10 working days. WIB counts from Wed 30 Dec: 31 Dec, 4, 6, 7, 8, 11-15 Jan.
    # WITA's day is already Thu 31 Dec: 4, 6, 7, 8, 11-15, 18 Jan.
    (None, date(2027, 1, 15), date(2027, 1, 18)),
    # SIPUMA: 14 calendar days from the request, over the year's end.
    (Sipuma(), date(2027, 1, 13), date(2027, 1, 14)),
], ids=["sp4n_lapor", "sipuma"])
def test_a_data_request_near_midnight_counts_in_each_offices_day(
        world: World, config: Any, wib_due: date, wita_due: date) -> None:
    wib = _awaiting(world, "PUSAT", NEAR_MIDNIGHT, config)
    wita = _awaiting(world, "KANWIL", NEAR_MIDNIGHT, config)
    assert (world.case(wib).due_on, world.case(wib).step_started_on) == (wib_due, date(2026, 12, 30))
    assert (world.case(wita).due_on, world.case(wita).step_started_on) == (wita_due, date(2026, 12, 31))
    field = cases.FIELD_SWEEP_NOTICE_NF if config else cases.FIELD_SWEEP_NOTICE
    with transaction(world.factory) as db:
        assert {f.name for f in db.scalars(select(CaseField).where(CaseField.case_id == wita))} \
            & set(cases.EXPIRY_FIELDS) == {field}


def test_the_sweep_archives_in_the_offices_own_day(world: World) -> None:
    """Both requests are due Mon 18 Jan 2027; the WITA office's day ends an hour earlier."""
    wita = _awaiting(world, "KANWIL", NEAR_MIDNIGHT)
    wib = _awaiting(world, "PUSAT", at_local(date(2026, 12, 31), 10))
    assert world.case(wita).due_on == world.case(wib).due_on == date(2027, 1, 18)
    before = datetime(2027, 1, 18, 15, 30, tzinfo=UTC)  # 23:30 WITA: still the due day everywhere
    assert sweep.run(world.factory, now=before, send_mail=False).archived == 0
    midnight_wita = datetime(2027, 1, 18, 16, 30, tzinfo=UTC)  # 00:30 WITA 19 Jan, 23:30 WIB 18 Jan
    report = sweep.run(world.factory, now=midnight_wita, send_mail=False)
    assert report.archived == 1
    assert world.case(wita).status == Status.ARCHIVED.value
    assert world.case(wib).status == Status.AWAITING_DATA.value
    report = sweep.run(world.factory, now=datetime(2027, 1, 18, 17, 30, tzinfo=UTC), send_mail=False)
    assert report.archived == 1 and world.case(wib).status == Status.ARCHIVED.value


def test_sipuma_an_unanswered_request_becomes_not_followable_with_the_reason_shown(world: World) -> None:
    wita = _awaiting(world, "KANWIL", NEAR_MIDNIGHT, Sipuma())
    wib = _awaiting(world, "PUSAT", at_local(date(2026, 12, 31), 10), Sipuma())
    assert world.case(wita).due_on == world.case(wib).due_on == date(2027, 1, 14)
    report = sweep.run(world.factory, now=datetime(2027, 1, 14, 16, 30, tzinfo=UTC), send_mail=False)
    assert (report.not_followable, report.archived) == (1, 0)
    case = world.case(wita)
    assert case.status == Status.NOT_FOLLOWABLE.value and case.archived_at is None
    assert case.needs_attention and case.due_on is None
    assert world.case(wib).status == Status.AWAITING_DATA.value
    with transaction(world.factory) as db:
        ev = db.scalars(select(Event).where(Event.case_id == wita, Event.officer_id.is_(None))
                        .order_by(Event.at.desc())).first()
        assert (ev.action, ev.to_status) == ("auto_not_followable", "not_followable")
        assert db.scalars(select(CaseField).where(CaseField.case_id == wita,
                                                  CaseField.name.in_(list(cases.EXPIRY_FIELDS)))).all() == []
    cipher = world.cipher(wita, "ver_kw")
    with transaction(world.factory) as db:
        last_msg = db.scalars(select(Message).where(Message.case_id == wita)
                              .order_by(Message.created_at.desc())).first()
        last = cipher.open_text("message", last_msg.id, last_msg.blob)
    reason = NotFollowableReason.UNCLEAR_NOT_CLARIFIED
    assert label(reason, "id") in last and label(reason, "en") in last
    assert "tidak diterima sampai batas waktu" in last
    # An officer who holds the key closes it, and the archive follows.
    world.act("ver_kw", wita, "close", now=datetime(2027, 1, 15, 2, 0, tzinfo=UTC))
    sweep.run(world.factory, now=datetime(2027, 2, 20, 2, 0, tzinfo=UTC), send_mail=False)
    assert world.case(wita).status == Status.ARCHIVED.value
    sweep.run(world.factory, now=datetime(2027, 1, 14, 17, 30, tzinfo=UTC), send_mail=False)
    assert world.case(wib).status == Status.NOT_FOLLOWABLE.value


def test_the_policy_in_force_when_the_data_was_asked_for_decides(world: World) -> None:
    """A deployment that changes its policy does not relabel requests already made."""
    old = _awaiting(world, "PUSAT", at_local(date(2026, 12, 31), 10))  # SP4N-LAPOR!
    report = sweep.run(world.factory, config=Sipuma(), now=at_local(date(2027, 1, 19), 9), send_mail=False)
    assert (report.archived, report.not_followable) == (1, 0)
    assert world.case(old).status == Status.ARCHIVED.value


def test_late_is_judged_in_the_offices_day(world: World) -> None:
    """Received Mon 4 Jan 2027: 3 working days are 6, 7, 8 Jan (5 Jan is Isra' Mi'raj)."""
    wita, _ = world.file(unit="KANWIL", received=at_wita(date(2027, 1, 4)))
    wib, _ = world.file(unit="PUSAT", received=at_local(date(2027, 1, 4)))
    assert world.case(wita).due_on == world.case(wib).due_on == date(2027, 1, 8)
    sweep.run(world.factory, now=datetime(2027, 1, 8, 16, 30, tzinfo=UTC), send_mail=False)
    assert world.case(wita).is_late and not world.case(wib).is_late
    sweep.run(world.factory, now=datetime(2027, 1, 8, 17, 30, tzinfo=UTC), send_mail=False)
    assert world.case(wib).is_late


def test_filing_near_midnight_counts_from_the_receiving_offices_day(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(casecal, "utcnow", lambda: NEAR_MIDNIGHT)
    wib, _ = world.file(unit="PUSAT")
    wita, _ = world.file(unit="KANWIL")
    # WIB: received Wed 30 Dec -> 31 Dec, 4, 6 Jan. WITA: received Thu 31 Dec -> 4, 6, 7 Jan.
    assert (world.case(wib).step_started_on, world.case(wib).due_on) == (date(2026, 12, 30), date(2027, 1, 6))
    assert (world.case(wita).step_started_on, world.case(wita).due_on) == (date(2026, 12, 31), date(2027, 1, 7))


def test_the_units_working_days_run_from_forwarding(world: World) -> None:
    """SP4N-LAPOR!: 5/14/60 working days "sejak pengaduan diterima oleh pejabat penghubung".
    Forwarded Mon 1 Mar 2027: 2, 3, 4, 5 Mar, then Nyepi and Lebaran (8-15 Mar), 16 Mar. Had the
    clock started at the investigation (Thu 4 Mar) it would have been 19 Mar."""
    case_id, _ = world.file(category=Category.POOR_PUBLIC_SERVICE, received=at_local(date(2027, 2, 26)))
    world.act("ver", case_id, "start_verification", now=at_local(date(2027, 3, 1), 8))
    world.act("ver", case_id, "forward_unit", unit_id=str(world.units["KANWIL"]), now=at_local(date(2027, 3, 1), 9))
    out = world.act("pk_kw", case_id, "unit_investigate", tier="5", now=at_wita(date(2027, 3, 4)))
    assert out.due_on == date(2027, 3, 16) and world.case(case_id).step_started_on == date(2027, 3, 1)
    out = world.act("pk_kw", case_id, "set_tier", tier="14", now=at_wita(date(2027, 3, 10)))
    # 14 working days from 1 Mar: 2-5, 16-19, 22-24 Mar, then Good Friday and its cuti bersama
    # (25-26 Mar), 29, 30, 31 Mar (the 14th).
    assert out.due_on == date(2027, 3, 31)
    # A case keeps the days of the unit that received it (here WIB), wherever it is handled.
    sweep.run(world.factory, now=at_local(date(2027, 3, 31), 23), send_mail=False)
    assert not world.case(case_id).is_late
    sweep.run(world.factory, now=at_local(date(2027, 4, 1), 0) + timedelta(minutes=30), send_mail=False)
    assert world.case(case_id).is_late


@pytest.mark.parametrize(("kind", "due"), [
    (Kind.INFORMATION_REQUEST, date(2027, 1, 12)),  # from receipt Mon 4 Jan: 6, 7, 8, 11, 12
    (Kind.COMPLAINT, date(2027, 1, 14)),  # from the answer on Thu 7 Jan: 8, 11, 12, 13, 14
])
def test_an_information_request_is_answered_within_five_days_of_receipt(world: World, kind: Kind, due: date) -> None:
    case_id, ticket = world.file(kind=kind, category=Category.POOR_PUBLIC_SERVICE,
                                 received=at_local(date(2027, 1, 4), 9))
    world.act("ver", case_id, "start_verification", now=at_local(date(2027, 1, 6)))
    out = world.act("ver", case_id, "answer", message="Jam layanan 08.00-16.00.", now=at_local(date(2027, 1, 7)))
    assert out.to_status is Status.ANSWERED and out.due_on == due
    view = followup.case_view(world.factory, followup.login(world.factory, ticket, pepper=PEPPER), "id")
    assert view.due_on == due


def test_the_case_page_shows_late_by_the_units_day(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from whistle.models import Officer
    from whistle.services.cases import page as casepage

    wita, _ = world.file(unit="KANWIL", received=at_wita(date(2027, 1, 4)))
    monkeypatch.setattr(casecal, "utcnow", lambda: datetime(2027, 1, 8, 16, 30, tzinfo=UTC))
    with transaction(world.factory) as db:
        view = casepage.load(db, officer=db.get(Officer, world.officer_id("ver_kw")),
                             team_keys=world.keys("ver_kw"), case_id=wita)
        assert view.today == date(2027, 1, 9) and view.case.due_on < view.today
        assert db.get(Case, wita).unit_id == world.units["KANWIL"]


def test_the_unit_timezone_command(db_url: str, instance_dir: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from whistle.cli import cli
    from whistle.db import make_engine, make_sessionmaker

    engine = make_engine(db_url)
    build_world(make_sessionmaker(engine))
    monkeypatch.setenv("WHISTLE_INSTANCE_DIR", str(instance_dir))
    monkeypatch.setenv("WHISTLE_DATABASE_URL", db_url)
    shown = CliRunner().invoke(cli, ["unit-timezone", "kanwil"])
    assert shown.exit_code == 0 and "KANWIL: WIB (Asia/Jakarta)" in shown.output
    changed = CliRunner().invoke(cli, ["unit-timezone", "KANWIL", "wita"])
    assert changed.exit_code == 0 and "KANWIL: WITA (Asia/Makassar)" in changed.output
    bad = CliRunner().invoke(cli, ["unit-timezone", "KANWIL", "UTC"])
    assert bad.exit_code != 0 and "WIB, WITA or WIT" in bad.output
    assert CliRunner().invoke(cli, ["unit-timezone", "NOPE", "WIT"]).exit_code != 0
    with transaction(make_sessionmaker(engine)) as db:
        unit = db.scalar(select(Unit).where(Unit.code == "KANWIL"))
        assert unit.timezone == "Asia/Makassar"
    engine.dispose()
