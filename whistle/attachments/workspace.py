"""The work folder's crash safety: plaintext temps belong to a live process, or to nobody.

Uploads are cleaned from plaintext temp files in the work folder (``WHISTLE_WORK_DIR``). Each
process that writes them owns one folder there, ``w-<random>/``, and holds an exclusive
``flock`` on that folder for as long as it lives. The kernel drops that lock however
the process dies (SIGKILL, the OOM killer, a power cut ends everything anyway), so "does a
live process still use this?" has an exact answer, with no clock and no guess: a folder whose
lock can be taken belongs to nobody, and the plaintext in it is deleted at start-up, when a
gunicorn worker exits, and by every sweep. A folder is created under a staging name
(``.new-<random>``) and renamed only once locked, so its public name is never seen unlocked
while its owner lives.

The same folder journals the names of the encrypted store temps (``root/tmp/<name>.part``) the
process created for requests still running, one empty ``staged-<name>`` file each, written
before the temp file exists and removed when the request has ended (its files committed,
discarded, or parked in the reporter's saved session). A dead process's journal therefore
names the temps that no request and no session will ever claim: recovery deletes those at
once, or moves one into the store if the database already holds its row (the commit happened,
the rename did not).

Local filesystems only (a tmpfs, as deploy/ sets up): ``flock`` over NFS is not dependable.
"""
from __future__ import annotations

import errno
import fcntl
import io
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from .storage import AttachmentStore, PendingFile

PREFIX = "w-"
STAGING_PREFIX = ".new-"
JOURNAL_PREFIX = "staged-"
_STORE_TEMP = re.compile(r"\A([0-9a-f]{32})\.part\Z")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# A staging folder is empty (it is renamed before anything is written into it); one older than
# this was left by a process that died between creating and renaming it.
STAGING_MAX_AGE = 60.0


class Workspace:
    """This process's own folder in one work dir (see the module docstring)."""

    _mine: dict[tuple[int, Path], Workspace] = {}
    _guard = threading.Lock()

    def __init__(self, root: Path) -> None:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=root))  # 0700
        fd = os.open(staging, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW | os.O_CLOEXEC)
        fcntl.flock(fd, fcntl.LOCK_EX)  # a brand-new folder: nobody else can hold it
        self.path = root / (PREFIX + secrets.token_hex(8))
        os.rename(staging, self.path)
        self._fd = fd  # kept open, never closed: the lock lives exactly as long as we do

    @classmethod
    def of(cls, root: Path) -> Workspace:
        """The calling process's workspace under ``root`` (created on first use; a forked child
        gets its own, since its parent's lock says nothing about the child)."""
        key = (os.getpid(), Path(root).resolve())
        with cls._guard:
            ws = cls._mine.get(key)
            if ws is None or not ws.path.is_dir():  # recreated if someone deleted it by hand
                ws = cls._mine[key] = cls(key[1])
            return ws

    def note(self, storage_name: str) -> None:
        os.close(os.open(self.path / (JOURNAL_PREFIX + storage_name),
                         os.O_WRONLY | os.O_CREAT | _NOFOLLOW, 0o600))

    def forget(self, storage_name: str) -> None:
        (self.path / (JOURNAL_PREFIX + storage_name)).unlink(missing_ok=True)


# -- the current request's journal entries ------------------------------------------------

_noted: ContextVar[list[tuple[Workspace, str]] | None] = ContextVar("whistle_noted", default=None)


def end_request() -> None:
    """The request is over (its files committed, discarded or parked in its saved session):
    its temps need no crash recovery any more. Called from the app's teardown."""
    entries = _noted.get()
    if entries:
        for ws, name in entries:
            ws.forget(name)
        entries.clear()


class JournaledStore(AttachmentStore):
    """The store as the upload pipeline sees it: each temp name is journaled in ``ws`` before
    its file exists, so no kill can leave a temp that recovery does not know about."""

    def __init__(self, store: AttachmentStore, ws: Workspace) -> None:  # no super(): same dirs
        self.root, self.tmp_dir, self._ws = store.root, store.tmp_dir, ws

    def create_tmp(self) -> PendingFile:
        while True:
            name = secrets.token_hex(16)
            self._ws.note(name)
            entries = _noted.get()
            if entries is None:
                entries = []
                _noted.set(entries)
            entries.append((self._ws, name))
            path = self._tmp_path(name)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
            except FileExistsError:  # astronomically unlikely; draw again (as the store does)
                continue
            if self.path_for(name).exists():
                os.close(fd)
                os.unlink(path)
                continue
            return PendingFile(name, path, os.fdopen(fd, "wb"))


# -- recovery: what dead processes left -----------------------------------------------------

@dataclass
class DeadWorkspace:
    """A workspace no live process owns; we hold its lock while we tidy it."""

    path: Path
    journal: set[str] = field(default_factory=set)
    _fd: int = -1

    def remove_plaintext(self) -> int:
        """Delete every file but the journal (whatever else it holds is the plaintext of
        uploads being cleaned when the owner died)."""
        removed = 0
        for dirpath, dirs, files in os.walk(self.path, topdown=False, followlinks=False):
            for name in files:
                if dirpath == str(self.path) and name.startswith(JOURNAL_PREFIX):
                    continue
                os.unlink(os.path.join(dirpath, name))
                removed += 1
            for name in dirs:
                sub = os.path.join(dirpath, name)
                if os.path.islink(sub):  # os.walk lists a link to a folder among the folders
                    os.unlink(sub)
                else:
                    os.rmdir(sub)
        return removed

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _take(path: Path) -> int | None:
    """Lock the folder without waiting: its fd if nobody alive holds it, else None."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return None
        raise
    return fd


def dead_workspaces(root: Path, now: float | None = None) -> Iterator[DeadWorkspace]:
    """Workspaces under ``root`` whose owner is gone, each locked by us until released.

    Stale staging folders (never renamed; they hold no plaintext) are removed on the way.
    """
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return
    for entry in entries:
        if not entry.is_dir(follow_symlinks=False):
            continue
        path = Path(entry.path)
        if entry.name.startswith(STAGING_PREFIX):
            if entry.stat(follow_symlinks=False).st_mtime < now - STAGING_MAX_AGE:
                shutil.rmtree(path, ignore_errors=True)
            continue
        if not entry.name.startswith(PREFIX):
            continue
        try:
            fd = _take(path)
        except FileNotFoundError:  # tidied by another process meanwhile
            continue
        if fd is None:
            continue
        journal = {n[len(JOURNAL_PREFIX):] for n in os.listdir(path)
                   if n.startswith(JOURNAL_PREFIX)}
        yield DeadWorkspace(path, journal, fd)


def pending_handle(store: AttachmentStore, storage_name: str) -> PendingFile:
    """The store's handle for a finished temp, to commit or discard it (by any process)."""
    closed = io.BytesIO()
    closed.close()  # already fsynced and closed by whoever wrote it
    return PendingFile(storage_name, store.tmp_dir / f"{storage_name}.part", closed)


def store_temp_names(store: AttachmentStore) -> set[str]:
    """Storage names of every temp file in the store (uploads pending or in flight)."""
    return {m.group(1) for e in os.scandir(store.tmp_dir)
            if (m := _STORE_TEMP.match(e.name)) and e.is_file(follow_symlinks=False)}
