"""Every Alembic migration goes up and down on a database that holds data, on SQLite and (when
configured) PostgreSQL, and the head matches the models exactly."""
from __future__ import annotations

import itertools
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, Table, func, select

from whistle.cli import alembic_config
from whistle.config import Config
from whistle.db import make_engine
from whistle.models import Base

_counter = itertools.count(100_000)


def _value(table: Table, column: Any, parents: dict[str, dict[str, Any]]) -> Any:
    for fk in column.foreign_keys:
        parent = parents.get(fk.column.table.name)
        if parent is not None:
            return parent[fk.column.name]
        if column.nullable:
            return None
    try:
        kind = column.type.python_type
    except NotImplementedError:
        kind = str
    n = next(_counter)
    if kind is bool:
        return n % 2 == 0
    if kind is int:
        return n
    if kind in (float, Decimal):
        return kind(n)
    if kind is bytes:
        return os.urandom(getattr(column.type, "length", None) or 24)
    if kind is datetime:
        return datetime.now(UTC)
    if kind is date:
        return date(2026, 1, 5) if table.primary_key.columns.get(column.name) is None \
            else date.fromordinal(700_000 + n)
    if kind in (dict, list):
        return kind()
    length = getattr(column.type, "length", None) or 32
    return f"m{n}"[:length]


def fill(engine: Engine) -> dict[str, int]:
    """Insert one synthetic row into every table (parents first); return row counts."""
    meta = MetaData()
    meta.reflect(engine)
    parents: dict[str, dict[str, Any]] = {}
    with engine.begin() as conn:
        for table in meta.sorted_tables:
            if table.name == "alembic_version":
                continue
            row = {c.name: _value(table, c, parents) for c in table.columns}
            conn.execute(table.insert().values(**row))
            parents[table.name] = row
    return counts(engine)


def counts(engine: Engine) -> dict[str, int]:
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        return {t.name: conn.scalar(select(func.count()).select_from(t)) or 0
                for t in meta.sorted_tables if t.name != "alembic_version"}


def test_migrations_up_and_down_with_data(empty_db_url: str, tmp_path: Path) -> None:
    cfg = alembic_config(Config(instance_dir=tmp_path, database_url=empty_db_url))
    script = ScriptDirectory.from_config(cfg)
    assert len(script.get_heads()) == 1, "migrations must form one line (merge the heads)"
    revisions = [r.revision for r in reversed(list(script.walk_revisions("base", "heads")))]
    engine = make_engine(empty_db_url)
    try:
        before: dict[str, int] = {}
        for index, revision in enumerate(revisions):
            command.upgrade(cfg, revision)
            after = counts(engine)
            for table, rows in before.items():  # an upgrade keeps existing rows
                if table in after:
                    assert after[table] >= rows, f"{revision} lost rows of {table}"
            before = fill(engine)
            # Each step also goes down and up again with data present.
            command.downgrade(cfg, revisions[index - 1] if index else "base")
            command.upgrade(cfg, revision)
            before = fill(engine)
        for revision in reversed(revisions):
            command.downgrade(cfg, "-1")
            if revision != revisions[0]:
                fill(engine)  # the older schema still takes data
        assert counts(engine) == {}
        command.upgrade(cfg, "head")
        fill(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                    Base.metadata)
        assert diff == [], f"models and migrations differ; add a migration: {diff}"
    finally:
        engine.dispose()
