"""会签 / 或签 / 依次审批 / 按比例 on a multi-instance user task of three signers: when the step is decided,
what it hands on (sign_result, sign_votes), and that the votes no longer needed are withdrawn."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.definitions import DefinitionInvalid
from engine.models import HumanTask, ProcessInstance, TaskStatus
from tests.conftest import actor

REVIEWER = actor("reviewer")


def process(props: str = "", sequential: bool = False) -> bytes:
    order = ' isSequential="true"' if sequential else ""
    loop = f'<bpmn:multiInstanceLoopCharacteristics{order}>' \
           '<bpmn:loopCardinality>3</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>'
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_sign" targetNamespace="http://test">
  <bpmn:process id="signed" name="会签" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="l1" name="reviewer"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>sign</bpmn:flowNodeRef><bpmn:flowNodeRef>after</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:userTask id="sign" name="会签"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formKey" value="early_retirement_approval" />{props}
    </spiffworkflow:properties></bpmn:extensionElements>{loop}</bpmn:userTask>
    <bpmn:userTask id="after" name="结果"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formKey" value="early_retirement_approval" />
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sign" />
    <bpmn:sequenceFlow id="f2" sourceRef="sign" targetRef="after" />
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>""".encode()


def prop(name: str, value: str) -> str:
    return f'<spiffworkflow:property name="{name}" value="{value}" />'


def run(runtime, xml: bytes, votes: list[str]) -> tuple[list[str], dict]:
    """Deploy, start, cast ``votes`` in order while there are votes open; (open steps, data handed on)."""
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, [(xml, "signed.bpmn")], "test")
        instance = runtime.engine.start(uow, "signed", business_key="HQ-1", region_code="110101", data={},
                                        actor=REVIEWER)
        uow.commit()
    for vote in votes:
        with runtime.unit_of_work() as uow:
            task = uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                               HumanTask.status == TaskStatus.OPEN,
                                                               HumanTask.name == "sign")).first()
            assert task is not None, "a vote was cast after the step was decided"
            runtime.engine.complete_task(uow, task.id, REVIEWER, {"decision": vote, "conclusion": "会签意见"})
            uow.commit()
    with runtime.unit_of_work() as uow:
        steps = sorted(t.name for t in runtime.engine.open_tasks(uow.session, instance.id))
        data = runtime.engine.instance_data(uow.session, uow.session.get(ProcessInstance, instance.id))
    return steps, data


@pytest.mark.parametrize(("props", "votes", "result"), [
    ("", ["approve", "approve", "approve"], "approve"),
    ("", ["approve", "reject", "approve"], "reject"),
    (prop("rejectEnds", "true"), ["reject"], "reject"),
    (prop("signMode", "any"), ["approve"], "approve"),
    (prop("signMode", "ratio") + prop("signRatio", "0.6"), ["approve", "reject", "approve"], "approve"),
    (prop("signMode", "ratio") + prop("signRatio", "0.6"), ["approve", "approve"], "approve"),
    (prop("signMode", "ratio") + prop("signRatio", "0.6"), ["reject", "reject"], "reject"),
], ids=["all-approve", "all-one-reject", "reject-ends", "any", "ratio-third-vote", "ratio-early", "ratio-lost"])
def test_the_step_is_decided_by_its_mode_and_hands_on_the_votes(runtime, props, votes, result):
    steps, data = run(runtime, process(props), votes)
    assert steps == ["after"]  # decided: no vote left open, the case has moved on
    assert data["sign_result"] == result
    assert data["sign_votes"]["total"] == 3 and data["sign_votes"]["approve"] == votes.count("approve")


def test_one_after_another_the_first_vote_of_an_or_sign_decides(runtime):
    steps, data = run(runtime, process(prop("signMode", "any"), sequential=True), ["reject"])
    assert steps == ["after"] and data["sign_result"] == "reject"


def test_an_undecided_step_keeps_its_other_votes_open(runtime):
    steps, data = run(runtime, process(prop("signMode", "ratio") + prop("signRatio", "1")), ["approve"])
    assert steps == ["sign", "sign"] and "sign_result" not in data


def test_deploy_refuses_an_unknown_mode_or_ratio(runtime):
    for props, message in ((prop("signMode", "majority"), "signMode 应为"),
                           (prop("signMode", "ratio"), "须写 signRatio"),
                           (prop("signMode", "ratio") + prop("signRatio", "1.5"), "0 到 1 之间")):
        with runtime.unit_of_work() as uow, pytest.raises(DefinitionInvalid) as refused:
            runtime.deployer.deploy(uow.session, [(process(props), "signed.bpmn")], "test")
        assert any(message in p.message for p in refused.value.problems), props
