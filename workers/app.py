"""The Celery application, configured from the environment (BANJIAN_BROKER_URL: Redis).

Messages are acknowledged late and re-queued when the worker process running them dies, so a job
killed halfway is delivered again; whether it then runs is decided by the job table (see
``services.platform.jobs``), which makes every delivery after the first harmless.
"""
from __future__ import annotations

import os

from celery import Celery, signals

from services.bootstrap import Settings
from services.platform.telemetry import configure_logging, request_id

broker_url = os.environ.get("BANJIAN_BROKER_URL")
if not broker_url:
    raise RuntimeError("set BANJIAN_BROKER_URL (e.g. redis://127.0.0.1:6379/0) to run Celery workers or beat; "
                       "without a broker, `banjian serve` runs background work in-process")
settings = Settings.from_env()

app = Celery("banjian", broker=broker_url, backend=os.environ.get("BANJIAN_RESULT_BACKEND", broker_url),
             include=["workers.tasks"])
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,  # a long job must not hold back the messages queued behind it
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=24 * 3600,
    broker_connection_retry_on_startup=True,
    # a message not acknowledged within this time goes back to the queue (the longest job must fit);
    # a crashed job is normally recovered sooner through its expired lease (recover_jobs)
    broker_transport_options={"visibility_timeout": int(os.environ.get("BANJIAN_VISIBILITY_TIMEOUT", 6 * 3600))},
    result_backend_transport_options={"visibility_timeout": int(os.environ.get("BANJIAN_VISIBILITY_TIMEOUT",
                                                                                   6 * 3600))},
    beat_schedule={
        "fire-due-timers": {"task": "banjian.scan_timers", "schedule": settings.timer_scan_seconds,
                            "options": {"expires": settings.timer_scan_seconds}},
        "send-reminders": {"task": "banjian.scan_reminders", "schedule": settings.reminder_scan_seconds,
                           "options": {"expires": settings.reminder_scan_seconds}},
        "recover-jobs": {"task": "banjian.recover_jobs", "schedule": 30.0, "options": {"expires": 30}},
        "purge-staged-uploads": {"task": "banjian.purge_staged_uploads", "schedule": settings.purge_scan_seconds,
                                 "options": {"expires": settings.purge_scan_seconds}},
    },
)


@signals.setup_logging.connect
def _logging(**_kwargs) -> None:
    """The deployment's log format (services.platform.telemetry) instead of Celery's own."""
    configure_logging()


@signals.task_prerun.connect
def _task_started(task_id: str | None = None, **_kwargs) -> None:
    request_id.set(task_id or "-")  # each log line of the task names it, as a request's lines do


@signals.task_postrun.connect
def _task_finished(**_kwargs) -> None:
    request_id.set("-")
