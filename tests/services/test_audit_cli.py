"""``whistle audit head | verify [--head FILE] | seal`` and ``whistle verify-audit`` through
whistle.cli: exit 0 intact, 1 tampered (first bad entry named), 2 unusable head file, never
a traceback. On SQLite and PostgreSQL."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.services.test_audit_seal import T0, old_entry
from whistle.cli import cli
from whistle.db import transaction
from whistle.models import AuditEntry
from whistle.services.custody import audit, audit_head

Factory = sessionmaker[Session]


@pytest.fixture
def run(db_url: str, instance_dir: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WHISTLE_INSTANCE_DIR", str(instance_dir))
    monkeypatch.setenv("WHISTLE_DATABASE_URL", db_url)

    def invoke(*args: str) -> Result:
        result = CliRunner().invoke(cli, list(args))
        assert "Traceback" not in result.output, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        return result

    return invoke


def fill(factory: Factory, n: int = 4) -> list[int]:
    for i in range(n):
        with transaction(factory) as db:
            audit.append(db, "officer:1", "case.view", f"case:{i}")
    with factory() as db:
        return list(db.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))


def test_head_then_verify_against_it(run, factory: Factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ids = fill(factory)
    printed = run("audit", "head")
    assert printed.exit_code == 0 and printed.output.startswith(audit_head.BEGIN)
    assert audit_head.parse(printed.output).head.last_id == ids[-1]
    saved = run("audit", "head", "-o", str(tmp_path / "head.txt"))
    assert saved.exit_code == 0 and "4 entries" in saved.output
    again = run("audit", "head", "-o", str(tmp_path / "head.txt"))  # never overwrites a kept head
    assert again.exit_code == 1 and "cannot write" in again.output
    fill(factory, 2)  # later entries are fine
    for command in (("audit", "verify"), ("verify-audit",)):
        ok = run(*command, "--head", str(tmp_path / "head.txt"))
        assert ok.exit_code == 0, ok.output
        assert "intact: 6 entries" in ok.output and f"4 entries up to #{ids[-1]}" in ok.output


def test_truncation_is_caught_only_with_the_head(run, factory: Factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ids = fill(factory)
    head = tmp_path / "head.txt"
    assert run("audit", "head", "-o", str(head)).exit_code == 0
    with transaction(factory) as db:
        db.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": ids[-1]})
    assert run("audit", "verify").exit_code == 0  # the chain alone still holds
    bad = run("audit", "verify", "--head", str(head))
    assert bad.exit_code == 1
    assert f"BROKEN at entry {ids[-1]}" in bad.output and "missing at the end" in bad.output


def test_edit_names_the_entry_and_no_head_is_signed(run, factory: Factory) -> None:  # type: ignore[no-untyped-def]
    ids = fill(factory)
    with transaction(factory) as db:
        db.execute(text("UPDATE audit_log SET object = 'case:else' WHERE id = :i"), {"i": ids[1]})
    for command in (("audit", "verify"), ("verify-audit",)):
        bad = run(*command)
        assert bad.exit_code == 1 and f"BROKEN at entry {ids[1]}" in bad.output
        assert "1 entries verified before it" in bad.output
    head = run("audit", "head")
    assert head.exit_code == 1 and audit_head.BEGIN not in head.output
    assert "no head signed" in head.output


def test_unusable_head_files_exit_2(run, factory: Factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fill(factory)
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("hello auditor\n")
    foreign = tmp_path / "foreign.txt"
    with transaction(factory) as db:
        foreign.write_text(audit_head.sign(audit_head.current(db), audit.AuditKeys.generate()).text())
    cases = {str(garbage): "no head found", str(tmp_path / "nope.txt"): "cannot read",
             str(foreign): "signed by another key"}
    for path, message in cases.items():
        result = run("audit", "verify", "--head", path)
        assert result.exit_code == 2, result.output
        assert "bad head file" in result.output and message in result.output


def test_seal_an_old_log_once(run, factory: Factory, instance_dir: Path) -> None:  # type: ignore[no-untyped-def]
    prev = bytes(32)
    with transaction(factory) as db:
        for i in range(3):
            prev = old_entry(db, prev, T0, f"officer:{i}", "case.view").hash
    unsealed = run("audit", "verify")
    assert unsealed.exit_code == 1 and "whistle audit seal" in unsealed.output
    sealed = run("audit", "seal")
    assert sealed.exit_code == 0 and "sealed 3 old entries" in sealed.output
    assert prev.hex() in sealed.output  # the old chain's last hash, for the record
    assert run("audit", "verify").exit_code == 0
    marker = instance_dir / "secrets" / "audit_sealed"
    assert stat.S_IMODE(os.stat(marker).st_mode) == 0o600
    twice = run("audit", "seal")
    assert twice.exit_code == 1 and "sealed its audit log already" in twice.output


def test_broken_old_log_is_not_sealed(run, factory: Factory, instance_dir: Path) -> None:  # type: ignore[no-untyped-def]
    prev = bytes(32)
    with transaction(factory) as db:
        for i in range(3):
            prev = old_entry(db, prev, T0, f"officer:{i}", "case.view").hash
        db.execute(text("UPDATE audit_log SET actor = 'officer:7' WHERE id = 2"))
    refused = run("audit", "seal")
    assert refused.exit_code == 1 and "does not verify at entry 2" in refused.output
    assert not (instance_dir / "secrets" / "audit_sealed").exists()  # may be retried


def test_missing_audit_secret_is_a_clear_error(run, instance_dir: Path) -> None:  # type: ignore[no-untyped-def]
    (instance_dir / "secrets" / "audit_signing_key").unlink()
    for command in (("audit", "verify"), ("audit", "head"), ("create-admin", "--username", "x")):
        result = run(*command)
        assert result.exit_code == 1 and "audit_signing_key" in result.output
        assert "whistle init" in result.output


def test_init_marks_the_instance_so_a_downgraded_log_is_never_sealed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An insider re-chains the whole log with plain SHA-256 (as if from before the key) and
    waits for the next upgrade: `whistle init` and `whistle audit seal` refuse to bless it."""
    from tests.services.test_audit import rechain, sha256_link
    from whistle.config import Config
    from whistle.db import make_engine, make_sessionmaker

    instance = tmp_path / "inst"
    monkeypatch.setenv("WHISTLE_INSTANCE_DIR", str(instance))
    runner = CliRunner()
    assert runner.invoke(cli, ["init"]).exit_code == 0
    marker = instance / "secrets" / "audit_sealed"
    assert "nothing to seal" in marker.read_text()
    assert runner.invoke(cli, ["audit", "verify"]).exit_code == 0
    engine = make_engine(Config(instance_dir=instance).db_url)
    try:
        rechain(make_sessionmaker(engine), sha256_link)
    finally:
        engine.dispose()
    assert runner.invoke(cli, ["init"]).exit_code == 0
    assert runner.invoke(cli, ["audit", "verify"]).exit_code == 1
    refused = runner.invoke(cli, ["audit", "seal"])
    assert refused.exit_code == 1 and "re-chained them without the key" in refused.output
    assert runner.invoke(cli, ["audit", "verify"]).exit_code == 1
