"""Health and Prometheus metrics for the operator: aggregate counts only.

Nothing here names a case, a reporter or an officer: counts by status, late cases, what the
sweep has not done yet, queue sizes (pending memberships, open identity requests, temp files)
and how often the limits turned somebody away. A label value is always one of a fixed set of
codes (statuses, queue names), never data someone typed.

The sweep's heartbeat (:func:`record_sweep`) is kept in Redis when the deployment has one
(every host sees the same value) and otherwise in a file in the instance folder (the embedded
set-up is one host).
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from ...config import Config
from ...domain.constants import Status
from ...models import Case, IdentityRequest, TeamMember

log = logging.getLogger("whistle.metrics")

SWEEP_FILE = "sweep-last-run"
SWEEP_KEY = "ops:sweep-last-run"
REDIS_TIMEOUT = 1.0


# -- health --------------------------------------------------------------------------------

def redis_urls(config: Config) -> list[str]:
    """Every distinct Redis the deployment uses (sessions, limits)."""
    urls = [config.sessions_redis_url if config.session_backend == "redis" else "",
            config.redis_url,
            config.ratelimit_storage_uri if config.ratelimit_storage_uri.startswith(
                ("redis://", "rediss://", "unix://")) else ""]
    return sorted({u for u in urls if u})


def _redis(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT,
                                socket_connect_timeout=REDIS_TIMEOUT)


@dataclass(frozen=True)
class Health:
    database: str  # "ok" | "error"
    redis: str  # "ok" | "error" | "not configured"

    @property
    def ok(self) -> bool:
        return self.database == "ok" and self.redis != "error"


def health(engine: Engine, config: Config) -> Health:
    """Probe the database and every Redis; the reason of a failure goes to the log by type only
    (a driver's message may quote a URL with its password)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is "down" to a load balancer
        log.warning("health: database unavailable (%s)", type(exc).__name__)
        database = "error"
    urls = redis_urls(config)
    redis_state = "not configured" if not urls else "ok"
    for url in urls:
        try:
            client = _redis(url)
            client.ping()
            client.close()
        except Exception as exc:  # noqa: BLE001 - any failure is "down" to a load balancer
            log.warning("health: redis unavailable (%s)", type(exc).__name__)
            redis_state = "error"
    return Health(database, redis_state)


# -- sweep heartbeat -----------------------------------------------------------------------

def record_sweep(config: Config, at: float | None = None) -> None:
    """Called by ``whistle sweep`` after each complete run."""
    at = time.time() if at is None else at
    if config.redis_url:
        try:
            client = _redis(config.redis_url)
            client.set(f"{config.ratelimit_key_prefix}:{SWEEP_KEY}", repr(at))
            client.close()
            return
        except Exception as exc:  # noqa: BLE001 - fall back to the instance folder
            log.warning("sweep heartbeat: redis unavailable (%s)", type(exc).__name__)
    path = config.instance_dir / SWEEP_FILE
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(repr(at))
    os.replace(tmp, path)


def last_sweep(config: Config) -> float | None:
    raw: Any = None
    if config.redis_url:
        try:
            client = _redis(config.redis_url)
            raw = client.get(f"{config.ratelimit_key_prefix}:{SWEEP_KEY}")
            client.close()
        except Exception as exc:  # noqa: BLE001 - fall back to the instance folder
            log.warning("metrics: redis unavailable (%s)", type(exc).__name__)
    if raw is None:
        try:
            raw = (config.instance_dir / SWEEP_FILE).read_text()
        except OSError:
            return None
    try:
        return float(raw.decode() if isinstance(raw, bytes) else raw)
    except ValueError:
        return None


# -- metrics -------------------------------------------------------------------------------

def _count_files(folder: Path, *, suffix: str = "") -> int:
    count = 0
    try:
        for _dirpath, _dirs, files in os.walk(folder, followlinks=False):
            count += sum(1 for name in files if name.endswith(suffix))
    except OSError:
        return 0
    return count


@dataclass
class Metric:
    name: str
    kind: str  # gauge | counter
    help: str
    samples: list[tuple[dict[str, str], float]]


def collect(db: Session, config: Config, *, today: date, now: float,
            limiter_hits: dict[str, int]) -> list[Metric]:
    by_status = dict(db.execute(select(Case.status, func.count()).group_by(Case.status)).all())
    late = db.scalar(select(func.count()).select_from(Case).where(Case.is_late.is_(True))) or 0
    unarchived = db.scalar(select(func.count()).select_from(Case).where(
        Case.status == Status.AWAITING_DATA.value, Case.due_on < today)) or 0
    unflagged = db.scalar(select(func.count()).select_from(Case).where(
        Case.is_late.is_(False), Case.due_on < today, Case.status != Status.ARCHIVED.value)) or 0
    pending = db.scalar(select(func.count()).select_from(TeamMember).where(
        TeamMember.wrapped_key.is_(None))) or 0
    requests = dict(db.execute(select(IdentityRequest.status, func.count())
                               .group_by(IdentityRequest.status)).all())
    metrics = [
        Metric("whistle_cases", "gauge", "Cases by status.",
               [({"status": s.value}, float(by_status.get(s.value, 0))) for s in Status]),
        Metric("whistle_cases_late", "gauge", "Cases past their deadline.", [({}, float(late))]),
        Metric("whistle_sweep_backlog", "gauge",
               "Work the sweep has not done yet (0 right after a sweep).",
               [({"kind": "unanswered_data_requests"}, float(unarchived)),
                ({"kind": "late_not_flagged"}, float(unflagged))]),
        Metric("whistle_queue", "gauge", "Items waiting.", [
            ({"queue": "pending_memberships"}, float(pending)),
            ({"queue": "upload_temp_files"},
             float(_count_files(config.attachments_dir / "tmp", suffix=".part"))),
            ({"queue": "work_files"}, float(_count_files(config.tmp_dir))),
        ]),
        Metric("whistle_identity_requests", "gauge", "Identity requests by status.",
               [({"status": str(s)}, float(n)) for s, n in sorted(requests.items())]),
        Metric("whistle_limiter_hits_total", "counter",
               "Requests turned away: rate limits (429) and the Argon2 queue (503).",
               [({"kind": k}, float(v)) for k, v in sorted(limiter_hits.items())]),
    ]
    last = last_sweep(config)
    if last is not None:
        metrics.append(Metric("whistle_sweep_last_run_timestamp_seconds", "gauge",
                              "When the last sweep finished (Unix time).", [({}, last)]))
        metrics.append(Metric("whistle_sweep_lag_seconds", "gauge",
                              "Seconds since the last sweep finished.",
                              [({}, max(0.0, now - last))]))
    return metrics


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render(metrics: Iterable[Metric]) -> str:
    """Prometheus text exposition format 0.0.4."""
    lines: list[str] = []
    for m in metrics:
        lines.append(f"# HELP {m.name} {m.help}")
        lines.append(f"# TYPE {m.name} {m.kind}")
        for labels, value in m.samples:
            number = repr(value) if value != int(value) else str(int(value))
            lines.append(f"{m.name}{_labels(labels)} {number}")
    return "\n".join(lines) + "\n"
