"""``whistle db upgrade`` takes a database created at revision 0001, holding data, to the head,
and the new code then works on it: old tickets open their cases (report text and evidence),
an officer logs in, and the audit log verifies once sealed (README "Upgrades").

The data is real: reports filed and an officer enrolled through the current code (with the
Argon2 ticket cost of that time, which migration 0003 records for old cases), then moved into a
database built by migration 0001 alone, column by column as far as 0001 has them. The audit
entries are re-chained the way 0001-era code chained them (plain SHA-256), so the upgrade path
an operator follows (`db upgrade`, then `audit seal`) is exercised as well.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, MetaData, select, text

import crypto.kdf as kdf
from tests.ops.backup_helpers import new_database, run
from tests.ops.test_backup import _file, _opens
from tests.web.officer_login import Clock, clock, enrol, login_as  # noqa: F401
from tests.web.reporter_helpers import make_org
from whistle.db import make_engine
from whistle.services.custody.audit import GENESIS, legacy_digest
from whistle.web.state import state

REVISION_0001 = "266ae79a6842"
TICKET_COST_0001 = kdf.Argon2Params(memory_kib=16384, iterations=2, lanes=1)  # see 0003


def _copy_into_0001(source_url: str, target_url: str) -> dict[str, int]:
    """Rows of every table 0001 has, restricted to 0001's columns; audit entries re-chained
    with the pre-key digest. Returns rows copied per table."""
    src: Engine = make_engine(source_url)
    dst: Engine = make_engine(target_url)
    copied: dict[str, int] = {}
    try:
        have, want = MetaData(), MetaData()
        have.reflect(src)
        want.reflect(dst)
        with src.connect() as read, dst.begin() as write:
            for table in want.sorted_tables:
                if table.name in ("alembic_version", "server_sessions"):
                    continue
                source = have.tables[table.name]
                rows = [dict(r._mapping) for r in read.execute(
                    select(source).order_by(*source.primary_key.columns))]
                missing = [c.name for c in table.columns
                           if c.name not in source.c and not c.nullable]
                assert not missing, f"{table.name}: 0001 needs {missing}"
                if table.name == "audit_log":
                    prev = GENESIS
                    for row in rows:
                        row["prev_hash"] = prev
                        row["hash"] = prev = legacy_digest(
                            prev, row["id"], row["at"], row["actor"], row["action"],
                            row["object"], row["detail"])
                out = [{c.name: row.get(c.name) for c in table.columns} for row in rows]
                if out:
                    write.execute(table.insert(), out)
                copied[table.name] = len(out)
                if out and dst.dialect.name == "postgresql" and "id" in table.c \
                        and isinstance(out[0]["id"], int):
                    # Rows came with their ids: move the serial on, as 0001's own inserts had.
                    write.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                                       f"'id'), (SELECT max(id) FROM {table.name}))"))
    finally:
        src.dispose()
        dst.dispose()
    return copied


def test_upgrade_from_0001_with_data(make_app: Callable[..., Flask], db_backend: str,
                                     instance_dir: Path, tmp_path: Path, clock: Clock,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kdf, "TICKET_DEFAULT", TICKET_COST_0001)
    app = make_app()
    org = make_org(app)
    officer = enrol(app, "ver-lama", "verifikator", org.unit_id)
    reports = {(w := f"Laporan dari versi lama nomor {i}"): _file(app, w) for i in range(2)}
    head_url = state(app).config.db_url
    state(app).engine.dispose()

    with new_database(db_backend, tmp_path, "old") as old_url:
        made = run(instance_dir, old_url, "db", "upgrade", REVISION_0001)
        assert made.exit_code == 0, made.output
        copied = _copy_into_0001(head_url, old_url)
        assert copied["cases"] == 2 and copied["attachments"] == 2
        assert copied["officers"] >= 1 and copied["audit_log"] >= 3

        upgraded = run(instance_dir, old_url, "db", "upgrade")
        assert upgraded.exit_code == 0, upgraded.output
        assert REVISION_0001 not in run(instance_dir, old_url, "db", "current").output
        sealed = run(instance_dir, old_url, "audit", "seal")
        assert sealed.exit_code == 0, sealed.output
        verified = run(instance_dir, old_url, "audit", "verify")
        assert verified.exit_code == 0, verified.output

        new = make_app(database_url=old_url)
        try:
            for what, ticket in reports.items():
                assert _opens(new, ticket, what), what
            client = new.test_client()
            login_as(client, officer, clock)
            assert client.get("/officer/account").status_code == 200
        finally:
            state(new).engine.dispose()
