"""The embedded set-up writes nothing another local user can read, whatever the umask.

Instance folder 0700, every folder in it 0700 and every file 0600: the SQLite database and its
``-wal`` / ``-shm`` files, the secrets, the log, the encrypted attachments and their fan-out
folders. Checked after a real ``whistle init`` and a real filing (with an attachment, so the
store and the WAL are written) under the permissive umask 0000, and again for an instance an
older version left with 0644 / 0755 modes.
"""
from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.web.reporter_helpers import file_report, make_org
from whistle.app import create_app
from whistle.cli import cli
from whistle.web.logging import configure_logging
from whistle.web.state import state


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def _modes(root: Path) -> dict[str, int]:
    out = {".": stat.S_IMODE(root.stat().st_mode)}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            out[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return out


def _assert_private(root: Path) -> dict[str, int]:
    modes = _modes(root)
    wrong = {name: oct(mode) for name, mode in modes.items()
             if mode != (0o700 if (root / name).is_dir() else 0o600)}
    assert not wrong, f"not private: {wrong}"
    return modes


def _file_a_report(instance: Path) -> None:
    app = create_app({"instance_dir": instance, "testing": True})
    try:
        make_org(app)
        client = app.test_client()
        file_report(client, files=[(b"evidence bytes", "bukti.txt")])
        logging.getLogger("whistle").info("a line in the log file")
        # While the engine is open, SQLite's -wal and -shm exist and must already be private.
        _assert_private(instance)
        assert (instance / "whistle.db-wal").exists() and (instance / "whistle.db-shm").exists()
    finally:
        state(app).engine.dispose()


def test_new_instance_is_private_under_umask_0(tmp_path: Path, loose_umask: None,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    instance = tmp_path / "instance"
    monkeypatch.setenv("WHISTLE_INSTANCE_DIR", str(instance))
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    os.umask(0)  # the command set 0077 for itself; the app must not rely on that
    configure_logging(instance / "logs")
    try:
        _file_a_report(instance)
    finally:
        logging.getLogger().handlers.clear()
    modes = _assert_private(instance)
    for name in ("whistle.db", "secrets/pepper", "logs/whistle.log"):
        assert name in modes
    stored = [n for n in modes if n.startswith("attachments/") and len(Path(n).name) == 32]
    assert stored, "the attachment reached the store"


def test_loose_modes_of_an_older_instance_are_repaired(tmp_path: Path, loose_umask: None,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    instance = tmp_path / "instance"
    monkeypatch.setenv("WHISTLE_INSTANCE_DIR", str(instance))
    assert CliRunner().invoke(cli, ["init"]).exit_code == 0
    os.chmod(instance, 0o755)
    os.chmod(instance / "whistle.db", 0o644)
    (instance / "logs" / "whistle.log.1").write_text("old rotated log")
    os.chmod(instance / "logs" / "whistle.log.1", 0o644)
    os.chmod(instance / "logs", 0o755)
    os.umask(0)
    _file_a_report(instance)
    _assert_private(instance)
