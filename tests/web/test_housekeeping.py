"""The sweep's housekeeping: nothing a crash or an abandoned visit leaves behind lingers."""
from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import func, select

from tests.web.reporter_helpers import make_org
from whistle.attachments.storage import AttachmentStore
from whistle.db import transaction
from whistle.models import ServerSession
from whistle.services.operations import housekeeping
from whistle.web.state import state

HOUR = 3600.0


def _sessions(app) -> int:
    with transaction(state(app).db) as db:
        return db.scalar(select(func.count()).select_from(ServerSession)) or 0


def _age(path: Path, seconds: float) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old), follow_symlinks=False)


def test_expired_sessions_are_purged_and_live_ones_kept(app, client) -> None:
    make_org(app)
    client.get("/lapor")  # the form's CSRF token opens a server-side session
    assert _sessions(app) == 1
    st = state(app)
    kept = housekeeping.run(st.db, st.engine, st.config)
    assert kept.sessions_purged == 0 and _sessions(app) == 1
    later = time.time() + st.config.reporter_absolute_timeout + 60
    gone = housekeeping.run(st.db, st.engine, st.config, now=later)
    assert gone.sessions_purged == 1 and _sessions(app) == 0


def test_stale_plaintext_temps_removed_fresh_kept_links_not_followed(app, tmp_path: Path) -> None:
    st = state(app)
    work = st.config.tmp_dir
    work.mkdir(parents=True, exist_ok=True)
    stale, fresh = work / "tmpcrashed", work / "tmpinflight"
    stale.write_bytes(b"plaintext evidence left by a crash")
    fresh.write_bytes(b"an upload being cleaned right now")
    _age(stale, 2 * HOUR)
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"not ours")
    link = work / "link"
    link.symlink_to(outside)
    _age(link, 2 * HOUR)
    report = housekeeping.run(st.db, st.engine, st.config)
    assert report.plaintext_removed == 1
    assert not stale.exists() and fresh.exists() and outside.exists()


def test_abandoned_upload_temps_outlive_the_session_then_go(app) -> None:
    st = state(app)
    store = AttachmentStore(st.config.attachments_dir)
    pending = store.create_tmp()
    pending.write(b"ciphertext of a pending upload")
    pending.close()
    keep = st.config.reporter_absolute_timeout
    _age(pending.path, keep - HOUR)  # its form may still be open: kept
    assert housekeeping.run(st.db, st.engine, st.config).temp_removed == 0
    assert pending.path.exists()
    _age(pending.path, keep + 2 * HOUR)  # no session can still refer to it
    assert housekeeping.run(st.db, st.engine, st.config).temp_removed == 1
    assert not pending.path.exists()
