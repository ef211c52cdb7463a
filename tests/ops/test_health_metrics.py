"""/healthz (database and Redis state for a load balancer) and /metrics (Prometheus text,
behind a token, aggregate counts only) on both databases and with real Redis."""
from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select, update

from tests.web.reporter_helpers import file_report, make_org
from whistle.cli import cli
from whistle.db import make_engine, transaction
from whistle.models import Case
from whistle.services.cases.calendar import today
from whistle.web.state import EXTENSION_KEY, state

TOKEN = "metrics-" + "x" * 32
DEAD_REDIS = "redis://127.0.0.1:1/0"


def _metric(body: str, name: str, labels: str = "") -> float:
    pattern = "^" + re.escape(name + (("{" + labels + "}") if labels else "")) + r" (\S+)$"
    match = re.search(pattern, body, re.M)
    assert match, f"{name}{{{labels}}} missing from\n{body}"
    return float(match.group(1))


def test_healthz_reports_database_and_redis(make_app: Callable[..., Flask], redis_url: str) -> None:
    embedded = make_app().test_client().get("/healthz")
    assert embedded.status_code == 200
    assert embedded.get_json() == {"status": "ok", "database": "ok", "redis": "not configured"}

    with_redis = make_app(session_backend="redis", redis_url=redis_url,
                          ratelimit_storage_uri=redis_url).test_client().get("/healthz")
    assert with_redis.status_code == 200
    assert with_redis.get_json()["redis"] == "ok"


def test_healthz_is_503_when_a_dependency_is_down(make_app: Callable[..., Flask]) -> None:
    # Redis configured but unreachable: the load balancer must take this host out.
    down = make_app(redis_url=DEAD_REDIS).test_client().get("/healthz")
    assert down.status_code == 503
    assert down.get_json() == {"status": "error", "database": "ok", "redis": "error"}
    assert b"127.0.0.1" not in down.data  # no URL (it may carry a password) in the answer
    # The database unreachable (an engine pointed at a closed port stands for an outage).
    app = make_app()
    st = state(app)
    dead = make_engine("postgresql+psycopg://whistle:pw@127.0.0.1:1/whistle",
                       connect_args={"connect_timeout": 1})
    app.extensions[EXTENSION_KEY] = dataclasses.replace(st, engine=dead)
    try:
        resp = app.test_client().get("/healthz")
        assert resp.status_code == 503 and resp.get_json()["database"] == "error"
        assert b"pw" not in resp.data
    finally:
        app.extensions[EXTENSION_KEY] = st
        dead.dispose()


def test_metrics_needs_its_token(make_app: Callable[..., Flask]) -> None:
    assert make_app().test_client().get("/metrics").status_code == 404  # not configured
    client = make_app(metrics_token=TOKEN).test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.mimetype == "text/plain"


def test_metrics_count_cases_and_name_none(make_app: Callable[..., Flask]) -> None:
    app = make_app(metrics_token=TOKEN)
    make_org(app)
    for _ in range(3):
        file_report(app.test_client())
    with transaction(state(app).db) as db:
        first = db.scalars(select(Case.id).order_by(Case.id)).first()
        # One case past its deadline and flagged, one past it but not flagged yet.
        db.execute(update(Case).where(Case.id == first).values(
            is_late=True, due_on=today() - timedelta(days=3)))
        ids = [(c.id, c.register_no) for c in db.scalars(select(Case))]
    body = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert _metric(body, "whistle_cases", 'status="received"') == 3
    assert _metric(body, "whistle_cases", 'status="closed"') == 0
    assert _metric(body, "whistle_cases_late") == 1
    assert _metric(body, "whistle_queue", 'queue="pending_memberships"') == 0
    assert _metric(body, "whistle_queue", 'queue="work_files"') == 0
    for case_id, register_no in ids:  # nothing per case
        assert case_id not in body and register_no not in body
    # Every sample line is "name{fixed labels} number": no free text anywhere.
    for line in body.splitlines():
        assert line.startswith("# ") or re.fullmatch(r'[a-z_]+(\{[a-z_]+="[a-z_]+"\})? [0-9.e+-]+',
                                                     line), line


def test_limiter_hits_are_counted_across_workers(make_app: Callable[..., Flask],
                                                 redis_url: str) -> None:
    """Two apps (two workers or hosts) sharing Redis: the 429s of both add up."""
    prefix = "m" + secrets.token_hex(4)
    settings = dict(ratelimit_storage_uri=redis_url, ratelimit_key_prefix=prefix,
                    ratelimit_global="2 per minute", metrics_token=TOKEN)
    a, b = make_app(**settings), make_app(**settings)
    statuses = [app.test_client().get("/").status_code for app in (a, b, a, b, a)]
    assert statuses.count(429) == 3
    body = a.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert _metric(body, "whistle_limiter_hits_total", 'kind="rate_limited"') == 3
    assert _metric(body, "whistle_limiter_hits_total", 'kind="busy"') == 0
    # /healthz and /metrics themselves are never limited.
    assert all(b.test_client().get("/healthz").status_code == 200 for _ in range(4))


def test_sweep_lag_after_a_sweep(make_app: Callable[..., Flask], db_url: str,
                                 instance_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(metrics_token=TOKEN)
    body = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert "whistle_sweep_lag_seconds" not in body  # never swept: no made-up figure
    monkeypatch.setenv("WHISTLE_INSTANCE_DIR", str(instance_dir))
    monkeypatch.setenv("WHISTLE_DATABASE_URL", db_url)
    result = CliRunner().invoke(cli, ["sweep", "--no-mail"])
    assert result.exit_code == 0, result.output
    body = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert 0 <= _metric(body, "whistle_sweep_lag_seconds") < 60
    assert _metric(body, "whistle_sweep_backlog", 'kind="unanswered_data_requests"') == 0
