"""gunicorn settings of the production layout (README "Production layout"), read from the environment.

    gunicorn -c deploy/gunicorn.conf.py web.wsgi:app

- ``BANJIAN_BIND`` (127.0.0.1:8000): nginx in front serves /static and passes the rest here.
- ``BANJIAN_WEB_WORKERS`` (2 × cores + 1) processes of ``BANJIAN_WEB_THREADS`` (4) threads each: a
  request spends much of its time waiting for PostgreSQL, so threads overlap those waits while the
  processes use the cores. Each process keeps ``BANJIAN_DB_POOL_SIZE`` (default: its threads)
  connections: workers × threads must stay under PostgreSQL's ``max_connections`` (100), with room
  for Celery and beat.
- Metrics: every worker writes its samples under ``PROMETHEUS_MULTIPROC_DIR`` (a fresh folder per
  start); ``/metrics`` sums them (``services.platform.telemetry``).
"""
from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile

bind = os.environ.get("BANJIAN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("BANJIAN_WEB_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("BANJIAN_WEB_THREADS", 4))
worker_class = "gthread"
timeout = 60  # a worker silent this long is restarted; long work runs in Celery, never in a request
graceful_timeout = 30
# no keep-alive: nginx keeps the browsers' connections and opens one to gunicorn per request, so every
# request goes to whichever process accepts first (a kept connection would tie a client to one process:
# measured, p95 330 ms instead of 140 ms under bench/http_load.py), and no client ever reuses a
# connection just as the server closes it (a reset request)
keepalive = 0
max_requests = 10_000  # a worker is replaced now and then (jittered), so no slow leak grows unbounded
max_requests_jitter = 1_000
accesslog = None  # the application logs one line per request, with its request id (web.operations)
errorlog = "-"
os.environ.setdefault("BANJIAN_DB_POOL_SIZE", str(threads))
os.environ.setdefault("BANJIAN_DB_MAX_OVERFLOW", "2")
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="banjian-metrics-")


def on_starting(server) -> None:
    """Samples of an earlier run would be summed with this one's: start from an empty folder."""
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
