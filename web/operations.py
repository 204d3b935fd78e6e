"""Endpoints for the machines around a deployment, and the per-request instrumentation.

- ``/healthz`` (liveness): the process answers; nothing else is asked, so a slow database never
  gets a healthy worker restarted.
- ``/readyz`` (readiness): the database answers and its schema is the code's, and the broker
  answers when one is configured; 503 with the failing check otherwise, so a load balancer sends
  no users to a worker that cannot serve them.
- ``/metrics``: Prometheus text (``services.platform.telemetry``). It tells how busy the office is,
  so it is answered only to a loopback address or to ``Authorization: Bearer
  $BANJIAN_METRICS_TOKEN`` (``deploy/nginx.conf`` does not pass it through either).

Every request gets an id — the caller's ``X-Request-Id`` when it is a short token (a proxy's), a
new one otherwise — returned in the response's ``X-Request-Id``, carried by every log line of the
request, and one access line ``request`` with method, endpoint, status, duration and user.
"""
from __future__ import annotations

import hmac
import logging
import os
import re
import time
import uuid

import redis
from flask import Blueprint, Flask, Response, g, jsonify, request
from sqlalchemy import text

from services import schema
from services.platform import telemetry
from web.context import runtime

ops = Blueprint("ops", __name__)
log = logging.getLogger("banjian.request")
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
LOOPBACK = ("127.0.0.1", "::1")


@ops.get("/healthz")
def healthz():
    return jsonify(status="ok")


@ops.get("/readyz")
def readyz():
    checks = {"database": _database_ready(), "broker": _broker_ready()}
    ready = all(value in ("ok", "not configured") for value in checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503


def _database_ready() -> str:
    try:
        with runtime().db.connect() as connection:
            connection.execute(text("SELECT 1"))
        return "ok" if schema.is_current(runtime().db) else "schema not migrated (run banjian db-upgrade)"
    except Exception as error:  # noqa: BLE001 - any failure makes the worker not ready; logged, not shown
        log.warning("readiness: database unavailable: %s", error)
        return "unavailable"


def _broker_ready() -> str:
    url = runtime().settings.broker_url
    if not url:
        return "not configured"
    if not url.startswith(("redis://", "rediss://")):
        return "ok"  # another transport: Celery's own connection retries report it
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        client.close()
        return "ok"
    except redis.RedisError as error:
        log.warning("readiness: broker unavailable: %s", error)
        return "unavailable"


@ops.get("/metrics")
def metrics():
    token = os.environ.get("BANJIAN_METRICS_TOKEN", "")
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if not (request.remote_addr in LOOPBACK or (token and hmac.compare_digest(offered, token))):
        return Response("metrics are served to loopback or with the metrics token\n", 403, mimetype="text/plain")
    return Response(telemetry.exposition(runtime().session_factory),
                    mimetype="text/plain; version=0.0.4; charset=utf-8")


def instrument(app: Flask) -> None:
    """Request ids, the access log line and the latency histogram for every request."""

    @app.before_request
    def start_request() -> None:
        offered = request.headers.get("X-Request-Id", "")
        g.request_id = offered if REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        g.request_token = telemetry.request_id.set(g.request_id)
        g.request_started = time.perf_counter()

    @app.after_request
    def finish_request(response: Response) -> Response:
        started = g.get("request_started")
        if started is None:  # a request refused before start_request ran
            return response
        seconds = time.perf_counter() - started
        endpoint = request.endpoint or "unmatched"  # a bounded label: the route, never the path
        telemetry.HTTP_LATENCY.labels(request.method, endpoint, f"{response.status_code // 100}xx").observe(seconds)
        response.headers["X-Request-Id"] = g.request_id
        user = g.get("user")
        log.info("request", extra={"fields": {
            "method": request.method, "endpoint": endpoint, "path": request.path, "status": response.status_code,
            "duration_ms": round(seconds * 1000, 1), "user": getattr(user, "username", None)}})
        return response

    @app.teardown_request
    def forget_request_id(_exc) -> None:
        token = g.pop("request_token", None)
        if token is not None:
            telemetry.request_id.reset(token)

    app.register_blueprint(ops)
