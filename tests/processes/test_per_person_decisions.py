"""初审 / 复核 per person (seed 000, 4.1–4.4): a selection fails or goes back, the rest moves on;
only persons passed by 复核 enter the register, at the end of 复核."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.errors import Conflict, InvalidData
from engine.models import InstanceStatus
from services.special_work import declarations
from services.special_work.models import Person, WorkHistory
from tests.services.review_helpers import (
    actor,
    complete,
    in_register,
    open_task,
    person,
    person_ids,
    statuses,
    submit,
)


def registered_numbers(runtime) -> set[str]:
    with runtime.unit_of_work() as uow:
        return set(uow.session.scalars(select(Person.id_number)))


def test_review_rejects_a_selection_and_forwards_the_rest(runtime):
    batch_id, instance_id = submit(runtime, [person(1), person(2), person(3)])
    first, second, third = person_ids(runtime, batch_id)
    assert complete(runtime, instance_id, "reviewer", {"decision": "approve", "rejected_persons": [str(second)],
                                                       "conclusion": "从业经历证明不足"}) == InstanceStatus.WAITING
    assert statuses(runtime, batch_id) == ("rechecking", ["reviewed", "rejected", "reviewed"])
    assert open_task(runtime, instance_id).name == "recheck"
    assert registered_numbers(runtime) == set()
    with runtime.unit_of_work() as uow:
        rejected = uow.session.get(declarations.DeclaredPerson, second)
        assert (rejected.conclusion, rejected.decided_by) == ("从业经历证明不足", "reviewer")

    assert complete(runtime, instance_id, "rechecker", {"decision": "approve"}) == InstanceStatus.COMPLETED
    assert statuses(runtime, batch_id) == ("approved", ["approved", "rejected", "approved"])
    assert registered_numbers(runtime) == {person(1)["id_number"], person(3)["id_number"]}
    assert first and third


def test_rejecting_persons_requires_a_conclusion(runtime):
    batch_id, instance_id = submit(runtime, [person(4), person(5)])
    one = person_ids(runtime, batch_id)[0]
    task = open_task(runtime, instance_id)
    with pytest.raises(InvalidData) as refused:
        complete(runtime, instance_id, "reviewer", {"decision": "approve", "rejected_persons": [str(one)]})
    assert "审核结论" in refused.value.message
    assert open_task(runtime, instance_id).id == task.id
    assert statuses(runtime, batch_id) == ("reviewing", ["pending", "pending"])


def test_persons_failing_validation_must_be_rejected_before_the_rest_can_pass(runtime):
    bad = person(6, id_number="110101197503010000")
    batch_id, instance_id = submit(runtime, [bad, person(7)])
    bad_id, good_id = person_ids(runtime, batch_id)
    with pytest.raises(InvalidData, match="校验未通过"):
        complete(runtime, instance_id, "reviewer", {"decision": "approve", "rejected_persons": [],
                                                    "conclusion": "x"})
    complete(runtime, instance_id, "reviewer", {"decision": "approve", "rejected_persons": [str(bad_id)],
                                                "conclusion": "身份证号码校验位错误"})
    assert statuses(runtime, batch_id) == ("rechecking", ["rejected", "reviewed"])
    complete(runtime, instance_id, "rechecker", {"decision": "approve"})
    assert registered_numbers(runtime) == {person(7)["id_number"]}
    assert good_id


def test_rejecting_everyone_at_review_ends_the_case(runtime):
    batch_id, instance_id = submit(runtime, [person(8), person(9)])
    ids = person_ids(runtime, batch_id)
    assert complete(runtime, instance_id, "reviewer", {"decision": "approve", "rejected_persons": [str(i) for i in ids],
                                                       "conclusion": "全部材料不全"}) == InstanceStatus.COMPLETED
    assert statuses(runtime, batch_id) == ("rejected", ["rejected", "rejected"])
    assert registered_numbers(runtime) == set()


def test_recheck_sends_a_selection_back_to_review_and_registers_the_rest(runtime):
    batch_id, instance_id = submit(runtime, [person(10), person(11), person(12)])
    a, b, c = person_ids(runtime, batch_id)
    complete(runtime, instance_id, "reviewer", {"decision": "approve"})
    with pytest.raises(InvalidData, match="复核意见"):
        complete(runtime, instance_id, "rechecker", {"decision": "approve", "rejected_persons": [str(b)]})
    assert complete(runtime, instance_id, "rechecker", {"decision": "approve", "rejected_persons": [str(b)],
                                                        "conclusion": "工作年限需核实"}) == InstanceStatus.WAITING
    # a and c are in the register now; b waits for 初审 again
    assert registered_numbers(runtime) == {person(10)["id_number"], person(12)["id_number"]}
    assert statuses(runtime, batch_id) == ("returned", ["approved", "returned", "approved"])
    review = open_task(runtime, instance_id)
    assert review.name == "review"
    with pytest.raises(InvalidData):  # an approved person is no longer under review
        complete(runtime, instance_id, "reviewer", {"decision": "approve", "rejected_persons": [str(a)],
                                                    "conclusion": "x"})
    complete(runtime, instance_id, "reviewer", {"decision": "approve", "conclusion": "已核实"})
    assert complete(runtime, instance_id, "rechecker", {"decision": "approve"}) == InstanceStatus.COMPLETED
    assert statuses(runtime, batch_id) == ("approved", ["approved", "approved", "approved"])
    with runtime.unit_of_work() as uow:
        assert len(uow.session.scalars(select(WorkHistory)).all()) == 3
    assert c


def test_registration_goes_chunk_by_chunk_adding_new_persons_and_the_new_periods_of_known_ones(runtime,
                                                                                            monkeypatch):
    monkeypatch.setattr(declarations, "CHUNK", 2)  # five persons: three chunks, the last one short
    known = in_register(runtime, 20)  # in the register with 1995-07-01～2010-06-30
    declared = [person(20, start=date(2011, 1, 1), end=date(2015, 12, 31)), *(person(n) for n in (21, 22, 23, 24))]
    batch_id, instance_id = submit(runtime, declared, kind="annual")
    returned = person_ids(runtime, batch_id)[2]
    complete(runtime, instance_id, "reviewer", {"decision": "approve"})
    complete(runtime, instance_id, "rechecker", {"decision": "approve", "rejected_persons": [str(returned)],
                                                 "conclusion": "工作年限需核实"})
    assert statuses(runtime, batch_id) == ("returned", ["approved", "approved", "returned", "approved", "approved"])
    with runtime.unit_of_work() as uow:
        periods = {(number, start, end) for number, start, end in uow.session.execute(
            select(Person.id_number, WorkHistory.start_date, WorkHistory.end_date).join(WorkHistory))}
        batches = {number: batch_no for number, batch_no in uow.session.execute(
            select(Person.id_number, WorkHistory.batch_no).join(WorkHistory).where(WorkHistory.batch_no != ""))}
    assert registered_numbers(runtime) == {known} | {person(n)["id_number"] for n in (21, 23, 24)}
    assert periods == {(known, date(1995, 7, 1), date(2010, 6, 30)), (known, date(2011, 1, 1), date(2015, 12, 31))} | {
        (person(n)["id_number"], date(1995, 7, 1), date(2010, 6, 30)) for n in (21, 23, 24)}
    with runtime.unit_of_work() as uow:
        batch_no = declarations.get_batch(uow.session, batch_id).batch_no
    assert set(batches.values()) == {batch_no} and known in batches  # the new periods carry the batch number


def test_decide_service_refuses_unknown_persons_and_changes_nothing(runtime):
    batch_id, instance_id = submit(runtime, [person(13)])
    other_batch, _ = submit(runtime, [person(14)])
    stranger = person_ids(runtime, other_batch)[0]
    with runtime.unit_of_work() as uow, pytest.raises(InvalidData) as refused:
        declarations.decide(uow, runtime.engine, actor("reviewer"), batch_id, "approve", [stranger], "x")
    assert "不在本环节待审人员中" in refused.value.message
    assert statuses(runtime, batch_id) == ("reviewing", ["pending"])
    with runtime.unit_of_work() as uow:
        declarations.decide(uow, runtime.engine, actor("reviewer"), batch_id, "reject", [], "材料不全")
        uow.commit()
    assert statuses(runtime, batch_id) == ("rejected", ["rejected"])
    with runtime.unit_of_work() as uow, pytest.raises(Conflict):
        declarations.decide(uow, runtime.engine, actor("reviewer"), batch_id, "approve", [], None)


def test_rejected_person_may_be_declared_again_in_a_new_batch(runtime):
    batch_id, instance_id = submit(runtime, [person(15)])
    complete(runtime, instance_id, "reviewer", {"decision": "reject", "conclusion": "请补充证明"})
    again_id, _ = submit(runtime, [person(15)], kind="annual")
    with runtime.unit_of_work() as uow:
        messages = [c.message for found in declarations.batch_checks(uow.session, again_id).values() for c in found]
    assert messages == []


def test_open_person_cannot_be_in_a_second_batch(runtime):
    submit(runtime, [person(16)])
    second_id, second_instance = submit(runtime, [person(16, start=date(1996, 1, 1))], kind="annual")
    with runtime.unit_of_work() as uow:
        messages = [c.message for found in declarations.batch_checks(uow.session, second_id).values() for c in found]
    assert "该人员已在其他未办结的申报批次中" in messages
