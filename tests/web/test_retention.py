"""Retention: archived cases past the period are purged with every dependent row and file."""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.concurrency import run_at_once
from tests.web.cases_world import PEPPER, World, build_world
from whistle.attachments.storage import AttachmentStore
from whistle.db import make_engine, make_sessionmaker, transaction
from whistle.domain.constants import Category, Kind
from whistle.models import (
    Attachment,
    AuditEntry,
    Base,
    Case,
    CaseNotice,
    CaseStatement,
    IdentityConsent,
    IdentityRequest,
    ShareRelease,
)
from whistle.services.custody import audit
from whistle.services.reporter import files as reporter_files
from whistle.services.reporter import reports
from whistle.services.operations import retention

NOW = datetime(2031, 6, 1, 3, 0, tzinfo=UTC)
DAYS = 1826
OLD = NOW - timedelta(days=DAYS + 1)
YOUNG = NOW - timedelta(days=DAYS - 1)
IDENTITY = {"name": "Rahmat Hidayat", "nik": "3201010101010001", "phone": "081234567890"}

# Every table with a foreign key to cases.id (derived from the metadata, so a new child table
# is covered without editing this list).
CASE_CHILDREN = sorted((
    t for t in Base.metadata.tables.values()
    if any(fk.column.table.name == "cases" for fk in t.foreign_keys)
    and "case_id" in t.c), key=lambda t: t.name)


@pytest.fixture
def world(factory: sessionmaker[Session]) -> World:
    return build_world(factory)


@pytest.fixture
def store(tmp_path: Path) -> AttachmentStore:
    return AttachmentStore(tmp_path / "att")


def file_with_evidence(world: World, store: AttachmentStore, tmp_path: Path) -> str:
    """A confidential report with identity and two evidence files, worked to 'closed', plus an
    identity request with a released share and a claimed notice: a row in every child table."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    staged = [reporter_files.stage_upload(store, io.BytesIO(data), name, "text/plain",
                                          max_bytes=1 << 20, workdir=work)
              for data, name in ((b"bukti transfer", "a.txt"), (b"foto kuitansi", "b.txt"))]
    report = reports.ReportInput(
        kind=Kind.WHISTLEBLOWING, category=Category.ETHICS_CODE, unit_id=world.units["PUSAT"],
        who="Pak Budi", who_position="Kepala Seksi", what="Meminta uang pelicin untuk izin usaha.",
        when="Maret 2026", where="Kantor Pelayanan", how="Diminta tunai di ruangannya.",
        anonymity=reports.CONFIDENTIAL, identity=IDENTITY)
    case, _ = reports.file_report(world.factory, report, pepper=PEPPER, files=staged, store=store)
    world.act("ver", case.id, "start_verification")
    world.act("ver", case.id, "answer", message="Sudah kami jawab.")
    world.act("ver", case.id, "close")
    with transaction(world.factory) as db:
        req = IdentityRequest(case_id=case.id, requester_id=world.officer_id("pk"),
                              reason_blob=b"sealed reason")
        db.add(req)
        db.flush()
        db.add(ShareRelease(request_id=req.id, idx=1, custodian_id=world.officer_id("uki"),
                            blob=b"rewrapped share"))
        db.add(IdentityConsent(case_id=case.id, blob=b"sealed consent"))
        db.add(CaseNotice(case_id=case.id, kind="new", sent_at=NOW))
        db.add(CaseStatement(case_id=case.id, officer_id=world.officer_id("pk"), blob=b"sealed statement"))
    return case.id


def archive(world: World, case_id: str, archived_at: datetime | None, *,
            updated_at: datetime | None = None) -> None:
    values: dict[str, object] = {"status": "archived", "archived_at": archived_at}
    if updated_at is not None:
        values["updated_at"] = updated_at
    with transaction(world.factory) as db:
        db.execute(update(Case).where(Case.id == case_id).values(**values)
                   .execution_options(synchronize_session=False))


def child_counts(db: Session, case_id: str) -> dict[str, int]:
    counts = {t.name: int(db.scalar(select(func.count()).select_from(t)
                                    .where(t.c.case_id == case_id)) or 0)
              for t in CASE_CHILDREN}
    requests = select(IdentityRequest.id).where(IdentityRequest.case_id == case_id)
    counts["share_releases"] = int(db.scalar(select(func.count()).select_from(ShareRelease)
                                             .where(ShareRelease.request_id.in_(requests))) or 0)
    counts["cases"] = int(db.scalar(select(func.count()).select_from(Case)
                                    .where(Case.id == case_id)) or 0)
    return counts


def storage_names(db: Session, case_id: str) -> list[str]:
    return list(db.scalars(select(Attachment.storage_name).where(Attachment.case_id == case_id)))


def test_children_cover_every_table_that_references_a_case() -> None:
    assert {t.name for t in CASE_CHILDREN} == {
        "case_fields", "case_key_wraps", "identity_blobs", "identity_shares", "events",
        "messages", "attachments", "identity_requests", "identity_consents", "case_notices",
        "case_statements"}


def test_old_archived_case_is_purged_with_every_row_and_file(world: World, store: AttachmentStore,
                                                             tmp_path: Path) -> None:
    old = file_with_evidence(world, store, tmp_path)
    young = file_with_evidence(world, store, tmp_path)
    open_old = file_with_evidence(world, store, tmp_path)  # closed, not archived
    archive(world, old, OLD)
    archive(world, young, YOUNG)
    with transaction(world.factory) as db:
        db.execute(update(Case).where(Case.id == open_old)
                   .values(closed_at=OLD, updated_at=OLD).execution_options(synchronize_session=False))
        before = {cid: child_counts(db, cid) for cid in (old, young, open_old)}
        files = {cid: storage_names(db, cid) for cid in (old, young, open_old)}
    # the test really covers every child table: each one holds rows of the case
    assert all(n > 0 for n in before[old].values()), before[old]
    assert len(files[old]) == 2 and all(store.exists(n) for n in files[old])

    assert retention.purge_archived(world.factory, store, retention_days=DAYS, now=NOW) == 1

    with transaction(world.factory) as db:
        assert all(n == 0 for n in child_counts(db, old).values()), child_counts(db, old)
        assert child_counts(db, young) == before[young]
        assert child_counts(db, open_old) == before[open_old]
        assert db.get(Case, open_old).status == "closed"
        entries = db.scalars(select(AuditEntry).where(AuditEntry.action == "retention.purge")).all()
        assert [(e.actor, e.object) for e in entries] == [("system", None)]
        assert entries[0].detail == f"cases=1 archived_before={NOW - timedelta(days=DAYS):%Y-%m-%dT%H:%M:%SZ}"
        assert old not in entries[0].detail
        assert audit.verify(db).ok
    assert not any(store.exists(n) for n in files[old])
    assert all(store.exists(n) for cid in (young, open_old) for n in files[cid])
    # the orphan sweep finds nothing left behind
    with transaction(world.factory) as db:
        known = set(db.scalars(select(Attachment.storage_name)))
    assert store.sweep_orphans(known, timedelta(0), now=NOW.timestamp() + 10).removed_files == 0

    # twice is the same as once
    assert retention.purge_archived(world.factory, store, retention_days=DAYS, now=NOW) == 0
    with transaction(world.factory) as db:
        assert int(db.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "retention.purge")) or 0) == 1


def test_archived_at_missing_falls_back_to_updated_at(world: World, store: AttachmentStore) -> None:
    stale, _ = world.file()
    fresh, _ = world.file()
    archive(world, stale, None, updated_at=OLD)
    archive(world, fresh, None, updated_at=YOUNG)
    assert retention.purge_archived(world.factory, store, retention_days=DAYS, now=NOW) == 1
    assert world.case(stale) is None and world.case(fresh) is not None


def test_zero_days_purges_nothing(world: World, store: AttachmentStore, tmp_path: Path) -> None:
    case_id = file_with_evidence(world, store, tmp_path)
    archive(world, case_id, OLD - timedelta(days=10_000))
    assert retention.purge_archived(world.factory, store, retention_days=0, now=NOW) == 0
    assert world.case(case_id) is not None
    with transaction(world.factory) as db:
        assert all(store.exists(n) for n in storage_names(db, case_id))
        assert db.scalar(select(func.count()).select_from(AuditEntry)
                         .where(AuditEntry.action == "retention.purge")) == 0


@pytest.mark.parametrize("batch", [2, 200])
def test_two_purges_at_once_delete_each_case_once(world: World, store: AttachmentStore,
                                                  tmp_path: Path, batch: int) -> None:
    ids = [file_with_evidence(world, store, tmp_path) for _ in range(2)]
    ids += [world.file()[0] for _ in range(5)]
    for cid in ids:
        archive(world, cid, OLD)
    with transaction(world.factory) as db:
        files = [n for cid in ids for n in storage_names(db, cid)]
    assert len(files) == 4
    results, errors = run_at_once(
        lambda: retention.purge_archived(world.factory, store, retention_days=DAYS, now=NOW,
                                         batch=batch))
    assert not errors, errors
    assert len(results) == 2 and sum(results) == len(ids)
    with transaction(world.factory) as db:
        for cid in ids:
            assert all(n == 0 for n in child_counts(db, cid).values())
        details = db.scalars(select(AuditEntry.detail)
                             .where(AuditEntry.action == "retention.purge")).all()
        assert sum(int(d.split()[0].removeprefix("cases=")) for d in details) == len(ids)
        assert audit.verify(db).ok
    assert not any(store.exists(n) for n in files)


def test_sweep_command_purges_and_reports_the_count(db_url: str, instance_dir: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from whistle.cli import cli

    engine = make_engine(db_url)
    world = build_world(make_sessionmaker(engine))
    gone, _ = world.file()
    kept, _ = world.file()
    archive(world, gone, datetime.now(UTC) - timedelta(days=31))
    archive(world, kept, datetime.now(UTC) - timedelta(days=29))
    monkeypatch.setenv("WHISTLE_INSTANCE_DIR", str(instance_dir))
    monkeypatch.setenv("WHISTLE_DATABASE_URL", db_url)
    monkeypatch.setenv("WHISTLE_RETENTION_DAYS", "30")
    result = CliRunner().invoke(cli, ["sweep", "--no-mail"])
    assert result.exit_code == 0, result.output
    assert "purged 1 archived cases" in result.output and gone not in result.output
    assert world.case(gone) is None and world.case(kept) is not None
    monkeypatch.setenv("WHISTLE_RETENTION_DAYS", "0")
    again = CliRunner().invoke(cli, ["sweep", "--no-mail"])
    assert again.exit_code == 0 and "purged 0 archived cases" in again.output
    assert world.case(kept) is not None
    engine.dispose()
