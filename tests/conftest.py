"""Shared fixtures: cheap Argon2, a temporary instance, a fresh database per test on SQLite and
(when WHISTLE_TEST_PG_URL is set) PostgreSQL, the app and its client, and real Redis.

In CI (CI=true) a missing PostgreSQL or Redis FAILS the tests that need it instead of skipping:
./test.sh starts both, so their absence there is a broken set-up, not an optional extra.
"""
from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

PG_URL = os.environ.get("WHISTLE_TEST_PG_URL", "")
REDIS_URL = os.environ.get("WHISTLE_TEST_REDIS_URL", "")
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")

# The PostgreSQL variant exists when a server is configured, and in CI (where it must be).
DB_BACKENDS = ["sqlite"] + ([pytest.param("pg", marks=pytest.mark.pg)] if PG_URL or IN_CI else [])


def require_server(name: str, value: str) -> str:
    if value:
        return value
    if IN_CI:
        pytest.fail(f"{name} is not set in CI: ./test.sh should have started the server")
    pytest.skip(f"{name} not set (run ./test.sh to start a real server)")


# -- isolation ---------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's WHISTLE_* settings must not leak into tests (WHISTLE_TEST_* stay)."""
    for name in list(os.environ):
        if name.startswith("WHISTLE_") and not name.startswith("WHISTLE_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Argon2 at its minimum for every test (blobs carry their params, so nothing breaks)."""
    import crypto.kdf as kdf

    monkeypatch.setattr(kdf, "PASSPHRASE_DEFAULT", kdf.TEST_PARAMS)
    monkeypatch.setattr(kdf, "TICKET_DEFAULT", kdf.TEST_PARAMS)
    return kdf.TEST_PARAMS


@pytest.fixture(autouse=True)
def audit_keys(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Audit keys for session factories a test builds without binding them (the app and the
    CLI bind the instance's own); ``instance_dir`` replaces them with that instance's keys."""
    from whistle.services.custody import audit

    keys = audit.AuditKeys.generate()
    monkeypatch.setattr(audit, "default_keys", keys)
    return keys


# -- databases ---------------------------------------------------------------------------

@contextmanager
def pg_schema(base_url: str) -> Iterator[str]:
    """A fresh, empty schema on the test PostgreSQL; yields a URL whose search_path is it."""
    from whistle.db import make_engine

    schema = "t_" + secrets.token_hex(6)
    admin = make_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def empty_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database (no tables) for ``backend`` ('sqlite' | 'pg')."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'whistle.db'}"
        return
    with pg_schema(require_server("WHISTLE_TEST_PG_URL", PG_URL)) as url:
        yield url


@pytest.fixture(params=DB_BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def empty_db_url(db_backend: str, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all (migration tests)."""
    with empty_database(db_backend, tmp_path) as url:
        yield url


@pytest.fixture
def db_url(db_backend: str, tmp_path: Path) -> Iterator[str]:
    """A database holding the current schema (create_all: fast; migrations are tested apart)."""
    from whistle.db import make_engine
    from whistle.models import Base

    with empty_database(db_backend, tmp_path) as url:
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        yield url


@pytest.fixture
def factory(db_url: str) -> Iterator[Any]:
    """A sessionmaker on the test database, for service-level tests with no app."""
    from whistle.db import make_engine, make_sessionmaker

    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


# -- instance and app --------------------------------------------------------------------

@pytest.fixture
def instance_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from whistle.config import Config, init_instance, load_secrets
    from whistle.services.custody import audit

    path = tmp_path / "instance"
    init_instance(Config(instance_dir=path))
    # Unbound factories of this test chain under the same keys as its app and CLI runs.
    monkeypatch.setattr(audit, "default_keys",
                        audit.AuditKeys.from_secrets(load_secrets(Config(instance_dir=path))))
    return path


@pytest.fixture
def make_app(db_url: str, instance_dir: Path) -> Iterator[Callable[..., Flask]]:
    """Factory: ``make_app(officer_idle_timeout=60, flask={...})`` -> app on the test DB."""
    from whistle.app import create_app
    from whistle.web.state import state

    apps: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        settings: dict[str, Any] = {"instance_dir": instance_dir, "database_url": db_url,
                                    "testing": True, "ratelimit_storage_uri": "memory://",
                                    "ratelimit_key_prefix": "t" + secrets.token_hex(4)}
        settings.update(overrides)
        app = create_app(settings)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        state(app).engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A SQLAlchemy session on the app's database (rolled back and closed afterwards)."""
    from whistle.web.state import state

    session = state(app).db()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@pytest.fixture
def redis_url() -> str:
    return require_server("WHISTLE_TEST_REDIS_URL", REDIS_URL)


# -- helpers -----------------------------------------------------------------------------

_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@pytest.fixture
def csrf_token() -> Callable[[FlaskClient, str], str]:
    """``csrf_token(client, "/path")``: GET the page and return its form's CSRF token."""

    def fetch(client: FlaskClient, path: str) -> str:
        html = client.get(path).get_data(as_text=True)
        match = _CSRF_RE.search(html)
        if match is None:
            raise AssertionError(f"no csrf_token field on {path}")
        return match.group(1) or match.group(2)

    return fetch
