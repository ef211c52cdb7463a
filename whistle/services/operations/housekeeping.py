"""Housekeeping the sweep does besides case work: nothing may linger that a crash left behind.

* Expired server-side sessions are deleted. One may still hold, encrypted under its cookie's
  key, a ticket its reporter never confirmed; deleting the row makes it unrecoverable even by
  someone who later finds that cookie.
* Upload temp files are tidied with the store's own crash repair (``sweep_orphans``), only once
  they are older than a reporter session can live, so a form still being corrected keeps its
  pending files.
* Plaintext temp files in the work folder (uploads being cleaned) are deleted in ``finally``
  blocks; after a hard crash this removes what those blocks never reached.

:func:`recover` is the part that needs no clock: it runs at every start-up (whistle/app.py),
whenever a gunicorn worker exits (deploy/gunicorn.conf.py) and in every sweep. It deletes the
plaintext in work folders no live process owns, moves in a file whose row was committed by a
process killed before the rename, and deletes the encrypted temps a killed request left
(whistle/attachments/workspace.py says how each is known for certain).
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ...attachments import workspace
from ...attachments.errors import AttachmentError
from ...attachments.storage import AttachmentStore
from ...config import Config
from ...models import Attachment

log = logging.getLogger("whistle.housekeeping")

# A plaintext temp file untouched this long belongs to no request still running: uploads
# write continuously, and cleaning a file takes seconds.
WORK_FILE_MAX_AGE = timedelta(hours=1)
# How long a dead process's last COMMIT may take to become visible (it was sent before the
# process died; PostgreSQL finishes it regardless). Waited only when recovery finds temps of
# killed requests, i.e. after a crash.
COMMIT_GRACE = 2.0


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


@dataclass(frozen=True)
class Recovery:
    plaintext_removed: int  # files in work folders whose process is gone
    files_recovered: int  # committed rows whose file was still a temp: moved in
    temps_discarded: int  # encrypted temps of requests killed before their commit

    def summary(self) -> str:
        return (f"plaintext removed {self.plaintext_removed}, files recovered "
                f"{self.files_recovered}, killed uploads discarded {self.temps_discarded}")


def _known(factory: sessionmaker[Session], names: Iterable[str]) -> set[str]:
    """Which of these storage names the database holds (in bounded IN lists)."""
    ordered, known = sorted(names), set[str]()
    with factory() as db:
        for i in range(0, len(ordered), 500):
            known.update(db.scalars(select(Attachment.storage_name)
                                    .where(Attachment.storage_name.in_(ordered[i:i + 500]))))
    return known


def wait_for_commits_in_flight() -> None:
    # A COMMIT the dead process sent just before it died may still be on its way through
    # PostgreSQL: give it time to land, then ask again.
    time.sleep(COMMIT_GRACE)


def _settle(factory: sessionmaker[Session], temps: set[str],
            journaled: set[str]) -> tuple[set[str], set[str]]:
    """(temps the database holds rows for, temps whose killed request never committed)."""
    known = _known(factory, temps) if temps else set()
    abandoned = (journaled & temps) - known
    if abandoned:
        wait_for_commits_in_flight()
        known |= _known(factory, abandoned)
        abandoned -= known
    return known, abandoned


def recover(factory: sessionmaker[Session], config: Config) -> Recovery:
    """Undo what killed processes left behind (see the module docstring). Safe while other
    processes and hosts keep working: it touches only what is certainly nobody's."""
    store = AttachmentStore(config.attachments_dir)
    dead = list(workspace.dead_workspaces(config.tmp_dir))
    try:
        # First, whatever happens next: no plaintext outlives the process that wrote it.
        plaintext = sum(d.remove_plaintext() for d in dead)
        journaled: set[str] = set()
        for d in dead:
            journaled |= d.journal
        try:
            known, abandoned = _settle(factory, workspace.store_temp_names(store), journaled)
        except SQLAlchemyError as exc:
            # Without the database a commit cannot be told from a rollback: the journals
            # stay for the next run.
            log.warning("recovery: database unavailable (%s)", type(exc).__name__)
            return Recovery(plaintext, 0, 0)
        recovered = sum(_finish(store, n, commit=True) for n in sorted(known))
        discarded = sum(_finish(store, n, commit=False) for n in sorted(abandoned))
        for d in dead:
            d.remove()
    finally:
        for d in dead:
            d.release()
    return Recovery(plaintext, recovered, discarded)


def _finish(store: AttachmentStore, name: str, *, commit: bool) -> int:
    handle = workspace.pending_handle(store, name)
    try:
        if commit:
            store.commit(handle)
        else:
            store.discard(handle)
    except (FileNotFoundError, AttachmentError):
        return 0  # a live request moved it in at the same moment: nothing left to do
    return 1


def remove_stale_work_files(work_dir: Path, older_than: timedelta, now: float) -> int:
    """Delete regular files (never following links) under ``work_dir`` older than the cutoff.

    Workspaces (``w-*``) are left to :func:`recover`: a live one is in use however old its
    files look, a dead one is emptied whatever their age.
    """
    cutoff = now - older_than.total_seconds()
    removed = 0
    if not work_dir.is_dir():
        return 0
    for dirpath, dirs, files in os.walk(work_dir, followlinks=False):
        if dirpath == str(work_dir):
            dirs[:] = [d for d in dirs if not d.startswith(workspace.PREFIX)]
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
    crashed = recover(factory, config)
    purged = make_store(config, engine).purge_expired(now)
    with factory() as db:
        known = set(db.scalars(select(Attachment.storage_name)))
    store = AttachmentStore(config.attachments_dir)
    # Pending uploads live as long as the reporter's session can: keep them that long, plus slack.
    keep = timedelta(seconds=config.reporter_absolute_timeout) + timedelta(hours=1)
    files = store.sweep_orphans(known, keep, now=now)
    plaintext = remove_stale_work_files(config.tmp_dir, WORK_FILE_MAX_AGE, now)
    return Housekeeping(purged, files.removed_tmp + crashed.temps_discarded,
                        files.recovered + crashed.files_recovered, files.removed_files,
                        plaintext + crashed.plaintext_removed)
