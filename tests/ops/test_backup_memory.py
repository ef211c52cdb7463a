"""Backup and restore stream: their peak memory does not grow with the size of the store.

The same instance is backed up and restored twice in a fresh process, once with a 1 MiB and
once with a 64 MiB evidence file, and the processes' peak resident sizes are compared. (The
backup treats store files as opaque bytes, so the large file can be written straight into the
store under the name a real filing gave it.)
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.ops.backup_helpers import keypair
from tests.web.reporter_helpers import file_report, make_org
from whistle.app import create_app
from whistle.attachments.storage import AttachmentStore
from whistle.cli import upgrade_database
from whistle.config import Config, init_instance
from whistle.db import transaction
from whistle.models import Attachment
from whistle.web.state import state

MIB = 1 << 20
ROOT = Path(__file__).resolve().parents[2]
PEAK = ("import resource, sys\n"
        "from whistle.cli import cli\n"
        "try:\n"
        "    cli(sys.argv[1:], prog_name='whistle')\n"
        "finally:\n"
        "    print('PEAK_KIB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
        " file=sys.stderr)\n")


def _peak_kib(instance: Path, db_url: str, *args: str) -> int:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
           "WHISTLE_INSTANCE_DIR": str(instance), "WHISTLE_DATABASE_URL": db_url}
    proc = subprocess.run([sys.executable, "-c", PEAK, *args], env=env, capture_output=True,
                          text=True, timeout=300)
    assert "PEAK_KIB" in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode in (0, None), proc.stderr[-2000:]
    return int(proc.stderr.rsplit("PEAK_KIB", 1)[1].split()[0])


def _instance_with_file(tmp_path: Path, name: str, size: int) -> tuple[Path, str]:
    instance = tmp_path / name
    url = f"sqlite:///{tmp_path / (name + '.db')}"
    config = Config(instance_dir=instance, database_url=url)
    init_instance(config)
    upgrade_database(config)
    app = create_app({"instance_dir": instance, "database_url": url, "testing": True})
    try:
        make_org(app)
        file_report(app.test_client(), files=[(b"placeholder evidence", "bukti.txt")])
        with transaction(state(app).db) as db:
            storage_name = db.scalar(select(Attachment.storage_name))
    finally:
        state(app).engine.dispose()
    path = AttachmentStore(instance / "attachments").path_for(str(storage_name))
    with open(path, "wb") as fh:
        for _ in range(size // MIB):
            fh.write(os.urandom(MIB))
    return instance, url


@pytest.mark.slow
def test_backup_and_restore_memory_is_flat(tmp_path: Path) -> None:
    pub, key, passfile = keypair(tmp_path, "data")
    peaks: dict[int, tuple[int, int]] = {}
    for size in (1 * MIB, 64 * MIB):
        instance, url = _instance_with_file(tmp_path, f"src{size}", size)
        out = tmp_path / f"data-{size}.wbk"
        backup_kib = _peak_kib(instance, url, "backup", "--to", str(pub), "--out", str(out))
        assert out.stat().st_size > size
        target, target_url = tmp_path / f"dst{size}", f"sqlite:///{tmp_path / f'dst{size}.db'}"
        restore_kib = _peak_kib(target, target_url, "restore", str(out), "--key", str(key),
                                "--passphrase-file", str(passfile))
        restored = list((target / "attachments").rglob("*"))
        assert any(p.is_file() and p.stat().st_size == size for p in restored)
        peaks[size] = (backup_kib, restore_kib)
    small, large = peaks[1 * MIB], peaks[64 * MIB]
    print("peak KiB (backup, restore):", peaks)
    # 63 MiB more data may cost at most a few MiB more memory (allocator noise), never the file.
    assert large[0] - small[0] < 8 * 1024, peaks
    assert large[1] - small[1] < 8 * 1024, peaks
