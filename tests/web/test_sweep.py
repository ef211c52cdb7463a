"""The sweep: unanswered data requests archived once, late flags, safe to run twice and after a crash."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.concurrency import run_at_once
from tests.web.cases_world import World, at_local, build_world
from whistle.db import transaction
from whistle.models import AuditEntry, Case, CaseField, CaseNotice, Event, Message
from whistle.services.custody import audit
from whistle.services.cases import transitions as cases
from whistle.services.operations import sweep

ASKED = at_local(date(2026, 3, 13))  # Friday; 10 working days later is Monday 6 April 2026
DUE = date(2026, 4, 6)


@pytest.fixture
def world(factory: sessionmaker[Session]) -> World:
    return build_world(factory)


def awaiting(world: World, n: int = 1) -> list[str]:
    ids = []
    for _ in range(n):
        case_id, _ = world.file(received=ASKED - timedelta(hours=1))
        world.act("ver", case_id, "start_verification", now=ASKED)
        world.act("ver", case_id, "request_data", message="Lampirkan bukti transfer.", now=ASKED)
        ids.append(case_id)
    return ids


def count(db: Session, model: type, *where: object) -> int:
    return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


ARCHIVE_NOTICE = "diarsipkan karena keterangan tambahan"


def test_archives_only_after_the_deadline_day_and_tells_the_reporter(world: World) -> None:
    (case_id,) = awaiting(world)
    assert world.case(case_id).due_on == DUE
    assert sweep.run(world.factory, now=at_local(DUE, 23)).archived == 0
    assert world.case(case_id).status == "awaiting_data"
    report = sweep.run(world.factory, now=at_local(DUE + timedelta(days=1), 0))
    assert report.archived == 1
    case = world.case(case_id)
    assert case.status == "archived" and case.due_on is None and case.archived_at is not None
    last = world.thread(case_id)[-1]
    assert last[0] == "system" and ARCHIVE_NOTICE in last[1] and "did not arrive" in last[1]
    with transaction(world.factory) as db:
        ev = db.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.at.desc())).first()
        assert (ev.action, ev.actor, ev.officer_id, ev.to_status) == ("auto_archive", "system", None, "archived")
        assert db.get(CaseField, (case_id, cases.FIELD_SWEEP_NOTICE)) is None
        assert count(db, AuditEntry, AuditEntry.action == "case.auto_archive") == 1
        assert audit.verify(db).ok
    # twice is the same as once
    assert sweep.run(world.factory, now=at_local(DUE + timedelta(days=2))).archived == 0
    assert sum(ARCHIVE_NOTICE in t for _, t in world.thread(case_id)) == 1


def test_an_answered_request_is_not_archived(world: World) -> None:
    (case_id,) = awaiting(world)
    with transaction(world.factory) as db:
        cases.reporter_input(db, db.get(Case, case_id), world.cipher(case_id), now=ASKED)
    assert sweep.run(world.factory, now=at_local(DUE + timedelta(days=5))).archived == 0
    assert world.case(case_id).status == "verification"


@pytest.mark.parametrize("batch", [3, 500])
def test_two_sweeps_at_once_archive_each_case_exactly_once(world: World, batch: int) -> None:
    ids = awaiting(world, 8)
    later = at_local(DUE + timedelta(days=3))
    results, errors = run_at_once(
        lambda: sweep.run(world.factory, now=later, batch=batch, send_mail=False))
    assert not errors, errors
    assert sum(r.archived for r in results) == len(ids)
    with transaction(world.factory) as db:
        for case_id in ids:
            assert db.get(Case, case_id).status == "archived"
            assert count(db, Event, Event.case_id == case_id, Event.action == "auto_archive") == 1
        assert count(db, AuditEntry, AuditEntry.action == "case.auto_archive") == len(ids)
        assert audit.verify(db).ok
    for case_id in ids:
        assert sum(ARCHIVE_NOTICE in t for _, t in world.thread(case_id)) == 1


def test_a_crash_mid_batch_leaves_nothing_half_done(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = awaiting(world, 4)
    real = audit.append
    calls = {"n": 0}

    def flaky(db, actor, action, *a, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if action == "case.auto_archive" and calls["n"] == 2:
            raise RuntimeError("power cut")
        return real(db, actor, action, *a, **kw)

    monkeypatch.setattr(audit, "append", flaky)
    later = at_local(DUE + timedelta(days=1))
    with pytest.raises(RuntimeError):
        sweep.run(world.factory, now=later, send_mail=False)
    with transaction(world.factory) as db:  # the whole batch rolled back
        assert count(db, Case, Case.status == "archived") == 0
        assert count(db, Event, Event.action == "auto_archive") == 0
    monkeypatch.setattr(audit, "append", real)
    assert sweep.run(world.factory, now=later, send_mail=False).archived == 4
    for case_id in ids:
        assert sum(ARCHIVE_NOTICE in t for _, t in world.thread(case_id)) == 1


def test_late_flags_are_set_and_cleared(world: World) -> None:
    late_id, _ = world.file()
    fresh_id, _ = world.file()
    with transaction(world.factory) as db:
        db.execute(update(Case).where(Case.id == late_id).values(due_on=date(2026, 3, 27)))
        db.execute(update(Case).where(Case.id == fresh_id).values(due_on=date(2026, 4, 30), is_late=True))
    report = sweep.run(world.factory, now=at_local(date(2026, 3, 30)), send_mail=False)
    assert (report.marked_late, report.cleared_late) == (1, 1)
    assert world.case(late_id).is_late and not world.case(fresh_id).is_late
    # the due day itself is not late
    with transaction(world.factory) as db:
        db.execute(update(Case).where(Case.id == late_id).values(due_on=date(2026, 3, 30)))
    sweep.run(world.factory, now=at_local(date(2026, 3, 30)), send_mail=False)
    assert not world.case(late_id).is_late


def test_late_and_new_notices_are_claimed_once(world: World) -> None:
    case_id, _ = world.file()
    now = at_local(date(2026, 3, 30))
    first = sweep.run(world.factory, now=now, send_mail=False)
    assert first.new_notices == 1 and first.recipients["ver@example.go.id"].new == 1
    with transaction(world.factory) as db:
        db.execute(update(Case).where(Case.id == case_id).values(due_on=date(2026, 3, 27)))
    second = sweep.run(world.factory, now=now, send_mail=False)
    assert second.new_notices == 0 and second.late_notices == 1
    assert second.recipients["ver@example.go.id"].late == 1
    third = sweep.run(world.factory, now=now, send_mail=False)
    assert third.late_notices == 0 and not third.recipients
    with transaction(world.factory) as db:
        kinds = set(db.scalars(select(CaseNotice.kind).where(CaseNotice.case_id == case_id)))
    assert kinds == {"new", "late:2026-03-27"}


def test_closed_cases_are_archived_after_the_quiet_period(world: World) -> None:
    closed_on = date(2026, 5, 4)
    case_id, _ = world.file(received=at_local(closed_on, 8))
    world.act("ver", case_id, "start_verification", now=at_local(closed_on))
    world.act("ver", case_id, "answer", message="Sudah kami jawab.", now=at_local(closed_on))
    world.act("ver", case_id, "close", now=at_local(closed_on))
    assert sweep.run(world.factory, now=at_local(closed_on + timedelta(days=30), 23)).archived_closed == 0
    assert sweep.run(world.factory, now=at_local(closed_on + timedelta(days=31), 1)).archived_closed == 1
    assert world.case(case_id).status == "archived"
    with transaction(world.factory) as db:
        assert count(db, Message, Message.case_id == case_id) == len(world.thread(case_id, reporter_view=False))


def test_statistics_refresh_runs_on_every_backend(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many flipped late flags make the sweep ANALYZE on PostgreSQL (a no-op on SQLite)."""
    world.file()
    with transaction(world.factory) as db:
        db.execute(update(Case).values(due_on=date(2026, 1, 5)))
    monkeypatch.setattr(sweep, "ANALYZE_AFTER", 1)
    assert sweep.refresh_late_flags(world.factory, date(2026, 3, 30)) == (1, 0)
