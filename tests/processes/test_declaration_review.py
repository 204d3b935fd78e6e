"""The paths of first_declaration_review / annual_declaration_review (via declaration_review_flow)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.errors import InvalidData
from engine.models import HistoryEvent, HumanTask, InstanceStatus, ProcessInstance, TaskStatus
from services.special_work import declarations
from services.special_work.models import Person, WorkHistory
from tests.conftest import person


def submit(runtime, actors, persons, kind="first"):
    with runtime.unit_of_work() as uow:
        batch = declarations.submit_declaration(uow, runtime.engine, actors["enterprise"], "110101000001", kind,
                                                [declarations.PersonInput(**p) for p in persons])
        uow.commit()
        return batch.id, batch.instance_id


def open_task(runtime, instance_id) -> HumanTask:
    with runtime.unit_of_work() as uow:
        rows = uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                           HumanTask.status == TaskStatus.OPEN)).all()
        assert len(rows) == 1
        return rows[0]


def complete(runtime, task_id, who, data):
    with runtime.unit_of_work() as uow:
        instance = runtime.engine.complete_task(uow, task_id, who, data)
        uow.commit()
        return instance.status


def batch_status(runtime, batch_id):
    with runtime.unit_of_work() as uow:
        return declarations.get_batch(uow.session, batch_id).status


def register_rows(runtime):
    with runtime.unit_of_work() as uow:
        return (uow.session.scalars(select(Person)).all(), uow.session.scalars(select(WorkHistory)).all())


def test_approve_then_approve_registers_persons_and_closes(runtime, actors):
    batch_id, instance_id = submit(runtime, actors, [person(1), person(2)])
    review = open_task(runtime, instance_id)
    assert (review.name, review.lane, review.region_code) == ("review", "reviewer", "110101")
    assert review.due_at is not None and review.due_at > review.created_at
    assert batch_status(runtime, batch_id) == "reviewing"
    assert register_rows(runtime) == ([], [])

    assert complete(runtime, review.id, actors["reviewer"], {"decision": "approve"}) == InstanceStatus.WAITING
    recheck = open_task(runtime, instance_id)
    assert (recheck.name, recheck.lane) == ("recheck", "rechecker")
    assert batch_status(runtime, batch_id) == "rechecking"
    assert register_rows(runtime) == ([], [])  # nothing enters the register before 复核

    assert complete(runtime, recheck.id, actors["rechecker"], {"decision": "approve"}) == InstanceStatus.COMPLETED
    persons, histories = register_rows(runtime)
    assert sorted(p.name for p in persons) == ["测试1", "测试2"]
    assert len(histories) == 2 and histories[0].start_date == date(1995, 7, 1)
    assert batch_status(runtime, batch_id) == "approved"
    with runtime.unit_of_work() as uow:
        kinds = [e.kind for e in uow.session.scalars(select(HistoryEvent).where(
            HistoryEvent.instance_id == instance_id).order_by(HistoryEvent.id))]
    assert kinds[0] == "started" and kinds[-1] == "completed"
    assert kinds.count("task_completed") == 2


def test_recheck_reject_returns_to_review_then_approves(runtime, actors):
    batch_id, instance_id = submit(runtime, actors, [person(3)])
    complete(runtime, open_task(runtime, instance_id).id, actors["reviewer"], {"decision": "approve"})
    recheck = open_task(runtime, instance_id)
    with pytest.raises(InvalidData) as missing:
        complete(runtime, recheck.id, actors["rechecker"], {"decision": "reject"})
    assert "conclusion" in missing.value.fields
    complete(runtime, recheck.id, actors["rechecker"], {"decision": "reject", "conclusion": "工作年限需核实"})
    again = open_task(runtime, instance_id)
    assert again.name == "review" and again.id != recheck.id
    assert batch_status(runtime, batch_id) == "returned"
    complete(runtime, again.id, actors["reviewer"], {"decision": "approve", "conclusion": "已核实"})
    assert complete(runtime, open_task(runtime, instance_id).id, actors["rechecker"],
                    {"decision": "approve"}) == InstanceStatus.COMPLETED
    assert len(register_rows(runtime)[0]) == 1
    with runtime.unit_of_work() as uow:
        events = uow.session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id,
                                                                HistoryEvent.kind == "task_completed")
                                     .order_by(HistoryEvent.id)).all()
    assert [(e.task_name, e.decision, e.actor) for e in events] == [
        ("review", "approve", "reviewer"), ("recheck", "reject", "rechecker"),
        ("review", "approve", "reviewer"), ("recheck", "approve", "rechecker")]
    assert events[1].conclusion == "工作年限需核实"


def test_validation_errors_block_approval_but_allow_rejection(runtime, actors):
    bad = person(4, id_number="110101197503010000")  # wrong check digit
    overlapping = person(5, work_histories=[
        {"work_type_code": "MT001", "start_date": date(1995, 1, 1), "end_date": date(2000, 1, 1)},
        {"work_type_code": "MT002", "start_date": date(1999, 1, 1), "end_date": date(2003, 1, 1)},
        {"work_type_code": "NOPE", "start_date": date(2005, 1, 1), "end_date": date(2004, 1, 1)}])
    batch_id, instance_id = submit(runtime, actors, [bad, overlapping, person(6)])
    with runtime.unit_of_work() as uow:
        checks = declarations.batch_checks(uow.session, batch_id)
        messages = sorted(c.message for found in checks.values() for c in found)
    assert "公民身份号码校验位错误" in messages
    assert any("重叠" in m for m in messages)
    assert any("不在特殊工种名录中" in m for m in messages)
    assert any("结束日期早于开始日期" in m for m in messages)
    assert len(checks) == 2  # the third person is clean

    review = open_task(runtime, instance_id)
    with pytest.raises(InvalidData) as refused:
        complete(runtime, review.id, actors["reviewer"], {"decision": "approve"})
    assert "校验未通过" in refused.value.message
    assert open_task(runtime, instance_id).id == review.id  # nothing changed

    assert complete(runtime, review.id, actors["reviewer"],
                    {"decision": "reject", "conclusion": "身份证号码有误"}) == InstanceStatus.COMPLETED
    assert batch_status(runtime, batch_id) == "rejected"
    assert register_rows(runtime) == ([], [])


def test_reject_at_review_ends_the_case(runtime, actors):
    batch_id, instance_id = submit(runtime, actors, [person(7)])
    review = open_task(runtime, instance_id)
    assert complete(runtime, review.id, actors["reviewer"],
                    {"decision": "reject", "conclusion": "材料不全"}) == InstanceStatus.COMPLETED
    with runtime.unit_of_work() as uow:
        instance = uow.session.get(ProcessInstance, instance_id)
        assert instance.ended_at is not None
        assert uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                           HumanTask.status == TaskStatus.OPEN)).all() == []
    assert batch_status(runtime, batch_id) == "rejected"


def test_annual_declaration_runs_the_same_review(runtime, actors):
    batch_id, instance_id = submit(runtime, actors, [person(8)], kind="annual")
    with runtime.unit_of_work() as uow:
        instance = uow.session.get(ProcessInstance, instance_id)
        assert instance.process_key == "annual_declaration_review"
        assert instance.business_key.startswith("ND110101")
    complete(runtime, open_task(runtime, instance_id).id, actors["reviewer"], {"decision": "approve"})
    complete(runtime, open_task(runtime, instance_id).id, actors["rechecker"], {"decision": "approve"})
    assert batch_status(runtime, batch_id) == "approved"


def test_person_already_in_register_with_overlapping_period_is_flagged(runtime, actors):
    _, first = submit(runtime, actors, [person(9)])
    complete(runtime, open_task(runtime, first).id, actors["reviewer"], {"decision": "approve"})
    complete(runtime, open_task(runtime, first).id, actors["rechecker"], {"decision": "approve"})
    batch_id, _ = submit(runtime, actors, [person(9, name="测试9")], kind="annual")
    with runtime.unit_of_work() as uow:
        messages = [c.message for found in declarations.batch_checks(uow.session, batch_id).values() for c in found]
    assert any("库中已有经历" in m for m in messages)


def test_reviewer_of_another_region_may_not_act(runtime, actors):
    from engine.errors import Forbidden, NotFound

    _, instance_id = submit(runtime, actors, [person(10)])
    review = open_task(runtime, instance_id)
    with pytest.raises(NotFound):  # another province's case: as if it did not exist
        complete(runtime, review.id, actors["tj_reviewer"], {"decision": "approve"})
    with pytest.raises(NotFound):  # county 110105 does not cover 110101
        complete(runtime, review.id, actors["county_reviewer"], {"decision": "approve"})
    with pytest.raises(Forbidden):  # right region, wrong role
        complete(runtime, review.id, actors["rechecker"], {"decision": "approve"})


def test_each_action_answers_with_the_tasks_open_after_it(runtime, actors):
    """start/complete_task tell the caller which tasks are open now (the rows the inbox lists)."""
    _, instance_id = submit(runtime, actors, [person(3)])
    review = open_task(runtime, instance_id)
    with runtime.unit_of_work() as uow:
        instance = runtime.engine.complete_task(uow, review.id, actors["reviewer"], {"decision": "approve"})
        uow.commit()
    recheck = open_task(runtime, instance_id)
    assert recheck.id != review.id and instance.open_task_ids == (recheck.id,)
    with runtime.unit_of_work() as uow:
        instance = runtime.engine.complete_task(uow, recheck.id, actors["rechecker"], {"decision": "approve"})
        uow.commit()
    assert instance.status == InstanceStatus.COMPLETED and instance.open_task_ids == ()
