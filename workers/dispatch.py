"""The job dispatcher used when a broker is configured, registered as the ``banjian.dispatchers``
entry point so that services/ (and web/, which enqueues after its commits) never import Celery."""
from __future__ import annotations


class CeleryDispatcher:
    def __init__(self, broker_url: str):
        self.broker_url = broker_url  # the Celery app reads the same BANJIAN_BROKER_URL

    def enqueue(self, job_id: int) -> None:
        from workers.tasks import run_job

        run_job.delay(job_id)
