"""Large declaration batches are validated by a background job while the case waits (embedded mode)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.errors import Forbidden, InvalidData
from engine.models import HumanTask, InstanceStatus
from services.platform.background import EmbeddedRunner
from services.platform.jobs import Job
from services.special_work import declarations
from services.special_work.models import DeclarationCheck
from tests.workers.conftest import persons_with_one_error, submit_batch
from tests.workers.helpers import instance_status, open_tasks, sleep_past, wait_until


def job_of(rt, instance_id: int) -> Job:
    with rt.unit_of_work() as uow:
        (job,) = rt.jobs.for_instance(uow.session, instance_id)
        return job


def findings(rt, batch_id: int) -> int:
    with rt.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).where(DeclarationCheck.batch_id == batch_id))


def test_large_batch_waits_for_its_background_validation(background, actors):
    batch_id, instance_id = submit_batch(background, actors, persons_with_one_error(5))

    # the submission returned without validating: the case waits, nobody has a task yet
    assert instance_status(background, instance_id) == InstanceStatus.WAITING
    assert open_tasks(background, instance_id) == []
    job = job_of(background, instance_id)
    assert (job.status, job.progress_done, job.progress_total) == ("queued", 0, 5)
    assert findings(background, batch_id) == 0

    assert background.jobs.run_pending() == 1
    job = job_of(background, instance_id)
    assert job.status == "done"
    assert (job.progress_done, job.progress_total) == (5, 5)
    assert job.result["error_count"] == 1
    assert open_tasks(background, instance_id) == ["review"]
    with background.unit_of_work() as uow:
        assert declarations.get_batch(uow.session, batch_id).status == "reviewing"
    assert findings(background, batch_id) >= 1

    # the job's result is the case's validation: the 初审 guard sees the error person
    with background.unit_of_work() as uow:
        task_id = uow.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id)).one()
    with pytest.raises(InvalidData), background.unit_of_work() as uow:
        background.engine.complete_task(uow, task_id, actors["reviewer"], {"decision": "approve"})

    assert background.jobs.execute(job.id) == "skipped"  # a redelivered message finds the job done


def test_small_batch_is_still_validated_at_once(background, actors):
    _, instance_id = submit_batch(background, actors, persons_with_one_error(2, first_serial=150))
    assert open_tasks(background, instance_id) == ["review"]
    with background.unit_of_work() as uow:
        assert background.jobs.for_instance(uow.session, instance_id) == []


def test_job_interrupted_halfway_is_taken_over_and_finishes_with_the_same_result(background, actors, monkeypatch):
    batch_id, instance_id = submit_batch(background, actors, persons_with_one_error(4, first_serial=200))

    class Killed(BaseException):
        """What the runner sees of a process that dies: the job stops mid-transaction."""

    original = declarations.check_batch

    def dies_after_first_chunk(session, batch_id):
        for chunk in original(session, batch_id):
            yield chunk
            raise Killed()

    monkeypatch.setattr(declarations, "check_batch", dies_after_first_chunk)
    with pytest.raises(Killed):
        background.jobs.run_pending()
    job = job_of(background, instance_id)
    assert job.status == "running" and job.attempts == 1
    assert findings(background, batch_id) == 0  # nothing half-written
    assert open_tasks(background, instance_id) == []

    monkeypatch.setattr(declarations, "check_batch", original)
    assert background.jobs.run_pending() == 0  # the lease is still held
    sleep_past(job.lease_until)
    assert background.jobs.run_pending() == 1
    job = job_of(background, instance_id)
    assert (job.status, job.attempts, job.result["error_count"]) == ("done", 2, 1)
    assert open_tasks(background, instance_id) == ["review"]
    with background.unit_of_work() as uow:
        expected = declarations.validate_batch(uow.session, batch_id)  # validating again (rolled back)
    assert findings(background, batch_id) == expected["finding_count"]


def test_failed_job_leaves_the_case_waiting_until_a_supervisor_retries(background, actors, monkeypatch):
    _, instance_id = submit_batch(background, actors, persons_with_one_error(3, first_serial=250))

    def broken(session, batch_id):
        raise ValueError("名录服务不可用")

    original = declarations.check_batch
    monkeypatch.setattr(declarations, "check_batch", broken)
    background.jobs.run_pending()
    job = job_of(background, instance_id)
    assert job.status == "failed" and "名录服务不可用" in job.error
    assert instance_status(background, instance_id) == InstanceStatus.WAITING

    monkeypatch.setattr(declarations, "check_batch", original)
    with pytest.raises(Forbidden), background.unit_of_work() as uow:
        background.jobs.retry(uow, job.id, actors["reviewer"], frozenset())
    with background.unit_of_work() as uow:
        background.jobs.retry(uow, job.id, actors["supervisor"], frozenset())
        uow.commit()
    background.jobs.run_pending()
    assert job_of(background, instance_id).status == "done"
    assert open_tasks(background, instance_id) == ["review"]


def test_cancelling_a_queued_validation_withdraws_the_declaration(background, actors):
    _, instance_id = submit_batch(background, actors, persons_with_one_error(3, first_serial=300))
    job = job_of(background, instance_id)
    with background.unit_of_work() as uow:
        background.jobs.cancel(uow, job.id, actors["enterprise"], frozenset({"enterprise"}))
        uow.commit()
    assert job_of(background, instance_id).status == "cancelled"
    assert instance_status(background, instance_id) == InstanceStatus.TERMINATED
    assert background.jobs.run_pending() == 0


def test_embedded_runner_thread_runs_the_job_without_any_request(background, actors):
    runner = EmbeddedRunner(background, poll_seconds=0.2)
    runner.start()
    try:
        _, instance_id = submit_batch(background, actors, persons_with_one_error(3, first_serial=350))
        wait_until(lambda: open_tasks(background, instance_id) == ["review"], timeout=30)
    finally:
        runner.stop()
    assert job_of(background, instance_id).status == "done"
