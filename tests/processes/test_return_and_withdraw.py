"""退回 to an earlier step and 撤回 of one's own step — including the cases other platforms get wrong: a
return from after a parallel join into one branch leaves no ghost task and the join waits for the
re-done branch; a withdrawal racing the next reviewer's claim lets exactly one of them win."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from engine.errors import Conflict, EngineError, Forbidden, InvalidData, NotFound
from engine.models import HistoryEvent, HumanTask, ProcessInstance, TaskStatus
from tests.conftest import actor

APPROVE = {"decision": "approve"}
HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_{pid}" targetNamespace="http://test">
  <bpmn:process id="{pid}" name="{pid}" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>{props}</spiffworkflow:properties></bpmn:extensionElements>
"""


def user_task(element_id: str, name: str) -> str:
    return (f'<bpmn:userTask id="{element_id}" name="{name}"><bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="formKey" value="early_retirement_approval" />'
            '</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>')


def lanes(**members: list[str]) -> str:
    body = "".join(f'<bpmn:lane id="lane_{role}" name="{role}">'
                   + "".join(f"<bpmn:flowNodeRef>{e}</bpmn:flowNodeRef>" for e in elements) + "</bpmn:lane>"
                   for role, elements in members.items())
    return f'<bpmn:laneSet id="lanes">{body}</bpmn:laneSet>'


def flows(*pairs: tuple[str, str]) -> str:
    return "".join(f'<bpmn:sequenceFlow id="f_{a}_{b}" sourceRef="{a}" targetRef="{b}" />' for a, b in pairs)


def linear(props: str = "") -> bytes:
    return (HEADER.format(pid="three_steps", props=props)
            + lanes(reviewer=["start", "a"], rechecker=["b"], approver=["c", "end"])
            + '<bpmn:startEvent id="start" />' + user_task("a", "初审") + user_task("b", "复核")
            + user_task("c", "决定") + '<bpmn:endEvent id="end" />'
            + flows(("start", "a"), ("a", "b"), ("b", "c"), ("c", "end"))
            + "</bpmn:process></bpmn:definitions>").encode()


def parallel() -> bytes:
    return (HEADER.format(pid="two_branches", props="")
            + lanes(reviewer=["start", "a", "fork", "b1"], rechecker=["b2", "join"], approver=["c", "end"])
            + '<bpmn:startEvent id="start" />' + user_task("a", "受理") + '<bpmn:parallelGateway id="fork" />'
            + user_task("b1", "业务审查") + user_task("b2", "材料审查") + '<bpmn:parallelGateway id="join" />'
            + user_task("c", "决定") + '<bpmn:endEvent id="end" />'
            + flows(("start", "a"), ("a", "fork"), ("fork", "b1"), ("fork", "b2"), ("b1", "join"), ("b2", "join"),
                    ("join", "c"), ("c", "end"))
            + "</bpmn:process></bpmn:definitions>").encode()


@pytest.fixture
def deployed(runtime):
    def deploy(xml: bytes, filename: str) -> None:
        with runtime.unit_of_work() as uow:
            runtime.deployer.deploy(uow.session, [(xml, filename)], "test")
            uow.commit()
    return deploy


def start(runtime, key: str) -> int:
    with runtime.unit_of_work() as uow:
        instance = runtime.engine.start(uow, key, business_key=f"{key}-1", region_code="110101", data={},
                                        actor=actor("reviewer"))
        uow.commit()
        return instance.id


def open_steps(runtime, instance_id: int) -> dict[str, HumanTask]:
    with runtime.unit_of_work() as uow:
        rows = uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                           HumanTask.status == TaskStatus.OPEN))
        return {row.name: row for row in rows}


def do(runtime, instance_id: int, step: str, who: str) -> str:
    task = open_steps(runtime, instance_id)[step]
    with runtime.unit_of_work() as uow:
        runtime.engine.complete_task(uow, task.id, actor(who), APPROVE)
        uow.commit()
    return task.id


def send_back(runtime, instance_id: int, step: str, who: str, target: str, reason: str = "材料有误") -> None:
    task = open_steps(runtime, instance_id)[step]
    with runtime.unit_of_work() as uow:
        runtime.engine.return_task(uow, task.id, actor(who), target, reason)
        uow.commit()


def instance_of(runtime, instance_id: int) -> ProcessInstance:
    with runtime.unit_of_work() as uow:
        return uow.session.get(ProcessInstance, instance_id)


def test_a_return_reopens_the_earlier_step_for_its_lane_and_keeps_history(runtime, deployed):
    deployed(linear(), "three_steps.bpmn")
    case = start(runtime, "three_steps")
    do(runtime, case, "a", "reviewer")
    do(runtime, case, "b", "rechecker")
    with runtime.unit_of_work() as uow:
        c = open_steps(runtime, case)["c"]
        assert runtime.engine.return_targets(uow.session, c) == [("a", "初审"), ("b", "复核")]
    send_back(runtime, case, "c", "approver", "a", "申请表填写不全")
    assert set(open_steps(runtime, case)) == {"a"}
    reopened = open_steps(runtime, case)["a"]
    assert reopened.assignee is None and reopened.lane == "reviewer" and reopened.completed_by is None
    with runtime.unit_of_work() as uow:
        returned = uow.session.scalars(select(HumanTask).where(HumanTask.name == "c")).one()
        assert (returned.status, returned.decision, returned.completed_by) == ("completed", "return", "approver")
        event = uow.session.scalars(select(HistoryEvent).where(HistoryEvent.kind == "task_returned")).one()
        assert (event.actor, event.conclusion, event.details["target"]) == ("approver", "申请表填写不全", "a")
    for step, who in (("a", "reviewer"), ("b", "rechecker"), ("c", "approver")):
        do(runtime, case, step, who)
    assert instance_of(runtime, case).status == "completed"


def test_a_return_goes_to_the_person_who_did_the_step_where_the_process_says_so(runtime, deployed):
    deployed(linear('<spiffworkflow:property name="returnAssignee" value="previous" />'), "three_steps.bpmn")
    case = start(runtime, "three_steps")
    do(runtime, case, "a", "reviewer")
    send_back(runtime, case, "b", "rechecker", "a")
    assert open_steps(runtime, case)["a"].assignee == "reviewer"


def test_a_return_needs_a_reason_an_earlier_step_and_the_right_to_act(runtime, deployed):
    deployed(linear(), "three_steps.bpmn")
    case = start(runtime, "three_steps")
    do(runtime, case, "a", "reviewer")
    b = open_steps(runtime, case)["b"]
    for who, target, reason, error in (("rechecker", "a", " ", InvalidData), ("rechecker", "c", "x", InvalidData),
                                       ("rechecker", "b", "x", InvalidData), ("approver", "a", "x", Forbidden),
                                       ("tj_reviewer", "a", "x", NotFound)):
        with runtime.unit_of_work() as uow, pytest.raises(error):
            runtime.engine.return_task(uow, b.id, actor(who), target, reason)
    assert set(open_steps(runtime, case)) == {"b"}
    do(runtime, case, "b", "rechecker")
    with runtime.unit_of_work() as uow, pytest.raises(Conflict):  # the case has moved on
        runtime.engine.return_task(uow, b.id, actor("rechecker"), "a", "x")


def test_a_return_from_after_the_join_into_one_branch_leaves_no_ghost_and_the_join_waits(runtime, deployed):
    deployed(parallel(), "two_branches.bpmn")
    case = start(runtime, "two_branches")
    do(runtime, case, "a", "reviewer")
    do(runtime, case, "b1", "reviewer")
    do(runtime, case, "b2", "rechecker")
    send_back(runtime, case, "c", "approver", "b1", "业务审查意见不充分")
    assert set(open_steps(runtime, case)) == {"b1"}  # not c: the decision waits for the branch again
    do(runtime, case, "b1", "reviewer")
    assert set(open_steps(runtime, case)) == {"c"}  # the other branch's work stands; the join fires once
    do(runtime, case, "c", "approver")
    assert instance_of(runtime, case).status == "completed"


def test_a_return_out_of_a_branch_to_before_the_fork_voids_both_branches(runtime, deployed):
    deployed(parallel(), "two_branches.bpmn")
    case = start(runtime, "two_branches")
    do(runtime, case, "a", "reviewer")
    do(runtime, case, "b1", "reviewer")
    send_back(runtime, case, "b2", "rechecker", "a")
    assert set(open_steps(runtime, case)) == {"a"}
    do(runtime, case, "a", "reviewer")
    assert set(open_steps(runtime, case)) == {"b1", "b2"}
    do(runtime, case, "b1", "reviewer")
    do(runtime, case, "b2", "rechecker")
    do(runtime, case, "c", "approver")
    assert instance_of(runtime, case).status == "completed"


def test_the_one_who_did_a_step_takes_it_back_while_the_next_is_untouched(runtime, deployed):
    deployed(linear(), "three_steps.bpmn")
    case = start(runtime, "three_steps")
    a = do(runtime, case, "a", "reviewer")
    with runtime.unit_of_work() as uow, pytest.raises(Forbidden):
        runtime.engine.withdraw_task(uow, a, actor("rechecker"))
    with runtime.unit_of_work() as uow:
        runtime.engine.withdraw_task(uow, a, actor("reviewer"))
        uow.commit()
    steps = open_steps(runtime, case)
    assert set(steps) == {"a"} and steps["a"].assignee == "reviewer"
    do(runtime, case, "a", "reviewer")
    with runtime.unit_of_work() as uow:
        runtime.engine.claim(uow, open_steps(runtime, case)["b"].id, actor("rechecker"))
        uow.commit()
    with runtime.unit_of_work() as uow, pytest.raises(Conflict, match="认领"):
        runtime.engine.withdraw_task(uow, a, actor("reviewer"))
    assert set(open_steps(runtime, case)) == {"b"}


def test_a_process_may_forbid_withdrawing(runtime, deployed):
    deployed(linear('<spiffworkflow:property name="withdrawable" value="false" />'), "three_steps.bpmn")
    case = start(runtime, "three_steps")
    a = do(runtime, case, "a", "reviewer")
    with runtime.unit_of_work() as uow, pytest.raises(Forbidden, match="不允许撤回"):
        runtime.engine.withdraw_task(uow, a, actor("reviewer"))


def race(runtime, **actions) -> dict[str, str]:
    """Run the actions (each in its own thread and unit of work) at once: name → won | refused."""
    results: dict[str, str] = {}
    gate = threading.Barrier(len(actions))

    def act(name: str, action) -> None:
        gate.wait()
        try:
            with runtime.unit_of_work() as uow:
                action(uow)
                uow.commit()
            results[name] = "won"
        except EngineError:
            results[name] = "refused"

    threads = [threading.Thread(target=act, args=item) for item in actions.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_withdrawing_races_the_next_claim_and_exactly_one_wins(runtime, deployed):
    deployed(linear(), "three_steps.bpmn")
    for attempt in range(3):
        case = start(runtime, "three_steps")
        a = do(runtime, case, "a", "reviewer")
        b = open_steps(runtime, case)["b"].id
        results = race(runtime, withdraw=lambda uow, a=a: runtime.engine.withdraw_task(uow, a, actor("reviewer")),
                       claim=lambda uow, b=b: runtime.engine.claim(uow, b, actor("rechecker")))
        assert sorted(results.values()) == ["refused", "won"], (attempt, results)
        steps = open_steps(runtime, case)
        if results["withdraw"] == "won":
            assert set(steps) == {"a"} and steps["a"].assignee == "reviewer"
        else:
            assert set(steps) == {"b"} and steps["b"].assignee == "rechecker"


def countersign() -> bytes:
    """受理 → 会签 by two reviewers (a parallel multi-instance step) → 决定."""
    sign = ('<bpmn:userTask id="m" name="会签"><bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="formKey" value="early_retirement_approval" />'
            '</spiffworkflow:properties></bpmn:extensionElements>'
            '<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality>'
            '</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>')
    return (HEADER.format(pid="countersigned", props="")
            + lanes(reviewer=["start", "a", "m"], approver=["c", "end"])
            + '<bpmn:startEvent id="start" />' + user_task("a", "受理") + sign + user_task("c", "决定")
            + '<bpmn:endEvent id="end" />' + flows(("start", "a"), ("a", "m"), ("m", "c"), ("c", "end"))
            + "</bpmn:process></bpmn:definitions>").encode()


def open_rows(runtime, instance_id: int) -> list[str]:
    with runtime.unit_of_work() as uow:
        return sorted(row.name for row in uow.session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.OPEN)))


def test_a_return_into_a_countersigned_step_asks_every_signer_again(runtime, deployed):
    deployed(countersign(), "countersigned.bpmn")
    case = start(runtime, "countersigned")
    do(runtime, case, "a", "reviewer")
    assert open_rows(runtime, case) == ["m", "m"]
    for _ in range(2):
        do(runtime, case, "m", "reviewer")
    send_back(runtime, case, "c", "approver", "m", "会签意见不一致，请重新会签")
    assert open_rows(runtime, case) == ["m", "m"]  # the whole 会签 again, not one vote
    for _ in range(2):
        do(runtime, case, "m", "reviewer")
    assert open_rows(runtime, case) == ["c"]
    send_back(runtime, case, "c", "approver", "a")  # back past the 会签: its votes go too
    assert open_rows(runtime, case) == ["a"]
    do(runtime, case, "a", "reviewer")
    assert open_rows(runtime, case) == ["m", "m"]


def test_an_added_signer_survives_work_elsewhere_in_the_case_and_goes_with_its_step(runtime, deployed):
    deployed(parallel(), "two_branches.bpmn")
    case = start(runtime, "two_branches")
    do(runtime, case, "a", "reviewer")
    b1 = open_steps(runtime, case)["b1"]
    with runtime.unit_of_work() as uow:
        [added] = runtime.engine.add_signers(uow, b1.id, actor("reviewer"), [actor("rechecker")], "after")
        uow.commit()
    do(runtime, case, "b2", "rechecker")  # the other branch moves on: the 后加签 task must stay
    with runtime.unit_of_work() as uow:
        assert uow.session.get(HumanTask, added.id).status == "waiting"
    send_back(runtime, case, "b1", "reviewer", "a")  # the step goes back: its added task goes too
    with runtime.unit_of_work() as uow:
        assert uow.session.get(HumanTask, added.id).status == "cancelled"
