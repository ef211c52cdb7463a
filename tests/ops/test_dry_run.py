"""``whistle sweep --dry-run`` and ``whistle retention --dry-run`` list what would happen and
change nothing: every row of every table, the attachment store and the work folder are the
same afterwards (on SQLite the database files are byte-identical). Then the real commands run
and do exactly what the preview listed."""
from __future__ import annotations

import hashlib
import io
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import MetaData, select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.web.cases_world import PEPPER, World, build_world
from whistle.attachments.storage import AttachmentStore
from whistle.cli import cli
from whistle.db import make_engine, transaction
from whistle.domain.constants import Category, Kind
from whistle.filemodes import sqlite_path
from whistle.models import Attachment, Case
from whistle.services.reporter import files as reporter_files
from whistle.services.reporter import reports

RETENTION = 30


def _snapshot_rows(db_url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = make_engine(db_url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            return {t.name: sorted((tuple(r) for r in conn.execute(t.select())), key=repr)
                    for t in meta.sorted_tables}
    finally:
        engine.dispose()


def _snapshot_files(*roots: Path) -> dict[str, tuple[int, str]]:
    out = {}
    for root in roots:
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                path = Path(dirpath) / name
                out[str(path)] = (path.stat().st_mtime_ns,
                                  hashlib.sha256(path.read_bytes()).hexdigest())
    return out


def _db_bytes(db_url: str) -> dict[str, str]:
    path = sqlite_path(db_url)
    if path is None:
        return {}
    return {suffix: hashlib.sha256(Path(f"{path}{suffix}").read_bytes()).hexdigest()
            for suffix in ("", "-wal") if Path(f"{path}{suffix}").exists()}


def _register(world: World, case_id: str) -> str:
    return world.case(case_id).register_no


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, instance_dir: Path, db_url: str) -> Path:
    monkeypatch.setenv("WHISTLE_INSTANCE_DIR", str(instance_dir))
    monkeypatch.setenv("WHISTLE_DATABASE_URL", db_url)
    monkeypatch.setenv("WHISTLE_RETENTION_DAYS", str(RETENTION))
    return instance_dir


def _world_due_for_everything(factory: sessionmaker[Session], instance: Path) -> dict[str, str]:
    world = build_world(factory)
    now = datetime.now(UTC)
    ids = {name: world.file()[0] for name in ("unanswered", "closed", "late", "fresh")}
    store = AttachmentStore(instance / "attachments")
    work = instance / "tmp"
    staged = [reporter_files.stage_upload(store, io.BytesIO(b"bukti transfer"), "a.txt",
                                          "text/plain", max_bytes=1 << 20, workdir=work)]
    report = reports.ReportInput(
        kind=Kind.WHISTLEBLOWING, category=Category.ETHICS_CODE, unit_id=world.units["PUSAT"],
        who="Pak Budi", who_position="Kepala Seksi", what="Meminta uang pelicin.",
        when="Maret 2026", where="Kantor", how="Tunai.")
    old_case, _ = reports.file_report(factory, report, pepper=PEPPER, files=staged, store=store)
    ids["purge"] = old_case.id
    ids["young_archive"] = world.file()[0]
    today = now.date()
    with transaction(factory) as db:
        db.execute(update(Case).where(Case.id == ids["unanswered"]).values(
            status="awaiting_data", due_on=today - timedelta(days=5)))
        db.execute(update(Case).where(Case.id == ids["closed"]).values(
            status="closed", due_on=None, closed_at=now - timedelta(days=90)))
        db.execute(update(Case).where(Case.id == ids["late"]).values(
            due_on=today - timedelta(days=2), is_late=False))
        db.execute(update(Case).where(Case.id == ids["purge"]).values(
            status="archived", due_on=None, archived_at=now - timedelta(days=RETENTION + 3)))
        db.execute(update(Case).where(Case.id == ids["young_archive"]).values(
            status="archived", due_on=None, archived_at=now - timedelta(days=RETENTION - 3)))
    return {name: _register(world, case_id) for name, case_id in ids.items()}


def _listed(output: str, heading: str) -> set[str]:
    """Register numbers listed under the group whose heading starts with ``heading``."""
    block = output.split(heading, 1)[1].split("\n", 1)[1]
    names = []
    for line in block.splitlines():
        if not line.startswith("  "):
            break
        names.append(line.split()[0])
    return set(names)


def test_dry_runs_change_nothing_and_predict_the_real_run(
        factory: sessionmaker[Session], db_url: str, env: Path) -> None:
    reg = _world_due_for_everything(factory, env)
    factory.kw["bind"].dispose()  # SQLite: checkpoint now, so the files are at rest
    rows, files, raw = (_snapshot_rows(db_url), _snapshot_files(env),
                        _db_bytes(db_url))
    runner = CliRunner()

    sweep_out = runner.invoke(cli, ["sweep", "--dry-run"])
    assert sweep_out.exit_code == 0, sweep_out.output
    retention_out = runner.invoke(cli, ["retention", "--dry-run"])
    assert retention_out.exit_code == 0, retention_out.output

    assert _snapshot_rows(db_url) == rows  # every row of every table, audit log included
    assert _snapshot_files(env) == files  # store, work folder, logs, heartbeat: untouched
    assert _db_bytes(db_url) == raw  # SQLite: not one byte of the database files changed

    out = sweep_out.output
    assert out.startswith("dry run: nothing was changed")
    assert _listed(out, "would archive (data request") == {reg["unanswered"]}
    assert _listed(out, "would archive (closed") == {reg["closed"]}
    assert re.search(r"^would mark late: 1$", out, re.M)
    assert _listed(out, "would purge") == {reg["purge"]}
    assert re.search(r"^would purge .*: 1, 1 attachment file\(s\)$", out, re.M)
    assert _listed(retention_out.output, "would purge") == {reg["purge"]}
    assert "would archive" not in retention_out.output
    assert "Pak Budi" not in out and "pelicin" not in out  # no content, only metadata

    # The real sweep does exactly what the preview said.
    with transaction(factory) as db:
        names_before = set(db.scalars(select(Attachment.storage_name)))
    real = runner.invoke(cli, ["sweep", "--no-mail"])
    assert real.exit_code == 0, real.output
    with transaction(factory) as db:
        status = {r: s for r, s in db.execute(select(Case.register_no, Case.status))}
        late = {r for r, in db.execute(select(Case.register_no).where(Case.is_late.is_(True)))}
    assert status[reg["unanswered"]] == "archived" and status[reg["closed"]] == "archived"
    assert reg["purge"] not in status and status[reg["young_archive"]] == "archived"
    assert status[reg["fresh"]] == "received" and late == {reg["late"]}
    store = AttachmentStore(env / "attachments")
    assert not any(store.exists(n) for n in names_before)  # the purged case's file is gone


def test_retention_command_purges_for_real(factory: sessionmaker[Session], db_url: str,
                                           env: Path) -> None:
    reg = _world_due_for_everything(factory, env)
    result = CliRunner().invoke(cli, ["retention"])
    assert result.exit_code == 0, result.output
    assert "purged 1 archived cases" in result.output
    with transaction(factory) as db:
        left = set(db.scalars(select(Case.register_no)))
    assert reg["purge"] not in left and reg["unanswered"] in left  # nothing else was swept
