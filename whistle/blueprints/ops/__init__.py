"""Operator endpoints: ``/healthz`` for a load balancer, ``/metrics`` for Prometheus.

``/metrics`` answers only a request carrying ``Authorization: Bearer <WHISTLE_METRICS_TOKEN>``
(404 while no token is configured, so its existence is not advertised), and holds aggregate
counts only (services/operations/metrics.py). Both are exempt from the rate limits: a flood
must not blind the monitoring that should notice it.
"""
from __future__ import annotations

import hmac
import json
import time

from flask import Blueprint, Response, abort, request

from whistle.db import transaction
from whistle.services.cases.calendar import today as local_today
from whistle.services.operations import metrics
from whistle.web.limits import limiter
from whistle.web.state import state

bp = Blueprint("ops", __name__)

# Responses counted as "turned away", by status code.
HIT_KINDS = {429: "rate_limited", 503: "busy"}
COUNTER_TTL = 90 * 24 * 3600  # counters restart after 90 quiet days (Prometheus copes)


def _hit_key(kind: str) -> str:
    return f"{state().config.ratelimit_key_prefix}:metrics:hits:{kind}"


@bp.after_app_request
def _count_turned_away(response: Response) -> Response:
    kind = HIT_KINDS.get(response.status_code)
    if kind is not None:
        try:  # the limiter's own storage: Redis in production, so every worker counts together
            limiter.limiter.storage.incr(_hit_key(kind), COUNTER_TTL)
        except Exception:  # noqa: BLE001 - counting must never turn a 429 into a 500
            pass
    return response


def _hits() -> dict[str, int]:
    out = {}
    for kind in HIT_KINDS.values():
        try:
            out[kind] = int(limiter.limiter.storage.get(_hit_key(kind)) or 0)
        except Exception:  # noqa: BLE001 - a storage outage shows as 0, /healthz reports it
            out[kind] = 0
    return out


@bp.get("/healthz")
def healthz() -> Response:
    st = state()
    result = metrics.health(st.engine, st.config)
    body = {"status": "ok" if result.ok else "error", "database": result.database,
            "redis": result.redis}
    return Response(json.dumps(body), status=200 if result.ok else 503,
                    mimetype="application/json")


@bp.get("/metrics", endpoint="metrics")
def metrics_page() -> Response:
    st = state()
    token = st.config.metrics_token
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return Response("token required\n", status=401, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="whistle metrics"'})
    with transaction(st.db) as db:
        collected = metrics.collect(db, st.config, today=local_today(st.config), now=time.time(),
                                    limiter_hits=_hits())
    return Response(metrics.render(collected), mimetype="text/plain; version=0.0.4")
