"""The periodic steps of background work, and the embedded runner that drives them without a broker.

The same functions run in both modes: Celery beat schedules them and Celery workers execute them
(``workers/``), or — when ``BANJIAN_BROKER_URL`` is unset — :class:`EmbeddedRunner`, a daemon thread
of the web process, polls for them. Each step opens its own units of work and commits at the top.
"""
from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import update

from engine.db import utcnow
from engine.errors import Conflict
from engine.timers import due_timer_ids
from services.bootstrap import Runtime
from services.platform import attachments, reminders
from services.platform.jobs import Job, JobStatus

log = logging.getLogger(__name__)
RECOVER_AFTER = timedelta(seconds=60)


def due_timers(runtime: Runtime, now: datetime | None = None) -> list[int]:
    with runtime.unit_of_work() as uow:
        return due_timer_ids(uow.session, now or utcnow())


def fire_timer(runtime: Runtime, timer_id: int) -> bool:
    """Fire one timer in its own transaction; False when another scheduler won it or it is not due."""
    with runtime.unit_of_work() as uow:
        try:
            fired = runtime.engine.fire_timer(uow, timer_id)
        except Conflict as not_due:
            log.info("timer %s not fired: %s", timer_id, not_due.message)
            return False
        uow.commit()
        return fired


def send_reminders(runtime: Runtime, now: datetime | None = None) -> reminders.ScanResult:
    return reminders.scan_and_send(runtime.unit_of_work, runtime.notifier,
                                   runtime.settings.remind_before_working_days, now)


def purge_staged_uploads(runtime: Runtime, now: datetime | None = None) -> int:
    """Remove files uploaded a day ago or more that no form ever carried into a case."""
    with runtime.unit_of_work() as uow:
        removed = attachments.purge_unbound(uow.session, now or utcnow())
        uow.commit()
        return removed


def jobs_to_recover(runtime: Runtime, now: datetime | None = None) -> list[int]:
    """Jobs queued for a while without a worker picking them up (a message lost between commit and
    broker), and running jobs whose worker stopped renewing the lease. Jobs overdue past their time
    limit (a worker killed at Celery's hard limit, or stuck) are marked failed first."""
    now = now or utcnow()
    runtime.jobs.fail_overdue(now)
    with runtime.unit_of_work() as uow:
        ids = runtime.jobs.runnable_ids(uow.session, now, queued_before=now - RECOVER_AFTER)
        # re-sent now: not again for another RECOVER_AFTER while a busy queue works through it
        uow.session.execute(update(Job).where(Job.id.in_(ids), Job.status == JobStatus.QUEUED).values(updated_at=now))
        uow.commit()
        return ids


class _Loop(threading.Thread):
    """A daemon thread calling ``step`` whenever a job is enqueued, and every ``poll_seconds``."""

    def __init__(self, name: str, runtime: Runtime, step: Callable[[], object], poll_seconds: float):
        super().__init__(name=name, daemon=True)
        self.step = step
        self.poll_seconds = poll_seconds
        subscribe = getattr(runtime.jobs.dispatcher, "subscribe", None)
        self.wakeup: threading.Event = subscribe() if subscribe else threading.Event()
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.step()
            except Exception:  # keep the thread alive; the next round tries again
                log.exception("embedded background runner %s: step failed", self.name)
            self.wakeup.wait(self.poll_seconds)
            self.wakeup.clear()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self.wakeup.set()
        self.join(timeout)


class EmbeddedRunner(_Loop):
    """Background work inside the web process: jobs as soon as they are committed, timers every
    ``timer_seconds`` and reminders every ``reminder_seconds``. Jobs run here, never in a request.

    Each job kind with a cap on running jobs (``JobService.capped_kinds``: the declaration import)
    gets a thread of its own, which runs that kind's jobs one at a time; this thread runs every
    other kind, the periodic scans, and marks failed the jobs overdue past their time limit. So a
    long or stuck import never keeps a timer, a reminder or a 校验 waiting. (A thread cannot be
    killed: a job stuck where it reports nothing keeps its thread until it returns, but it is
    marked failed in time and whatever it would commit afterwards is refused.)"""

    def __init__(self, runtime: Runtime, *, poll_seconds: float = 2.0):
        super().__init__("banjian-embedded-runner", runtime, self._step, poll_seconds)
        self.runtime = runtime
        settings = runtime.settings
        self._periodic: list[tuple[float, Callable[[], object], list[float]]] = [
            (settings.timer_scan_seconds, self._fire_timers, [0.0]),
            (settings.reminder_scan_seconds, lambda: send_reminders(runtime), [0.0]),
            (settings.purge_scan_seconds, lambda: purge_staged_uploads(runtime), [0.0]),
        ]
        self.capped = runtime.jobs.capped_kinds()
        self.lanes = [_Loop(f"banjian-embedded-runner-{kind}", runtime,
                            functools.partial(runtime.jobs.run_pending, kinds=[kind]), poll_seconds)
                      for kind in self.capped]

    def _fire_timers(self) -> None:
        for timer_id in due_timers(self.runtime):
            fire_timer(self.runtime, timer_id)

    def _step(self) -> None:
        """One round: fail overdue jobs, run runnable jobs of the uncapped kinds, then whatever periodic
        scan is due."""
        self.runtime.jobs.fail_overdue()
        self.runtime.jobs.run_pending(other_than=self.capped)
        now = time.monotonic()
        for interval, action, last in self._periodic:
            if now - last[0] >= interval:
                last[0] = now
                action()

    def start(self) -> None:
        super().start()
        for lane in self.lanes:
            lane.start()

    def stop(self, timeout: float = 10.0) -> None:
        for lane in self.lanes:
            lane.stop(timeout)
        super().stop(timeout)
