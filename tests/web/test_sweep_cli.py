"""``whistle sweep`` runs the sweep against the configured database."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from tests.web.cases_world import build_world
from whistle.db import make_engine, make_sessionmaker, transaction
from whistle.models import Case


def test_sweep_command_archives_and_reports_counts(db_url: str, instance_dir: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from whistle.cli import cli

    engine = make_engine(db_url)
    world = build_world(make_sessionmaker(engine))
    case_id, _ = world.file()
    world.act("ver", case_id, "start_verification")
    world.act("ver", case_id, "request_data", message="Mohon kirim foto kuitansi.")
    with transaction(world.factory) as db:  # its deadline passed yesterday
        db.execute(update(Case).where(Case.id == case_id)
                   .values(due_on=date.today() - timedelta(days=2)))
    monkeypatch.setenv("WHISTLE_INSTANCE_DIR", str(instance_dir))
    monkeypatch.setenv("WHISTLE_DATABASE_URL", db_url)
    result = CliRunner().invoke(cli, ["sweep", "--no-mail"])
    assert result.exit_code == 0, result.output
    assert "archived 1 unanswered" in result.output
    assert "kuitansi" not in result.output and case_id not in result.output
    assert world.case(case_id).status == "archived"
    again = CliRunner().invoke(cli, ["sweep", "--no-mail"])
    assert again.exit_code == 0 and "archived 0 unanswered" in again.output
    engine.dispose()
