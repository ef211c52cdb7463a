"""``whistle backup``: one encrypted, streamed file with the database and the attachment store;
``whistle backup --secrets``: the instance secrets, to a different key (README "Backups").

Consistency while the service runs:

* PostgreSQL: a REPEATABLE READ transaction exports its snapshot (``pg_export_snapshot``);
  ``pg_dump --snapshot`` dumps exactly that snapshot, and the list of attachment files to copy
  is read in the same snapshot. Files enter the store only after their row commits, so every
  file the snapshot names is already in the store (or, in the instant between commit and
  rename, in the store's temp folder, which is looked at too).
* SQLite: the online backup API copies the database in one step under one read transaction
  (WAL: writers carry on meanwhile); the file list is read from the copy.

Live sessions are left out (``server_sessions`` has no data in a backup): a restored instance
starts with everybody logged out, and an unconfirmed ticket parked in a session is not
carried into backups. The copy of an SQLite database is written beside the database itself
(same folder, mode 0600) and removed at once; no plaintext lands anywhere else.
"""
from __future__ import annotations

import json
import os
import secrets
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import text
from sqlalchemy.engine import make_url

from crypto import PublicKey

from ...attachments.storage import AttachmentStore
from ...config import Config
from ...db import make_engine
from ...filemodes import sqlite_path
from .backup_format import (
    KIND_DATA,
    KIND_SECRETS,
    T_ATTACHMENT,
    T_DATABASE,
    T_INFO,
    T_SECRET,
    ArchiveWriter,
    BackupError,
    pieces,
)

SKIP_DATA = ("server_sessions",)  # tables whose rows a backup leaves out
KEYS_FILE = "backup-keys.json"  # fingerprints used per kind, to keep the two keys apart

# libpq connection parameters that may appear in a URL's query string -> environment variable.
_PG_QUERY_ENV = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD",
                 "dbname": "PGDATABASE", "options": "PGOPTIONS", "sslmode": "PGSSLMODE",
                 "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "sslrootcert": "PGSSLROOTCERT",
                 "connect_timeout": "PGCONNECT_TIMEOUT", "passfile": "PGPASSFILE",
                 "service": "PGSERVICE", "target_session_attrs": "PGTARGETSESSIONATTRS"}


@dataclass
class BackupResult:
    kind: str
    entries: int = 0
    attachments: int = 0
    missing: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def dialect(db_url: str) -> str:
    return "sqlite" if db_url.startswith("sqlite") else "postgresql"


def pg_env(db_url: str) -> dict[str, str]:
    """Connection settings for pg_dump / psql as environment variables: a password never
    appears on a command line (``ps`` shows those to every local user)."""
    url = make_url(db_url)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}
    for attr, var in (("host", "PGHOST"), ("port", "PGPORT"), ("username", "PGUSER"),
                      ("password", "PGPASSWORD"), ("database", "PGDATABASE")):
        value = getattr(url, attr)
        if value is not None and value != "":
            env[var] = str(value)
    for key, value in url.query.items():
        env_name = _PG_QUERY_ENV.get(key)
        if env_name is not None:
            env[env_name] = value if isinstance(value, str) else str(value[-1])
    return env


def _error_line(path: Path) -> str:
    """First error line of a client tool's stderr, shortened (COPY errors quote row data)."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    for line in lines:
        if "ERROR" in line or "FATAL" in line or "error" in line:
            return line.strip()[:200]
    return (lines[0].strip()[:200]) if lines else ""


# -- snapshots ----------------------------------------------------------------------------

@dataclass
class Snapshot:
    revision: str | None
    counts: dict[str, int]
    storage_names: list[str]


def _snapshot_facts(run: Any, tables: list[str]) -> Snapshot:
    counts = {t: int(run(f'SELECT count(*) FROM "{t}"')[0][0]) for t in sorted(tables)}
    for t in SKIP_DATA:
        counts.pop(t, None)
    revision = None
    if "alembic_version" in tables:
        rows = run("SELECT version_num FROM alembic_version")
        revision = rows[0][0] if rows else None
    names = ([r[0] for r in run("SELECT storage_name FROM attachments ORDER BY storage_name")]
             if "attachments" in tables else [])
    return Snapshot(revision, counts, names)


@contextmanager
def sqlite_copy(db_url: str) -> Iterator[tuple[Path, Snapshot]]:
    """A consistent copy of the SQLite database (online backup API), without sessions."""
    path = sqlite_path(db_url)
    if path is None or not path.is_file():
        raise BackupError(f"no SQLite database at {path}")
    copy = path.with_name(f".{path.name}.backup-{secrets.token_hex(6)}")
    os.close(os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        src = sqlite3.connect(path)
        dst = sqlite3.connect(copy)
        try:
            src.backup(dst)  # one step: one read transaction, a consistent picture
            dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
            dst.execute("PRAGMA secure_delete=ON")
            tables = [r[0] for r in dst.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
            for t in SKIP_DATA:
                if t in tables:
                    dst.execute(f'DELETE FROM "{t}"')
            dst.commit()
            dst.execute("VACUUM")
            facts = _snapshot_facts(lambda q: dst.execute(q).fetchall(), tables)
        finally:
            dst.close()
            src.close()
        yield copy, facts
    finally:
        copy.unlink(missing_ok=True)


@contextmanager
def pg_snapshot(db_url: str) -> Iterator[tuple[str, Snapshot]]:
    """An exported snapshot id (held open meanwhile) and the facts read in that snapshot."""
    engine = make_engine(db_url)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            with conn.begin():
                snapshot_id = str(conn.scalar(text("SELECT pg_export_snapshot()")))
                tables = list(conn.scalars(text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")))
                facts = _snapshot_facts(lambda q: conn.execute(text(q)).all(), tables)
                yield snapshot_id, facts
    finally:
        engine.dispose()


def _pg_dump(writer: ArchiveWriter, db_url: str, snapshot_id: str) -> None:
    args = ["pg_dump", "--format=plain", "--no-owner", "--no-privileges",
            f"--snapshot={snapshot_id}"]
    args += [f"--exclude-table-data={t}" for t in SKIP_DATA]
    with tempfile.NamedTemporaryFile(prefix="whistle-pgdump-", suffix=".err") as err:
        try:
            proc = subprocess.Popen(args, env=pg_env(db_url), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=err)
        except FileNotFoundError:
            raise BackupError("pg_dump not found: install the PostgreSQL client "
                              "(apt install postgresql-client)") from None
        assert proc.stdout is not None
        try:
            writer.add(T_DATABASE, "database.pgsql", pieces(proc.stdout))
        finally:
            proc.stdout.close()
            code = proc.wait()
        if code != 0:
            raise BackupError(f"pg_dump failed ({code}): {_error_line(Path(err.name))}")


# -- the two kinds of backup ---------------------------------------------------------------

def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _copy_files(writer: ArchiveWriter, store: AttachmentStore, names: list[str],
                result: BackupResult) -> None:
    for name in names:
        candidates = (store.path_for(name), store.tmp_dir / f"{name}.part")
        for path in candidates:
            try:
                fh = open(path, "rb")
            except FileNotFoundError:
                continue
            with fh:
                writer.add_file(T_ATTACHMENT, name, fh)
            result.attachments += 1
            break
        else:
            result.missing.append(name)


def write_data_backup(config: Config, dst: BinaryIO, public_key: PublicKey) -> BackupResult:
    """Database snapshot + the store files it names, encrypted to ``public_key``."""
    writer = ArchiveWriter(dst, public_key, KIND_DATA)
    result = BackupResult("data")
    store = AttachmentStore(config.attachments_dir)
    kind = dialect(config.db_url)

    def info(facts: Snapshot) -> None:
        result.counts = facts.counts
        writer.add_json(T_INFO, "info.json", {
            "format": 1, "kind": "data", "created_at": _now(),
            "database": {"dialect": kind, "revision": facts.revision},
            "counts": facts.counts})

    if kind == "sqlite":
        with sqlite_copy(config.db_url) as (copy, facts):
            info(facts)
            with open(copy, "rb") as fh:
                writer.add_file(T_DATABASE, "database.sqlite", fh)
    else:
        with pg_snapshot(config.db_url) as (snapshot_id, facts):
            info(facts)
            _pg_dump(writer, config.db_url, snapshot_id)
    _copy_files(writer, store, facts.storage_names, result)
    writer.finish(missing=result.missing)
    result.entries = len(writer.entries)
    return result


def write_secrets_backup(config: Config, dst: BinaryIO, public_key: PublicKey) -> BackupResult:
    """Every file of the secrets folder (pepper, secret_key, totp_key, audit keys, ...)."""
    folder = config.secrets_dir
    names = sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    if not names:
        raise BackupError(f"no secrets in {folder}: nothing to back up")
    writer = ArchiveWriter(dst, public_key, KIND_SECRETS)
    writer.add_json(T_INFO, "info.json", {"format": 1, "kind": "secrets", "created_at": _now(),
                                          "names": names})
    for name in names:
        with open(folder / name, "rb") as fh:
            writer.add_file(T_SECRET, name, fh)
    writer.finish()
    return BackupResult("secrets", entries=len(writer.entries))


# -- keeping the two keys apart ------------------------------------------------------------

def check_key_use(config: Config, kind: str, fingerprint: str) -> None:
    """Refuse a key already used for the other kind of backup on this instance, and record
    this use. The point of two keys is that one stolen key opens one half only."""
    path = config.instance_dir / KEYS_FILE
    try:
        used = json.loads(path.read_text())
    except (OSError, ValueError):
        used = {}
    other = "secrets" if kind == "data" else "data"
    if fingerprint in used.get(other, []):
        raise BackupError(f"this key ({fingerprint[:16]}...) was used for {other} backups; "
                          f"{kind} backups need their own key (whistle backup keygen)")
    mine = used.setdefault(kind, [])
    if fingerprint not in mine:
        mine.append(fingerprint)
        config.instance_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(used, fh)
        os.replace(tmp, path)
