"""``whistle backup`` while reporters file, ``whistle restore`` onto an empty instance, on SQLite
and PostgreSQL: old tickets open their cases, an officer logs in, the audit log verifies
against the head exported before the backup, and the restored data is whole (no half case, no
missing or orphan file). Damaged, truncated and wrong-key backups are refused and change
nothing."""
from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.ops.backup_helpers import (
    assert_whole,
    keypair,
    new_database,
    run,
    stored_files,
    table_names,
)
from tests.web.officer_login import Clock, Enrolled, clock, enrol, login_as  # noqa: F401
from tests.web.reporter_helpers import confirm, file_report, good_form, login, make_org
from whistle.app import create_app
from whistle.cli import upgrade_database
from whistle.config import Config, init_instance
from whistle.db import transaction
from whistle.models import Case
from whistle.web.state import state


@dataclass
class Source:
    instance: Path
    db_url: str
    app: Flask
    officer: Enrolled


@pytest.fixture
def source(db_backend: str, tmp_path: Path, clock: Clock) -> Iterator[Source]:
    instance = tmp_path / "src"
    with new_database(db_backend, tmp_path, "src") as url:
        config = Config(instance_dir=instance, database_url=url)
        init_instance(config)
        upgrade_database(config)
        app = create_app({"instance_dir": instance, "database_url": url, "testing": True})
        org = make_org(app)
        officer = enrol(app, "ver-satu", "verifikator", org.unit_id)
        try:
            yield Source(instance, url, app, officer)
        finally:
            state(app).engine.dispose()


def _file(app: Flask, what: str) -> str:
    client = app.test_client()
    ticket, page = file_report(client, good_form(what=what),
                               files=[(f"bukti untuk {what}".encode() * 200, "bukti.txt")])
    confirm(client, page.get_data(as_text=True), ticket)
    return ticket


def _opens(app: Flask, ticket: str, what: str) -> bool:
    """The ticket logs in, the report text decrypts and so does the evidence file."""
    client = app.test_client()
    if login(client, ticket).status_code != 303:
        return False
    page = client.get("/laporan").get_data(as_text=True)
    copy = re.search(r'href="([^"]+)" id="print-link"', page)
    files = re.findall(r'href="(/laporan/berkas/[0-9a-f]+)"', page)
    if copy is None or len(files) != 1:
        return False
    evidence = client.get(files[0])
    return (what in client.get(copy.group(1)).get_data(as_text=True)
            and evidence.status_code == 200
            and evidence.data == f"bukti untuk {what}".encode() * 200)


def test_backup_during_filing_restores_onto_an_empty_instance(
        source: Source, db_backend: str, tmp_path: Path, clock: Clock) -> None:
    before = {(w := f"Laporan sebelum cadangan nomor {i}"): _file(source.app, w) for i in range(3)}
    assert run(source.instance, source.db_url, "audit", "head", "-o",
               str(tmp_path / "head.txt")).exit_code == 0
    data_pub, data_key, passfile = keypair(tmp_path, "data")
    secrets_pub, secrets_key, _ = keypair(tmp_path, "secrets")

    # Reporters keep filing while the backup runs.
    during: list[tuple[str, str]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def keep_filing() -> None:
        n = 0
        while not stop.is_set():
            what = f"Laporan saat cadangan nomor {n}"
            try:
                during.append((what, _file(source.app, what)))
            except BaseException as exc:  # surfaced below, not swallowed
                errors.append(exc)
                return
            n += 1

    filer = threading.Thread(target=keep_filing)
    filer.start()
    try:
        while len(during) < 2 and not errors:  # the backup really overlaps the filing
            stop.wait(0.05)
        result = run(source.instance, source.db_url, "backup", "--to", str(data_pub),
                     "--out", str(tmp_path / "data.wbk"))
    finally:
        stop.set()
        filer.join()
    assert not errors, errors
    assert result.exit_code == 0, result.output
    assert len(during) >= 2
    secrets_out = run(source.instance, source.db_url, "backup", "--secrets", "--to",
                      str(secrets_pub), "--out", str(tmp_path / "secrets.wbk"))
    assert secrets_out.exit_code == 0, secrets_out.output

    # A brand-new machine: an empty instance folder and an empty database.
    target = tmp_path / "dst"
    with new_database(db_backend, tmp_path, "dst") as dst_url:
        r1 = run(target, dst_url, "restore", str(tmp_path / "secrets.wbk"), "--key",
                 str(secrets_key), "--passphrase-file", str(passfile))
        assert r1.exit_code == 0, r1.output
        r2 = run(target, dst_url, "restore", str(tmp_path / "data.wbk"), "--key",
                 str(data_key), "--passphrase-file", str(passfile))
        assert r2.exit_code == 0, r2.output
        cases = assert_whole(dst_url, target / "attachments")
        assert cases >= len(before)
        verified = run(target, dst_url, "audit", "verify", "--head", str(tmp_path / "head.txt"))
        assert verified.exit_code == 0, verified.output
        assert "still holds the exported head" in verified.output

        restored = create_app({"instance_dir": target, "database_url": dst_url,
                               "testing": True})
        try:
            for what, ticket in before.items():
                assert _opens(restored, ticket, what), what
            with transaction(state(restored).db) as db:
                restored_count = db.scalar(select(func.count()).select_from(Case))
            # Filings that finished while the backup ran: those in its snapshot open too.
            opened = sum(_opens(restored, ticket, what) for what, ticket in during)
            assert opened == restored_count - len(before)
            officer = restored.test_client()
            login_as(officer, source.officer, clock)
            assert officer.get("/officer/account").status_code == 200
        finally:
            state(restored).engine.dispose()
    # The source instance kept working throughout.
    assert _opens(source.app, during[-1][1], during[-1][0])


@pytest.fixture
def backed_up(source: Source, tmp_path: Path) -> dict[str, Any]:
    _file(source.app, "Satu laporan saja untuk diuji cadangannya")
    pub, key, passfile = keypair(tmp_path, "data")
    assert run(source.instance, source.db_url, "backup", "--to", str(pub), "--out",
               str(tmp_path / "data.wbk")).exit_code == 0
    return {"file": tmp_path / "data.wbk", "key": key, "pass": passfile}


def _restore_refused(db_backend: str, tmp_path: Path, backup: Path, key: Path,
                     passfile: Path, message: str) -> None:
    target = tmp_path / f"dst-{backup.name}-{key.name}"
    with new_database(db_backend, tmp_path, "refused") as dst_url:
        result = run(target, dst_url, "restore", str(backup), "--key", str(key),
                     "--passphrase-file", str(passfile))
        assert result.exit_code == 1, result.output
        assert message in result.output, result.output
        assert "Traceback" not in result.output
        assert table_names(dst_url) == []  # nothing half-restored
        assert stored_files(target / "attachments") == set()
        leftovers = [p for p in (target / "attachments" / "tmp").glob("*")] \
            if (target / "attachments" / "tmp").exists() else []
        assert leftovers == []


def test_corrupted_backup_is_refused(backed_up: dict[str, Any], db_backend: str,
                                     tmp_path: Path) -> None:
    data = bytearray(backed_up["file"].read_bytes())
    for where in (len(data) // 2, len(data) - 40):  # in the database dump, near the manifest
        bad = tmp_path / f"flipped-{where}.wbk"
        copy = bytearray(data)
        copy[where] ^= 0x01
        bad.write_bytes(bytes(copy))
        _restore_refused(db_backend, tmp_path, bad, backed_up["key"], backed_up["pass"],
                         "damaged")


def test_truncated_backup_is_refused(backed_up: dict[str, Any], db_backend: str,
                                     tmp_path: Path) -> None:
    data = backed_up["file"].read_bytes()
    for keep in (len(data) - 1, len(data) - 65_552, 4000, 3):
        bad = tmp_path / f"cut-{keep}.wbk"
        bad.write_bytes(data[:max(keep, 0)])
        expected = "not a whistle backup" if keep < 5 else ("truncated" if keep < 1300
                                                             else "damaged")
        _restore_refused(db_backend, tmp_path, bad, backed_up["key"], backed_up["pass"],
                         expected)


def test_wrong_key_and_wrong_passphrase_are_refused(backed_up: dict[str, Any], db_backend: str,
                                                    tmp_path: Path) -> None:
    _pub, other_key, passfile = keypair(tmp_path, "other")
    _restore_refused(db_backend, tmp_path, backed_up["file"], other_key, passfile,
                     "not made for this key")
    wrong = tmp_path / "wrong-pass"
    wrong.write_text("bukan kata sandinya sama sekali\n")
    _restore_refused(db_backend, tmp_path, backed_up["file"], backed_up["key"], wrong,
                     "wrong passphrase")


def test_restore_never_overwrites(backed_up: dict[str, Any], source: Source,
                                  tmp_path: Path) -> None:
    result = run(source.instance, source.db_url, "restore", str(backed_up["file"]), "--key",
                 str(backed_up["key"]), "--passphrase-file", str(backed_up["pass"]))
    assert result.exit_code == 1 and "not empty" in result.output
    check = run(source.instance, source.db_url, "restore", "--check", str(backed_up["file"]),
                "--key", str(backed_up["key"]), "--passphrase-file", str(backed_up["pass"]))
    assert check.exit_code == 0 and "verified" in check.output, check.output


def test_secrets_need_their_own_key(source: Source, tmp_path: Path) -> None:
    pub, key, passfile = keypair(tmp_path, "one")
    assert run(source.instance, source.db_url, "backup", "--to", str(pub), "--out",
               str(tmp_path / "d.wbk")).exit_code == 0
    same = run(source.instance, source.db_url, "backup", "--secrets", "--to", str(pub),
               "--out", str(tmp_path / "s.wbk"))
    assert same.exit_code == 1 and "need their own key" in same.output
    assert not (tmp_path / "s.wbk").exists() and not (tmp_path / "s.wbk.part").exists()
    # The secrets backup never holds the database, and the data backup never the pepper.
    other_pub, other_key, _ = keypair(tmp_path, "two")
    assert run(source.instance, source.db_url, "backup", "--secrets", "--to", str(other_pub),
               "--out", str(tmp_path / "s.wbk")).exit_code == 0
    pepper = (source.instance / "secrets" / "pepper").read_bytes()
    from whistle.services.operations.backup_format import ArchiveReader
    from crypto import open_sealed_key
    from tests.ops.backup_helpers import PASSPHRASE

    with open(tmp_path / "d.wbk", "rb") as fh:
        reader = ArchiveReader(fh, open_sealed_key(key.read_bytes(), PASSPHRASE))
        kinds = {(e.kind, e.name): b"".join(e.pieces()) for e in reader.entries()}
    assert all(pepper not in blob for blob in kinds.values())
    assert {k for k, _ in kinds} <= {2, 3}  # a database and attachments only
    with open(tmp_path / "s.wbk", "rb") as fh:
        reader = ArchiveReader(fh, open_sealed_key(other_key.read_bytes(), PASSPHRASE))
        secrets_ = {e.name: b"".join(e.pieces()) for e in reader.entries()}
    assert secrets_["pepper"] == pepper and not any(n.startswith("database") for n in secrets_)
    # A secrets backup restored onto an instance that has other secrets is refused.
    clash = run(source.instance, source.db_url, "restore", str(tmp_path / "s.wbk"), "--key",
                str(other_key), "--passphrase-file", str(passfile))
    assert clash.exit_code == 0  # the same secrets: nothing to do, nothing overwritten
    (tmp_path / "fresh").mkdir()
    init_instance(Config(instance_dir=tmp_path / "fresh"))
    clash = run(tmp_path / "fresh", source.db_url, "restore", str(tmp_path / "s.wbk"), "--key",
                str(other_key), "--passphrase-file", str(passfile))
    assert clash.exit_code == 1 and "different content" in clash.output
