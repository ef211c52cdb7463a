"""SQLite, the embedded default, commits durably: a report whose ticket page was shown must
survive a power cut, not only a process crash (synchronous=FULL in WAL mode; NORMAL syncs only
at checkpoints). Power loss itself cannot be simulated here; what is checked is the setting on
the very connections the app files reports with. Its cost: bench/bench_durability.py."""
from __future__ import annotations

from pathlib import Path

import pytest

from whistle.db import make_engine
from whistle.web.state import state


def test_every_sqlite_connection_syncs_each_commit(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        for _ in range(3):  # pooled and fresh connections alike
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        engine.dispose()


@pytest.mark.parametrize("db_backend", ["sqlite"])
def test_the_apps_own_engine_files_reports_with_full_sync(app) -> None:  # type: ignore[no-untyped-def]
    with state(app).engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
