"""入库 of a large batch passed by 复核 runs as a background job while the case waits (embedded mode);
a small one is registered in the rechecker's own completion."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from engine.errors import Conflict
from engine.models import HumanTask, InstanceStatus, TaskStatus
from services.bootstrap import Runtime, Settings, bootstrap
from services.special_work import declarations
from services.special_work.models import Person
from tests.conftest import person
from tests.web.conftest import Browser
from tests.workers.conftest import submit_batch
from tests.workers.helpers import instance_status, open_tasks
from web import create_app


@pytest.fixture(scope="module")
def registering(runtime) -> Iterator[Runtime]:
    """A runtime over the test database that registers at most two persons inline."""
    rt = bootstrap(Settings(database_url=runtime.settings.database_url, script_time_limit=0.5,
                            inline_registration_limit=2, job_lease_seconds=1))
    yield rt
    rt.db.dispose()


def decide(rt: Runtime, instance_id: int, who, data: dict) -> str:
    with rt.unit_of_work() as uow:
        task_id = uow.session.scalars(select(HumanTask.id).where(
            HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.OPEN)).one()
        status = rt.engine.complete_task(uow, task_id, who, data).status
        uow.commit()
        return status


def registered(rt: Runtime, numbers: list[str]) -> set[str]:
    with rt.unit_of_work() as uow:
        return set(uow.session.scalars(select(Person.id_number).where(Person.id_number.in_(numbers))))


def batch_status(rt: Runtime, batch_id: int) -> str:
    with rt.unit_of_work() as uow:
        return declarations.get_batch(uow.session, batch_id).status


def registration_job(rt: Runtime, instance_id: int):
    with rt.unit_of_work() as uow:
        (job,) = rt.jobs.for_instance(uow.session, instance_id)
        return job


def passed_by_recheck(rt: Runtime, actors, serials: range) -> tuple[int, int, list[str]]:
    persons = [person(n) for n in serials]
    batch_id, instance_id = submit_batch(rt, actors, persons)
    decide(rt, instance_id, actors["reviewer"], {"decision": "approve"})
    decide(rt, instance_id, actors["rechecker"], {"decision": "approve"})
    return batch_id, instance_id, [p["id_number"] for p in persons]


def test_a_large_batch_is_registered_by_a_job_while_the_case_waits(registering, actors):
    batch_id, instance_id, numbers = passed_by_recheck(registering, actors, range(400, 403))

    # the rechecker's click returned before registering: the case waits, the batch shows 入库中
    assert instance_status(registering, instance_id) == InstanceStatus.WAITING
    assert open_tasks(registering, instance_id) == []
    assert batch_status(registering, batch_id) == "registering"
    assert registered(registering, numbers) == set()
    enterprise = Browser(create_app(registering, {"TESTING": True}).test_client()).sign_in("enterprise")
    portal = enterprise.get(f"/portal/batches/{batch_id}").get_data(as_text=True)  # the applicant's view
    assert "复核通过，入库中" in portal and "校验中" not in portal and "<progress" not in portal
    job = registration_job(registering, instance_id)
    assert (job.kind, job.status, job.progress_total) == ("declaration.register", "queued", 3)
    with pytest.raises(Conflict, match="不能取消"), registering.unit_of_work() as uow:  # 复核 has decided
        registering.jobs.cancel(uow, job.id, actors["supervisor"], frozenset())

    assert registering.jobs.run_pending() == 1
    job = registration_job(registering, instance_id)
    assert job.status == "done" and job.result == {"registered_persons": 3, "work_histories": 3}
    assert instance_status(registering, instance_id) == InstanceStatus.COMPLETED
    assert batch_status(registering, batch_id) == "approved"
    assert registered(registering, numbers) == set(numbers)
    assert registering.jobs.execute(job.id) == "skipped"  # a redelivered message finds the job done


def test_a_small_batch_is_registered_in_the_rechecker_s_completion(registering, actors):
    batch_id, instance_id, numbers = passed_by_recheck(registering, actors, range(410, 412))
    assert instance_status(registering, instance_id) == InstanceStatus.COMPLETED
    assert batch_status(registering, batch_id) == "approved"
    assert registered(registering, numbers) == set(numbers)
    with registering.unit_of_work() as uow:
        assert registering.jobs.for_instance(uow.session, instance_id) == []


def test_a_failed_registration_registers_nothing_and_waits_for_a_supervisor_s_retry(registering, actors,
                                                                                   monkeypatch):
    batch_id, instance_id, numbers = passed_by_recheck(registering, actors, range(420, 423))
    original = declarations.register_batch

    def half_then_broken(session, batch_id):
        original(session, batch_id)
        raise ValueError("登记库暂不可用")

    monkeypatch.setattr(declarations, "register_batch", half_then_broken)
    registering.jobs.run_pending()
    job = registration_job(registering, instance_id)
    assert job.status == "failed" and "登记库暂不可用" in job.error
    assert registered(registering, numbers) == set()  # the rows written before the failure were rolled back
    assert instance_status(registering, instance_id) == InstanceStatus.WAITING
    assert batch_status(registering, batch_id) == "registering"
    supervisor = Browser(create_app(registering, {"TESTING": True}).test_client()).sign_in("supervisor")
    case_page = supervisor.get(f"/cases/{instance_id}").get_data(as_text=True)
    assert "后台入库失败，办件等待重试。" in case_page and f"/jobs/{job.id}/retry" in case_page

    monkeypatch.setattr(declarations, "register_batch", original)
    with registering.unit_of_work() as uow:
        registering.jobs.retry(uow, job.id, actors["supervisor"], frozenset())
        uow.commit()
    registering.jobs.run_pending()
    assert registration_job(registering, instance_id).status == "done"
    assert instance_status(registering, instance_id) == InstanceStatus.COMPLETED
    assert registered(registering, numbers) == set(numbers)


def test_persons_sent_back_at_recheck_return_to_review_once_the_others_are_registered(registering, actors):
    persons = [person(n) for n in range(430, 434)]
    batch_id, instance_id = submit_batch(registering, actors, persons)
    decide(registering, instance_id, actors["reviewer"], {"decision": "approve"})
    with registering.unit_of_work() as uow:
        returned = uow.session.scalars(select(declarations.DeclaredPerson.id).where(
            declarations.DeclaredPerson.batch_id == batch_id).order_by(declarations.DeclaredPerson.id)).first()
    decide(registering, instance_id, actors["rechecker"], {"decision": "approve", "rejected_persons": [str(returned)],
                                                           "conclusion": "工作年限需核实"})
    assert open_tasks(registering, instance_id) == []  # three to register: a job
    registering.jobs.run_pending()
    assert open_tasks(registering, instance_id) == ["review"]
    assert batch_status(registering, batch_id) == "returned"
    assert registered(registering, [p["id_number"] for p in persons]) == {p["id_number"] for p in persons[1:]}
