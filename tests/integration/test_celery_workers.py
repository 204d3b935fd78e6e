"""Background work on real Redis with real `celery worker` and `celery beat` processes."""
from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from engine.db import utcnow
from engine.models import HumanTask, TaskStatus
from services.platform.jobs import Job
from services.platform.notifications import Notification
from services.special_work import declarations
from tests.conftest import actor
from tests.integration.conftest import big_batch, redis_problem
from tests.workers import bpmn
from tests.workers.helpers import deploy, events, open_tasks, soon, start, timers, wait_until

PROBLEM = redis_problem()
pytestmark = [pytest.mark.redis, pytest.mark.skipif(PROBLEM is not None, reason=PROBLEM or "")]


def submit(rt, persons) -> tuple[int, int]:
    with rt.unit_of_work() as uow:
        batch = declarations.submit_declaration(uow, rt.engine, actor("enterprise"), "110101000001", "first",
                                                [declarations.PersonInput(**p) for p in persons])
        uow.commit()
        return batch.id, batch.instance_id


def job_for(rt, instance_id: int) -> Job:
    with rt.unit_of_work() as uow:
        (job,) = rt.jobs.for_instance(uow.session, instance_id)
        return job


def finding_count(rt, batch_id: int) -> int:
    with rt.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).where(declarations.DeclarationCheck.batch_id == batch_id))


def expected_validation(rt, batch_id: int) -> dict:
    """What validating the batch once more gives (rolled back)."""
    with rt.unit_of_work() as uow:
        return declarations.validate_batch(uow.session, batch_id)


def test_large_batch_is_validated_by_a_worker_with_visible_progress(client_runtime, cluster):
    batch_id, instance_id = submit(client_runtime, big_batch(4000))
    assert open_tasks(client_runtime, instance_id) == []  # the submission did not wait for 校验

    seen: set[tuple[str, int]] = set()

    def finished() -> bool:
        job = job_for(client_runtime, instance_id)
        seen.add((job.status, job.progress_done))
        return job.status == "done"

    wait_until(finished, timeout=120, interval=0.02)
    job = job_for(client_runtime, instance_id)
    assert (job.progress_done, job.progress_total, job.result["error_count"]) == (4000, 4000, 400)
    assert open_tasks(client_runtime, instance_id) == ["review"]
    assert any(status == "running" and 0 < done < 4000 for status, done in seen), seen


def test_worker_killed_halfway_is_redelivered_and_finishes_with_the_same_result(client_runtime, cluster):
    batch_id, instance_id = submit(client_runtime, big_batch(12000))

    def halfway() -> Job | None:
        job = job_for(client_runtime, instance_id)
        return job if job.status == "running" and 0 < job.progress_done < job.progress_total else None

    job = wait_until(halfway, timeout=120, interval=0.02)
    pid = int(job.lease_owner.split(":")[1])  # the pool process executing the job
    os.kill(pid, signal.SIGKILL)
    assert finding_count(client_runtime, batch_id) == 0  # nothing of the killed attempt is visible

    wait_until(lambda: job_for(client_runtime, instance_id).status == "done", timeout=180, interval=0.2)
    job = job_for(client_runtime, instance_id)
    assert job.attempts == 2, cluster.log_text()
    assert job.result["error_count"] == 1200
    expected = expected_validation(client_runtime, batch_id)
    assert finding_count(client_runtime, batch_id) == expected["finding_count"] == job.result["finding_count"]
    assert open_tasks(client_runtime, instance_id) == ["review"]  # the case moved on exactly once
    assert len(events(client_runtime, instance_id, "message_received")) == 1


def test_two_beats_and_two_workers_fire_each_timer_once(client_runtime, cluster):
    deploy(client_runtime, bpmn.intermediate_timer("wait_cluster", "wake_at"), "wait_cluster")
    boundary = bpmn.boundary_timer("deadline_cluster", "deadline", interrupting=False)
    deploy(client_runtime, boundary, "deadline_cluster")
    wake_at, _ = soon(2.0)
    waiting = [start(client_runtime, "wait_cluster", {"wake_at": wake_at}) for _ in range(3)]
    soft = start(client_runtime, "deadline_cluster", {"deadline": wake_at})

    wait_until(lambda: all(open_tasks(client_runtime, i) == ["after"] for i in waiting), timeout=60)
    wait_until(lambda: open_tasks(client_runtime, soft) == ["escalated", "work"], timeout=60)
    time.sleep(3)  # several more scans by both beats: nothing fires again
    for instance_id in [*waiting, soft]:
        assert len(events(client_runtime, instance_id, "timer_fired")) == 1
        assert [t.fired for t in timers(client_runtime, instance_id)] == [True]
    assert open_tasks(client_runtime, soft) == ["escalated", "work"]


def test_beat_reminds_before_the_due_date_and_escalates_overdue_tasks_once(client_runtime, cluster):
    # due far away at first: the beats scan every second, and must owe nothing before the test sets
    # the due dates below (with "2 working days" they could remind both tasks as due soon first)
    deploy(client_runtime, bpmn.single_task("remind_cluster", due_in="30 working days"), "remind_cluster")
    soon_id, late_id = (start(client_runtime, "remind_cluster") for _ in range(2))
    now = utcnow()
    with client_runtime.unit_of_work() as uow:
        for instance_id, due in ((soon_id, now + timedelta(hours=1)), (late_id, now - timedelta(hours=1))):
            uow.session.execute(update(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.status == TaskStatus.OPEN).values(due_at=due))
        uow.commit()

    def received() -> list[tuple[int, str, str]]:
        with client_runtime.unit_of_work() as uow:
            return sorted((n.instance_id, n.recipient, n.kind) for n in uow.session.scalars(select(Notification)))

    expected = sorted([(soon_id, "reviewer", "reminder_due_soon"), (late_id, "reviewer", "reminder_overdue"),
                       (late_id, "supervisor", "escalation_overdue")])
    wait_until(lambda: received() == expected, timeout=60, seen=received)
    time.sleep(3)  # both beats keep scanning every second
    assert received() == expected
