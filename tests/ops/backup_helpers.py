"""Shared pieces of the backup tests: fresh databases, key pairs, running the CLI against an
instance, and checking a restored instance against the DATA (rows, files, tickets)."""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, require_server
from whistle.attachments.storage import AttachmentStore
from whistle.cli import cli
from whistle.db import make_engine, transaction
from whistle.models import Attachment, Case, CaseField, CaseKeyWrap

PASSPHRASE = "kunci cadangan yang panjang sekali"


@contextmanager
def new_database(backend: str, tmp_path: Path, name: str) -> Iterator[str]:
    """A brand-new, empty database: a new SQLite file, or a new PostgreSQL database (not a
    schema: a restore recreates the dump's ``public`` tables exactly as production would)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / (name + '.db')}"
        return
    base = require_server("WHISTLE_TEST_PG_URL", PG_URL)
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    dbname = f"wb_{name}_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{dbname}"'))
        yield make_url(base).set(database=dbname).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        admin.dispose()


def run(instance: Path, db_url: str, *args: str) -> Result:
    """Run ``whistle ARGS`` against an instance (environment as the operator would set it)."""
    env = {"WHISTLE_INSTANCE_DIR": str(instance), "WHISTLE_DATABASE_URL": db_url}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def keypair(tmp_path: Path, name: str) -> tuple[Path, Path, Path]:
    """(public key, sealed private key, passphrase file) made by ``whistle backup keygen``."""
    folder = tmp_path / "keys"
    folder.mkdir(exist_ok=True)
    passfile = folder / "passphrase"
    passfile.write_text(PASSPHRASE + "\n")
    result = CliRunner().invoke(cli, ["backup", "keygen", str(folder / name),
                                      "--passphrase-file", str(passfile)])
    assert result.exit_code == 0, result.output
    return folder / f"{name}.pub", folder / f"{name}.key", passfile


def table_names(db_url: str) -> list[str]:
    from sqlalchemy import inspect

    engine = make_engine(db_url)
    try:
        return list(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def stored_files(store_dir: Path) -> set[str]:
    if not store_dir.exists():
        return set()
    return {p.name for p in store_dir.rglob("*")
            if p.is_file() and p.relative_to(store_dir).parts[0] != "tmp"}


def assert_whole(db_url: str, store_dir: Path) -> int:
    """Every case has its fields and its key wraps (ticket + at least one team), every
    attachment row has its file, and no file lies in the store without a row. Returns the
    number of cases."""
    from sqlalchemy.orm import sessionmaker

    engine = make_engine(db_url)
    store = AttachmentStore(store_dir)
    try:
        with transaction(sessionmaker(engine)) as db:
            cases = list(db.scalars(select(Case.id)))
            for case_id in cases:
                assert db.scalar(select(CaseField.name).where(CaseField.case_id == case_id))
                wraps = list(db.scalars(select(CaseKeyWrap.team_id).where(
                    CaseKeyWrap.case_id == case_id)))
                assert None in wraps and any(w is not None for w in wraps), case_id
            names = set(db.scalars(select(Attachment.storage_name)))
        assert all(store.exists(n) for n in names), "an attachment row without its file"
        assert stored_files(store_dir) == names, "a file in the store that no row names"
        return len(cases)
    finally:
        engine.dispose()
