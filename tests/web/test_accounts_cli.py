"""CLI: `whistle init` creates the first admin with a one-time secret; create-admin,
enrolment-reset and verify-audit."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from whistle.cli import cli
from whistle.config import Config
from whistle.db import make_engine, make_sessionmaker, transaction
from whistle.models import AuditEntry, Officer

SECRET_RE = re.compile(r"^\s+([A-Z2-7]{4}(?:-[A-Z2-7]{4}){5})$", re.M)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"WHISTLE_INSTANCE_DIR": str(tmp_path / "inst")}


def _db(env: dict[str, str]):  # type: ignore[no-untyped-def]
    url = Config(instance_dir=Path(env["WHISTLE_INSTANCE_DIR"])).db_url
    return make_sessionmaker(make_engine(url))


def test_init_creates_first_admin_once(env: dict[str, str]) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["init"], env=env)
    assert first.exit_code == 0, first.output
    assert SECRET_RE.search(first.output), first.output
    assert "password" not in first.output.lower()
    second = runner.invoke(cli, ["init"], env=env)
    assert second.exit_code == 0 and not SECRET_RE.search(second.output)
    with transaction(_db(env)) as db:
        admins = db.scalars(select(Officer).where(Officer.role == "admin")).all()
        assert len(admins) == 1
        assert admins[0].passphrase_hash is None and admins[0].sealed_private_key is None
        assert admins[0].enrolment_hash is not None


def test_create_admin_and_enrolment_reset(env: dict[str, str]) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["init"], env=env)
    made = runner.invoke(cli, ["create-admin", "--username", "kedua"], env=env)
    assert made.exit_code == 0 and SECRET_RE.search(made.output)
    dup = runner.invoke(cli, ["create-admin", "--username", "kedua"], env=env)
    assert dup.exit_code != 0
    reset = runner.invoke(cli, ["enrolment-reset", "kedua"], env=env)
    assert reset.exit_code == 0 and SECRET_RE.search(reset.output)
    assert SECRET_RE.search(reset.output).group(1) != SECRET_RE.search(made.output).group(1)  # type: ignore[union-attr]
    assert runner.invoke(cli, ["enrolment-reset", "nobody"], env=env).exit_code != 0


def test_verify_audit_exit_codes(env: dict[str, str]) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["init"], env=env)
    runner.invoke(cli, ["create-admin", "--username", "kedua"], env=env)
    ok = runner.invoke(cli, ["verify-audit"], env=env)
    assert ok.exit_code == 0 and "intact" in ok.output
    with transaction(_db(env)) as db:
        first = db.scalar(select(AuditEntry.id).order_by(AuditEntry.id))
        db.execute(update(AuditEntry).where(AuditEntry.id == first).values(detail="tampered"))
    bad = runner.invoke(cli, ["verify-audit"], env=env)
    assert bad.exit_code == 1 and "BROKEN" in bad.output
