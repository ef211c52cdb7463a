"""Alembic environment: the URL comes from the app's configuration (WHISTLE_DATABASE_URL or
the instance's SQLite file), set by whistle.cli.alembic_config; tests may pass a live
connection in ``config.attributes["connection"]``."""
from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from whistle.db import make_engine
from whistle.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from whistle.config import load_config

        url = load_config().db_url
    return url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode copies the table instead.
        render_as_batch=True,
        compare_type=True,
    )


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    # SQLite batch mode rebuilds a table by copy + drop + rename; with foreign keys enforced,
    # dropping the old table would cascade-delete (or block on) its children's rows. So the
    # checks are off while migrating and the whole database is verified afterwards.
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    try:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
            if broken:
                raise RuntimeError(f"migration left dangling foreign keys: {broken[:5]}")


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
