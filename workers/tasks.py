"""Thin, idempotent Celery tasks. Each takes ids, builds (once per process) the runtime through the
composition root, and calls one services/ function that opens and commits its own unit of work.
Transient database or network errors are retried with exponential backoff."""
from __future__ import annotations

from celery.exceptions import SoftTimeLimitExceeded

from services.bootstrap import Runtime, bootstrap
from services.platform import background
from services.platform.jobs import TRANSIENT_ERRORS
from workers.app import app

RETRY = {"acks_late": True, "reject_on_worker_lost": True, "autoretry_for": TRANSIENT_ERRORS, "retry_backoff": 2,
         "retry_backoff_max": 300, "retry_jitter": True, "max_retries": 12}
_runtime: Runtime | None = None


def runtime() -> Runtime:
    """The process's runtime, built on first use (after the prefork pool has forked)."""
    global _runtime
    if _runtime is None:
        _runtime = bootstrap()
    return _runtime


@app.task(name="banjian.run_job", **RETRY)
def run_job(job_id: int) -> str:
    """Execute a job; a duplicate delivery finds it finished or leased and does nothing. Sent with
    the job's time limits (``workers.dispatch``); at the soft one the job fails with a message."""
    return runtime().jobs.execute(job_id, timeout_errors=(SoftTimeLimitExceeded,))


@app.task(name="banjian.fire_timer", **RETRY)
def fire_timer(timer_id: int) -> bool:
    return background.fire_timer(runtime(), timer_id)


@app.task(name="banjian.scan_timers", **RETRY)
def scan_timers() -> int:
    """Beat: hand every due timer to a worker (two beats may both do so; one firing wins)."""
    ids = background.due_timers(runtime())
    for timer_id in ids:
        fire_timer.delay(timer_id)
    return len(ids)


@app.task(name="banjian.scan_reminders", **RETRY)
def scan_reminders() -> dict[str, int]:
    return background.send_reminders(runtime())._asdict()


@app.task(name="banjian.purge_staged_uploads", **RETRY)
def purge_staged_uploads() -> int:
    """Beat: remove uploads staged a day ago or more that no form carried into a case."""
    return background.purge_staged_uploads(runtime())


@app.task(name="banjian.recover_jobs", **RETRY)
def recover_jobs() -> int:
    """Beat: fail overdue jobs; re-send jobs whose message was lost or whose worker stopped renewing
    its lease."""
    ids = background.jobs_to_recover(runtime())
    runtime().jobs.redispatch(ids)
    return len(ids)
