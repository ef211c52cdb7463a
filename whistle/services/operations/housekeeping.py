"""Housekeeping the sweep does besides case work: nothing may linger that a crash left behind.

* Expired server-side sessions are deleted. One may still hold, encrypted under its cookie's
  key, a ticket its reporter never confirmed; deleting the row makes it unrecoverable even by
  someone who later finds that cookie.
* Upload temp files are tidied with the store's own crash repair (``sweep_orphans``), only once
  they are older than a reporter session can live, so a form still being corrected keeps its
  pending files.
* Plaintext temp files in the work folder (uploads being cleaned) are deleted in ``finally``
  blocks; after a hard crash this removes what those blocks never reached.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ...attachments.storage import AttachmentStore
from ...config import Config
from ...models import Attachment

# A plaintext temp file untouched this long belongs to no request still running: uploads
# write continuously, and cleaning a file takes seconds.
WORK_FILE_MAX_AGE = timedelta(hours=1)


@dataclass(frozen=True)
class Housekeeping:
    sessions_purged: int
    temp_removed: int
    files_recovered: int
    orphans_removed: int
    plaintext_removed: int

    def summary(self) -> str:
        return (f"sessions purged {self.sessions_purged}, upload temps removed "
                f"{self.temp_removed}, files recovered {self.files_recovered}, orphans removed "
                f"{self.orphans_removed}, plaintext temps removed {self.plaintext_removed}")


def remove_stale_work_files(work_dir: Path, older_than: timedelta, now: float) -> int:
    """Delete regular files (never following links) under ``work_dir`` older than the cutoff."""
    cutoff = now - older_than.total_seconds()
    removed = 0
    if not work_dir.is_dir():
        return 0
    for dirpath, _dirs, files in os.walk(work_dir, followlinks=False):
        for name in files:
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
                if os.path.isfile(path) and not os.path.islink(path) and st.st_mtime < cutoff:
                    os.unlink(path)
                    removed += 1
            except FileNotFoundError:  # finished and removed by its own request meanwhile
                continue
    return removed


def run(factory: sessionmaker[Session], engine: Engine, config: Config,
        now: float | None = None) -> Housekeeping:
    from ...web.sessions import make_store  # the same store the app uses (DB or Redis)

    now = time.time() if now is None else now
    purged = make_store(config, engine).purge_expired(now)
    with factory() as db:
        known = set(db.scalars(select(Attachment.storage_name)))
    store = AttachmentStore(config.attachments_dir)
    # Pending uploads live as long as the reporter's session can: keep them that long, plus slack.
    keep = timedelta(seconds=config.reporter_absolute_timeout) + timedelta(hours=1)
    files = store.sweep_orphans(known, keep, now=now)
    plaintext = remove_stale_work_files(config.tmp_dir, WORK_FILE_MAX_AGE, now)
    return Housekeeping(purged, files.removed_tmp, files.recovered, files.removed_files, plaintext)
