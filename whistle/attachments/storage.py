"""AttachmentStore: encrypted attachment files on disk under random, contained names.

Layout::

    root/tmp/<name>.part     being written (or waiting for the database to commit)
    root/<name[:2]>/<name>   committed; name = secrets.token_hex(16)

The storage name is chosen when the temp file is created, so the caller can put it in the
database row first and rename afterwards (or the other way round): `sweep_orphans` repairs
whichever half a crash left behind. Files here are already STREAM-encrypted; nothing in this
module ever sees plaintext.

Deletion is a plain unlink. Overwriting first would give no guarantee on SSDs (wear levelling),
journaling or copy-on-write filesystems, so we do not pretend: what makes a deleted attachment
unreadable is destroying its per-file key (the database row), and backups of that row must
expire too.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from .errors import StorageError

_NAME = re.compile(r"\A[0-9a-f]{32}\Z")
_PART = re.compile(r"\A([0-9a-f]{32})\.part\Z")
_TMP_DIR = "tmp"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


@dataclass
class PendingFile:
    """A temp file in root/tmp being written; hand it to commit() or discard()."""

    storage_name: str
    path: Path
    file: BinaryIO = field(repr=False)

    def write(self, data: bytes) -> int:
        return self.file.write(data)

    def close(self) -> None:
        """Flush and fsync: the bytes must be durable before any rename makes them live."""
        if not self.file.closed:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()


@dataclass(frozen=True)
class SweepResult:
    removed_tmp: int = 0        # temp files of uploads that never made it into the database
    recovered: int = 0          # temp files the database knows about: renamed into place
    removed_files: int = 0      # committed files no database row refers to


class AttachmentStore:
    def __init__(self, root: Path) -> None:
        root = Path(root)
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.root = root.resolve(strict=True)
        self.tmp_dir = self.root / _TMP_DIR
        self.tmp_dir.mkdir(mode=0o700, exist_ok=True)
        if self.tmp_dir.is_symlink() or not self.tmp_dir.is_dir():
            raise StorageError("tmp directory must be a real directory")

    # -- names and paths -------------------------------------------------------------------

    def path_for(self, storage_name: str) -> Path:
        """Path of a committed file. Refuses anything that is not exactly one of our names or
        that would resolve outside the root (e.g. through a planted symlink)."""
        if not isinstance(storage_name, str) or not _NAME.match(storage_name):
            raise StorageError("invalid storage name")
        fan = self.root / storage_name[:2]
        path = fan / storage_name
        if fan.is_symlink() or path.is_symlink():
            raise StorageError("symlink in attachment store")
        if not path.resolve().is_relative_to(self.root):
            raise StorageError("path escapes the attachment store")
        return path

    def _tmp_path(self, storage_name: str) -> Path:
        return self.tmp_dir / f"{storage_name}.part"

    # -- writing ---------------------------------------------------------------------------

    def create_tmp(self) -> PendingFile:
        """Open a fresh temp file (0600, exclusive, never through a symlink)."""
        while True:
            name = secrets.token_hex(16)
            path = self._tmp_path(name)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
            except FileExistsError:  # astronomically unlikely; just draw again
                continue
            if self.path_for(name).exists():
                os.close(fd)
                os.unlink(path)
                continue
            return PendingFile(name, path, os.fdopen(fd, "wb"))

    def commit(self, tmp: PendingFile) -> str:
        """Atomically move a finished temp file into place; returns its storage name."""
        tmp.close()
        final = self.path_for(tmp.storage_name)
        final.parent.mkdir(mode=0o700, exist_ok=True)
        if final.exists():
            raise StorageError("storage name already in use")
        os.rename(tmp.path, final)  # same directory tree, same filesystem: atomic
        _fsync_dir(final.parent)
        _fsync_dir(self.tmp_dir)
        return tmp.storage_name

    def discard(self, tmp: PendingFile) -> None:
        try:
            tmp.file.close()
        finally:
            tmp.path.unlink(missing_ok=True)

    # -- reading and deleting --------------------------------------------------------------

    def open_read(self, storage_name: str) -> BinaryIO:
        fd = os.open(self.path_for(storage_name), os.O_RDONLY | _NOFOLLOW)
        return os.fdopen(fd, "rb")

    def exists(self, storage_name: str) -> bool:
        return self.path_for(storage_name).is_file()

    def delete(self, storage_name: str) -> bool:
        """Unlink (see module docstring: no overwrite, and why). True if it existed."""
        path = self.path_for(storage_name)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        _fsync_dir(path.parent)
        return True

    # -- crash recovery --------------------------------------------------------------------

    def sweep_orphans(self, known_names: Container[str], older_than: timedelta,
                      *, now: float | None = None) -> SweepResult:
        """Tidy up after crashes. `known_names` must be EVERY storage name in the database.

        Only files not modified for `older_than` are touched, so uploads in flight are safe.
        A temp file whose name the database knows was committed there but never renamed:
        it is rolled forward. Other old temp files, and committed files the database does not
        know (renamed, then the transaction rolled back), are deleted.
        """
        cutoff = (time.time() if now is None else now) - older_than.total_seconds()
        removed_tmp = recovered = removed_files = 0
        for entry in os.scandir(self.tmp_dir):
            m = _PART.match(entry.name)
            if not m or not entry.is_file(follow_symlinks=False):
                continue
            if m.group(1) in known_names and not self.path_for(m.group(1)).exists():
                final = self.path_for(m.group(1))
                final.parent.mkdir(mode=0o700, exist_ok=True)
                os.rename(entry.path, final)
                recovered += 1
            elif entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
                removed_tmp += 1
        for fan in os.scandir(self.root):
            if fan.name == _TMP_DIR or not fan.is_dir(follow_symlinks=False):
                continue
            for entry in os.scandir(fan.path):
                if (_NAME.match(entry.name) and entry.name[:2] == fan.name
                        and entry.name not in known_names
                        and entry.is_file(follow_symlinks=False)
                        and entry.stat(follow_symlinks=False).st_mtime < cutoff):
                    os.unlink(entry.path)
                    removed_files += 1
        return SweepResult(removed_tmp, recovered, removed_files)


def _fsync_dir(path: Path) -> None:
    """Make a rename/unlink durable (POSIX needs the directory itself fsynced)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
