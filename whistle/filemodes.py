"""File modes: nothing whistle writes is readable by another local user, whatever the umask.

The instance folder holds the database, its write-ahead log, the secrets, logs and the encrypted
attachments. SQLite creates ``whistle.db`` with ``0666 & ~umask`` (0644 under the usual umask)
and gives ``-wal`` / ``-shm`` the mode of the database file; Python's log handlers do the same.
So every entry point (``create_app``, the ``whistle`` command) first sets the process umask to
0077 and then repairs what exists: folders 0700, files 0600. The database file is created empty
with 0600 before SQLite first opens it, so its WAL and shared-memory files inherit 0600 too.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from whistle.config import Config

UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def private_umask() -> None:
    """Files and folders created from now on by this process are owner-only."""
    os.umask(UMASK)


def sqlite_path(db_url: str) -> Path | None:
    """The file of a ``sqlite:///...`` URL (None for memory databases and other engines)."""
    if not db_url.startswith("sqlite:///"):
        return None
    path = db_url[len("sqlite:///"):].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def _tighten(path: Path, mode: int) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        return  # never chmod through a link (it could point anywhere)
    if stat.S_IMODE(st.st_mode) & ~mode:
        os.chmod(path, stat.S_IMODE(st.st_mode) & mode)


def prepare_sqlite_file(db_url: str) -> None:
    """Create the SQLite database file empty with 0600 (if missing) and tighten its siblings."""
    path = sqlite_path(db_url)
    if path is None:
        return
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass
    for suffix in SQLITE_SUFFIXES:
        _tighten(Path(f"{path}{suffix}"), FILE_MODE)


def secure_instance(config: Config) -> None:
    """umask 0077, instance folder 0700, every folder in it 0700 and every file 0600.

    The walk skips symlinks and does not descend into the attachment store: the store creates
    its files 0600 itself, and walking 100,000 of them at every worker start would be slow.
    """
    private_umask()
    root = config.instance_dir
    store = os.path.abspath(config.attachments_dir)
    if root.is_dir():
        _tighten(root, DIR_MODE)
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            for name in dirnames:
                _tighten(Path(dirpath) / name, DIR_MODE)
            if os.path.abspath(dirpath) == store:
                dirnames[:] = []
                continue
            for name in filenames:
                _tighten(Path(dirpath) / name, FILE_MODE)
    prepare_sqlite_file(config.db_url)
