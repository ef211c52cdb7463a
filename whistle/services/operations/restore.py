"""``whistle restore FILE --key KEYFILE``: put a backup onto a fresh instance, all or nothing.

Everything is staged while the file is read: the SQLite database into a temp file beside its
target, a PostgreSQL dump into one ``psql --single-transaction`` whose input stays open, the
attachment files as temp files in the store's own temp folder. Only after the last byte has
authenticated and the manifest matched is anything installed: the SQLite file renamed into
place or psql's input closed (its COMMIT), then the files the restored database names moved
into the store (the same "row first, then rename" order as a filing; a crash in between is
rolled forward by the store's crash repair). On any error the staged parts are removed and the
target is as empty as it was.

A restore needs an EMPTY target (no tables, no stored files): it never merges into or
overwrites a running instance. Secrets are restored from their own backup; an existing secret
with different bytes is refused, never replaced.
"""
from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import inspect, text

from crypto import PrivateKey, constant_time_equal

from ...attachments.storage import AttachmentStore, PendingFile
from ...config import Config
from ...db import make_engine
from ...filemodes import sqlite_path
from .backup import _error_line, dialect, pg_env
from .backup_format import (
    KIND_SECRETS,
    T_ATTACHMENT,
    T_DATABASE,
    T_SECRET,
    ArchiveReader,
    BackupError,
)

MAX_SECRET = 64 * 1024


@dataclass
class RestoreResult:
    kind: str
    info: dict[str, Any]
    installed: bool
    files: int = 0  # attachment files installed (or checked)
    skipped: int = 0  # files in the backup that the restored database does not name
    missing: list[str] = field(default_factory=list)  # named by the database, not in the backup
    secrets: list[str] = field(default_factory=list)


# -- emptiness of the target ---------------------------------------------------------------

def _tables(db_url: str) -> list[str]:
    path = sqlite_path(db_url)
    if path is not None and (not path.exists() or path.stat().st_size == 0):
        return []
    engine = make_engine(db_url)
    try:
        return list(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _stored_names(store: AttachmentStore) -> Iterator[str]:
    for fan in os.scandir(store.root):
        if fan.is_dir(follow_symlinks=False) and fan.name != "tmp":
            for entry in os.scandir(fan.path):
                yield entry.name


def check_empty_target(config: Config) -> None:
    tables = _tables(config.db_url)
    if tables:
        raise BackupError(f"the target database is not empty ({len(tables)} tables): restore "
                          "needs a new, empty database (do not run `whistle init` first)")
    store = AttachmentStore(config.attachments_dir)
    if next(_stored_names(store), None) is not None:
        raise BackupError(f"the attachment store {store.root} is not empty: restore needs an "
                          "empty one")


# -- sinks for the database entry ------------------------------------------------------------

class _SqliteSink:
    def __init__(self, db_url: str) -> None:
        path = sqlite_path(db_url)
        assert path is not None
        self.target = path
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.tmp = path.with_name(f".{path.name}.restore-{secrets.token_hex(6)}")
        self.fh = os.fdopen(os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")

    def write(self, data: bytes) -> None:
        self.fh.write(data)

    def install(self) -> None:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        try:
            conn = sqlite3.connect(f"file:{self.tmp}?mode=ro", uri=True)
            try:
                ok = conn.execute("PRAGMA quick_check").fetchone()
            finally:
                conn.close()
        except sqlite3.DatabaseError:
            ok = None
        if not ok or ok[0] != "ok":
            raise BackupError("the database in the backup is not a valid SQLite database")
        for suffix in ("-wal", "-shm", "-journal"):  # an empty target's leftovers
            Path(f"{self.target}{suffix}").unlink(missing_ok=True)
        os.replace(self.tmp, self.target)

    def abort(self) -> None:
        self.fh.close()
        self.tmp.unlink(missing_ok=True)


class _PsqlSink:
    """One psql in one transaction; its input is closed (COMMIT) only by :meth:`install`."""

    def __init__(self, db_url: str) -> None:
        self.err = tempfile.NamedTemporaryFile(prefix="whistle-psql-", suffix=".err")
        try:
            self.proc = subprocess.Popen(
                ["psql", "-X", "-q", "--single-transaction", "-v", "ON_ERROR_STOP=1"],
                env=pg_env(db_url), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                stderr=self.err)
        except FileNotFoundError:
            self.err.close()
            raise BackupError("psql not found: install the PostgreSQL client "
                              "(apt install postgresql-client)") from None

    def _failed(self) -> BackupError:
        return BackupError(f"the database could not be restored ({self.proc.returncode}): "
                           f"{_error_line(Path(self.err.name))}; nothing was committed")

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(data)
        except BrokenPipeError:  # psql stopped at an error (ON_ERROR_STOP): report it
            self.proc.wait()
            raise self._failed() from None

    def install(self) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.close()  # end of input: psql commits the single transaction
        except BrokenPipeError:
            pass
        if self.proc.wait() != 0:
            raise self._failed()
        self.err.close()

    def abort(self) -> None:
        self.proc.kill()  # the connection drops with the transaction still open: rolled back
        self.proc.wait()
        self.err.close()


class _NullSink:
    def write(self, data: bytes) -> None:
        pass

    def install(self) -> None:
        pass

    def abort(self) -> None:
        pass


# -- restore ---------------------------------------------------------------------------------

def _restored_names(db_url: str) -> set[str]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return set(conn.scalars(text("SELECT storage_name FROM attachments")))
    finally:
        engine.dispose()


def _restore_data(config: Config, reader: ArchiveReader, check_only: bool) -> RestoreResult:
    info = reader.info
    db_info = info.get("database") or {}
    if db_info.get("dialect") != dialect(config.db_url):
        raise BackupError(f"this is a {db_info.get('dialect')} backup; the target database is "
                          f"{dialect(config.db_url)} (restore onto the same kind of database)")
    result = RestoreResult("data", info, installed=not check_only)
    store = AttachmentStore(config.attachments_dir)
    if not check_only:
        check_empty_target(config)
    sink: Any = None
    staged: dict[str, PendingFile] = {}
    try:
        for entry in reader.entries():
            if entry.kind == T_DATABASE:
                if sink is not None:
                    raise BackupError("the backup holds two databases")
                if check_only:
                    sink = _NullSink()
                elif entry.name == "database.sqlite" and dialect(config.db_url) == "sqlite":
                    sink = _SqliteSink(config.db_url)
                elif entry.name == "database.pgsql" and dialect(config.db_url) == "postgresql":
                    sink = _PsqlSink(config.db_url)
                else:
                    raise BackupError(f"unexpected database entry {entry.name}")
                for piece in entry.pieces():
                    sink.write(piece)
            elif entry.kind == T_ATTACHMENT:
                if check_only:
                    for _ in entry.pieces():
                        pass
                else:
                    path = store.tmp_dir / f"{entry.name}.part"
                    store.path_for(entry.name)  # refuses a name that is not a storage name
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    pending = PendingFile(entry.name, path, os.fdopen(fd, "wb"))
                    staged[entry.name] = pending
                    for piece in entry.pieces():
                        pending.write(piece)
                    pending.close()
                result.files += 1
            else:
                raise BackupError(f"a data backup cannot hold {entry.name}")
        if sink is None:
            raise BackupError("the backup holds no database")
        # Everything authenticated and matched the manifest: install.
        sink.install()
        sink = None
    except BaseException:
        if sink is not None:
            sink.abort()
        for pending in staged.values():
            store.discard(pending)
        raise
    if check_only:
        result.missing = list(reader.missing)
        return result
    known = _restored_names(config.db_url)
    result.files = 0
    for name, pending in staged.items():
        if name in known:
            store.commit(pending)
            result.files += 1
        else:  # uploaded after the snapshot: not part of this backup's database
            store.discard(pending)
            result.skipped += 1
    result.missing = sorted(known - set(staged))
    return result


def _restore_secrets(config: Config, reader: ArchiveReader, check_only: bool) -> RestoreResult:
    result = RestoreResult("secrets", reader.info, installed=not check_only)
    found: dict[str, bytes] = {}
    for entry in reader.entries():
        if entry.kind != T_SECRET:
            raise BackupError(f"a secrets backup cannot hold {entry.name}")
        buf = bytearray()
        for piece in entry.pieces():
            buf += piece
            if len(buf) > MAX_SECRET:
                raise BackupError(f"secret {entry.name} is implausibly large")
        found[entry.name] = bytes(buf)
    result.secrets = sorted(found)
    if check_only:
        return result
    folder = config.secrets_dir
    for name, data in found.items():  # refuse before writing anything
        path = folder / name
        if path.exists() and not constant_time_equal(path.read_bytes(), data):
            raise BackupError(f"{path} exists with different content: this instance already "
                              "has its own secrets; restore onto a fresh instance folder")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name, data in found.items():
        path = folder / name
        if path.exists():
            continue
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return result


def restore_backup(config: Config, src: BinaryIO, private_key: PrivateKey, *,
                   check_only: bool = False) -> RestoreResult:
    """Verify (``check_only``) or restore the backup read from ``src``."""
    reader = ArchiveReader(src, private_key)
    if reader.kind == KIND_SECRETS:
        return _restore_secrets(config, reader, check_only)
    return _restore_data(config, reader, check_only)
