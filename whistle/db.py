"""Engine and session set-up.

SQLite (the embedded default) runs in WAL mode with foreign keys on and ``secure_delete`` so
that freed pages are zeroed rather than left holding old ciphertext. PostgreSQL is production.

``synchronous=FULL``: every commit waits for the WAL to reach the disk. NORMAL (WAL's usual
companion) survives a process crash but can lose the last commits on power loss, and a report
whose ticket was shown must survive that too. Its cost is in bench/RESULTS.md ("durability").
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.pool import NullPool, QueuePool


# The benchmark sets NORMAL to measure what FULL costs; nothing else should change it.
SQLITE_SYNCHRONOUS = "FULL"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
    cur.execute("PRAGMA secure_delete=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` with the pragmas and pool settings whistle relies on."""
    if url.startswith("sqlite"):
        # Pooled, not a connection per checkout: closing the last connection to a WAL database
        # checkpoints and deletes the WAL, which made every short transaction pay ~2 ms (the
        # reporter's filing flow ran 2.6x slower). Memory databases keep NullPool semantics.
        if ":memory:" in url or url.rstrip("/") == "sqlite:":
            engine = create_engine(url, poolclass=NullPool, **kwargs)
        else:
            kwargs.setdefault("connect_args", {}).setdefault("check_same_thread", False)
            engine = create_engine(url, poolclass=QueuePool, pool_size=8, max_overflow=8,
                                   **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_pre_ping=True, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: request code reads attributes after commit without a reload.
    return sessionmaker(bind=engine, expire_on_commit=False)


class Conflict(Exception):
    """Someone else changed the same record first. Nothing was written; reload and retry."""


def is_write_conflict(exc: BaseException) -> bool:
    """A versioned row changed under us, or SQLite refused our write after another commit."""
    if isinstance(exc, StaleDataError):
        return True
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower()
        return "locked" in text or "busy" in text
    return False


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error (no half-written records).

    A write conflict surfacing at commit becomes :class:`Conflict`, so callers can tell the
    person "changed meanwhile, try again" instead of failing with a server error.
    """
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException as exc:
        session.rollback()
        if is_write_conflict(exc):
            raise Conflict() from None
        raise
    finally:
        session.close()
