"""What the operators of a deployment read: structured logs that carry the id of the request (or
Celery task) they belong to, and Prometheus metrics.

Logs: ``configure_logging`` installs one handler on the root logger. ``BANJIAN_LOG_FORMAT=json``
(the default when ``BANJIAN_ENV=production``) writes one JSON object per line — ``time``,
``level``, ``logger``, ``message``, ``request_id`` and the record's ``fields`` — for a log
collector; ``text`` is the same in a readable line for a terminal. The web application sets
:data:`request_id` for each request (``web.operations``) and the Celery worker for each task
(``workers.app``), so every line an action writes, from any layer, names it.

Metrics are prometheus_client objects. Under gunicorn, each worker process writes its samples to
files in ``PROMETHEUS_MULTIPROC_DIR`` (``deploy/gunicorn.conf.py`` prepares it) and ``/metrics``
sums them over the processes, so a scrape sees the whole server, not the worker that answered.
What the database knows (open and overdue tasks, unresolved incidents, jobs by status) is read at
scrape time by :class:`StateCollector`: it is the same for every process and costs a few indexed
counts per scrape.
"""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.db import UnitOfWork, utcnow
from engine.models import HumanTask, Incident, ProcessInstance, TaskStatus
from engine.runtime import CaseListener
from services.platform.jobs import Job, JobStatus

request_id: ContextVar[str] = ContextVar("banjian_request_id", default="-")
# libraries that log routine steps at INFO: SpiffWorkflow every task state change (about ten lines per
# decision), Alembic its plugins at every schema check of /readyz
QUIET = ("spiff", "alembic")

# seconds; most pages answer within 50 ms, a decision within 200 ms, a workbook or PDF within seconds
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0)
HTTP_LATENCY = Histogram("banjian_http_request_duration_seconds", "Time to answer an HTTP request",
                         ["method", "endpoint", "status"], buckets=LATENCY_BUCKETS)
TASK_COMPLETIONS = Counter("banjian_task_completions_total", "Steps (human tasks) completed", ["process_key"])


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (``-`` outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; ``extra={"fields": {...}}`` adds keys of its own."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-")}
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s%(fields_text)s")

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        record.fields_text = "".join(f" {key}={value}" for key, value in fields.items())
        return super().format(record)


def configure_logging(log_format: str | None = None, level: str | None = None) -> None:
    """The root logger writes to standard error in ``log_format`` (``json`` or ``text``; from
    ``BANJIAN_LOG_FORMAT``, else ``json`` in production and ``text`` elsewhere). Called by the
    entry points (``banjian serve``, ``web.wsgi``, the Celery app), never by ``create_app``: tests
    and embedding programs keep their own logging."""
    production = os.environ.get("BANJIAN_ENV") == "production"
    log_format = log_format or os.environ.get("BANJIAN_LOG_FORMAT") or ("json" if production else "text")
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel((level or os.environ.get("BANJIAN_LOG_LEVEL") or "INFO").upper())
    for chatty in QUIET:
        logging.getLogger(chatty).setLevel(logging.WARNING)


def count_completions() -> CaseListener:
    """An engine listener counting completed steps once their transaction has committed."""

    def listener(uow: UnitOfWork, instance: ProcessInstance, events: list[dict[str, Any]]) -> None:
        completed = sum(1 for event in events if event["kind"] == "task_completed")
        if completed:
            uow.after_commit(lambda: TASK_COMPLETIONS.labels(instance.process_key).inc(completed))

    return listener


class StateCollector(Collector):
    """Gauges read from the database at each scrape: the work waiting and what went wrong."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def collect(self) -> Iterator[Metric]:
        now = utcnow()
        with self.session_factory() as session:
            open_tasks = session.execute(select(HumanTask.process_key, func.count()).where(
                HumanTask.status == TaskStatus.OPEN).group_by(HumanTask.process_key)).all()
            overdue = session.execute(select(HumanTask.process_key, func.count()).where(
                HumanTask.status == TaskStatus.OPEN, HumanTask.due_at < now).group_by(HumanTask.process_key)).all()
            incidents = session.scalar(select(func.count()).select_from(Incident).where(
                Incident.resolved_at.is_(None)))
            jobs = dict(session.execute(select(Job.status, func.count()).where(
                Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING))).group_by(Job.status)).all())
        yield _gauge("banjian_open_tasks", "Open steps (human tasks) waiting for someone", "process_key", open_tasks)
        yield _gauge("banjian_overdue_tasks", "Open steps past their due time", "process_key", overdue)
        yield _gauge("banjian_jobs", "Background jobs queued or running (the job queue depth)", "status",
                     [(status, jobs.get(status, 0)) for status in (JobStatus.QUEUED, JobStatus.RUNNING)])
        unresolved = GaugeMetricFamily("banjian_open_incidents", "Incidents not yet resolved (cases stopped)")
        unresolved.add_metric([], incidents or 0)
        yield unresolved


def _gauge(name: str, documentation: str, label: str, rows: Any) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, documentation, labels=[label])
    for value, count in rows:
        gauge.add_metric([str(value)], count)
    return gauge


def exposition(session_factory: sessionmaker[Session]) -> bytes:
    """The Prometheus text format of this server: the per-process metrics (summed over gunicorn's
    workers when ``PROMETHEUS_MULTIPROC_DIR`` is set) and the database's gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(HTTP_LATENCY)
        registry.register(TASK_COMPLETIONS)
    registry.register(StateCollector(session_factory))
    return generate_latest(registry)
