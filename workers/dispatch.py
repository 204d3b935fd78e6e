"""The job dispatcher used when a broker is configured, registered as the ``banjian.dispatchers``
entry point so that services/ (and web/, which enqueues after its commits) never import Celery."""
from __future__ import annotations

from services.platform.jobs import grace_seconds


class CeleryDispatcher:
    def __init__(self, broker_url: str):
        self.broker_url = broker_url  # the Celery app reads the same BANJIAN_BROKER_URL

    def enqueue(self, job_id: int, time_limit: float) -> None:
        """Send the job with Celery's time limits for this attempt: the job stops itself at
        ``time_limit`` (its heartbeat); the soft limit (SoftTimeLimitExceeded, raised inside the task)
        stops it one grace later where it reports nothing, the hard limit (the pool process killed and
        replaced) one grace after that."""
        from workers.tasks import run_job

        grace = grace_seconds(time_limit)
        run_job.apply_async((job_id,), soft_time_limit=time_limit + grace, time_limit=time_limit + 2 * grace)
