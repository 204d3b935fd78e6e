"""A failing service task puts the instance into `error` with an incident; retry resumes it."""
from __future__ import annotations

from xml.sax.saxutils import escape

import pytest
from sqlalchemy import select

from engine.actors import Actor
from engine.errors import Conflict, InvalidData
from engine.models import HistoryEvent, HumanTask, Incident, InstanceStatus, TaskStatus
from services.special_work import declarations
from services.special_work.models import WorkType
from tests.bpmn_factory import linear_process, service_task
from tests.conftest import person

STARTER = Actor("reviewer", frozenset({("reviewer", "110000")}))
SUPERVISOR = Actor("supervisor", frozenset({("supervisor", "110000")}))
SWITCH = {"broken": True}


def flaky_operator(ctx, **_params):
    """Writes a row, then fails while the switch is on: the row must not survive the failure."""
    ctx.session.add(WorkType(code="FLAKY", name="flaky", industry="test", nature="toxic_hazardous"))
    ctx.session.flush()
    if SWITCH["broken"]:
        raise RuntimeError("对方系统不可用")
    return {"ok": True}


@pytest.fixture
def flaky_process(runtime):
    if "test.flaky" not in runtime.engine.operators:
        runtime.engine.operators.register("test.flaky", flaky_operator)
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, [(linear_process("flaky", service_task("test.flaky")), "flaky.bpmn")],
                                "test")
        uow.commit()
    SWITCH["broken"] = True
    yield
    with runtime.db.begin() as conn:
        conn.execute(WorkType.__table__.delete().where(WorkType.code == "FLAKY"))


def test_failure_becomes_incident_and_retry_resumes(runtime, flaky_process):
    with runtime.unit_of_work() as uow:
        instance = runtime.engine.start(uow, "flaky", business_key="F-1", region_code="110101", data={},
                                        actor=STARTER)
        uow.commit()
    assert instance.status == InstanceStatus.ERROR
    with runtime.unit_of_work() as uow:
        incident = uow.session.scalars(select(Incident).where(Incident.instance_id == instance.id)).one()
        assert incident.task_name == "mid" and "对方系统不可用" in incident.message
        assert uow.session.get(WorkType, "FLAKY") is None  # the failed operator's write was rolled back
        assert uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all() == []

    with runtime.unit_of_work() as uow:  # still broken: a retry fails again and opens a new incident
        assert runtime.engine.retry(uow, instance.id, SUPERVISOR).status == InstanceStatus.ERROR
        uow.commit()

    SWITCH["broken"] = False
    with runtime.unit_of_work() as uow:
        assert runtime.engine.retry(uow, instance.id, SUPERVISOR).status == InstanceStatus.WAITING
        uow.commit()
    with runtime.unit_of_work() as uow:
        incidents = uow.session.scalars(select(Incident).where(Incident.instance_id == instance.id)
                                        .order_by(Incident.id)).all()
        assert len(incidents) == 2 and all(i.resolved_by == "supervisor" for i in incidents[:1])
        task = uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).one()
        assert task.status == TaskStatus.OPEN
        assert uow.session.get(WorkType, "FLAKY") is not None
        kinds = [e.kind for e in uow.session.scalars(select(HistoryEvent).where(
            HistoryEvent.instance_id == instance.id).order_by(HistoryEvent.id))]
    assert kinds == ["started", "error", "retried", "error", "retried", "service_task"]


def test_retry_of_healthy_instance_is_refused(runtime, flaky_process):
    SWITCH["broken"] = False
    with runtime.unit_of_work() as uow:
        instance = runtime.engine.start(uow, "flaky", business_key="F-2", region_code="110101", data={},
                                        actor=STARTER)
        uow.commit()
    with runtime.unit_of_work() as uow, pytest.raises(Conflict):
        runtime.engine.retry(uow, instance.id, SUPERVISOR)


def test_terminate_cancels_open_tasks(runtime, flaky_process):
    SWITCH["broken"] = False
    with runtime.unit_of_work() as uow:
        instance = runtime.engine.start(uow, "flaky", business_key="F-3", region_code="110101", data={},
                                        actor=STARTER)
        runtime.engine.terminate(uow, instance.id, SUPERVISOR, "申请人撤回")
        uow.commit()
    with runtime.unit_of_work() as uow:
        task = uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).one()
        assert task.status == TaskStatus.CANCELLED
        with pytest.raises(Conflict):
            runtime.engine.complete_task(uow, task.id, STARTER, {"decision": "approve"})



def test_history_of_a_refused_completion_is_not_written_by_the_next_action(runtime, actors):
    """A caller that catches a refused completion and goes on with the same unit of work must not
    find the refused completion's events in the history of the next action."""
    with runtime.unit_of_work() as uow:
        batch = declarations.submit_declaration(uow, runtime.engine, actors["enterprise"], "110101000001", "first",
                                                [declarations.PersonInput(**person(41))])
        uow.commit()
        task_id = runtime.engine.open_tasks(uow.session, batch.instance_id)[0].id
    with runtime.unit_of_work() as uow:
        with pytest.raises(InvalidData):  # the 初审 operator refuses a person who is not in the batch
            runtime.engine.complete_task(uow, task_id, actors["reviewer"], {
                "decision": "reject", "rejected_persons": ["999999"], "conclusion": "不符合"})
        runtime.engine.supervise(uow, task_id, actors["supervisor"], "请尽快办理")
        uow.commit()
    with runtime.unit_of_work() as uow:
        kinds = uow.session.scalars(select(HistoryEvent.kind).where(HistoryEvent.instance_id == batch.instance_id)
                                    .order_by(HistoryEvent.id)).all()
        assert runtime.engine.open_tasks(uow.session, batch.instance_id)[0].id == task_id
    assert kinds[-1] == "supervised" and "task_completed" not in kinds


USER_TASK = ('<bpmn:userTask id="task"><bpmn:extensionElements><spiffworkflow:properties>'
             '<spiffworkflow:property name="formKey" value="declaration_review" /></spiffworkflow:properties>'
             '</bpmn:extensionElements>{loop}</bpmn:userTask>')


def _process(pid: str, body: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_{pid}" targetNamespace="http://test">
  <bpmn:process id="{pid}" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="lane1" name="reviewer"><bpmn:flowNodeRef>task</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />{body}
  </bpmn:process>
</bpmn:definitions>""".encode()


def _start_new(runtime, pid: str, body: str):
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, [(_process(pid, body), f"{pid}.bpmn")], "test")
        instance = runtime.engine.start(uow, pid, business_key=f"BK-{pid}", region_code="110000", data={},
                                        actor=STARTER)
        uow.commit()
        incidents = [i.message for i in uow.session.scalars(
            select(Incident).where(Incident.instance_id == instance.id))]
        return instance, incidents


def test_a_loop_of_automatic_steps_becomes_an_incident(runtime):
    """Two gateways that send the case round and round: SpiffWorkflow would go on until its task tree
    is 1,000 deep (and then call the case completed); the engine stops it as an incident."""
    body = """
    <bpmn:exclusiveGateway id="gw1" />
    <bpmn:exclusiveGateway id="gw2" default="back" />""" + USER_TASK.format(loop="") + """
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw1" />
    <bpmn:sequenceFlow id="f1" sourceRef="gw1" targetRef="gw2" />
    <bpmn:sequenceFlow id="out" sourceRef="gw2" targetRef="task">
      <bpmn:conditionExpression>False</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="back" sourceRef="gw2" targetRef="gw1" />"""
    instance, incidents = _start_new(runtime, "endless_loop", body)
    assert instance.status == InstanceStatus.ERROR
    assert "自动执行的流程步骤超过 500 个" in incidents[0]


def test_a_multi_instance_activity_creates_at_most_200_instances(runtime):
    loop = ('<bpmn:multiInstanceLoopCharacteristics isSequential="false">'
            '<bpmn:loopCardinality>n * 1000</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>')
    body = USER_TASK.format(loop=loop) + '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="task" />'
    body = body.replace("n * 1000", "5000")
    instance, incidents = _start_new(runtime, "many_instances", body)
    assert instance.status == InstanceStatus.ERROR
    assert "实例数超过 200 个" in incidents[0]
    with runtime.unit_of_work() as uow:
        assert uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all() == []


def test_designer_code_of_one_action_shares_one_time_limit(runtime):
    """Each script stays within its own limit (0.5 s in the tests), but twelve of them in a loop would
    keep the request — and the instance's lock — for 3.6 s: the action's budget (five script limits)
    stops them as an incident that says why."""
    script = ("import time\nn = n + 1 if 'n' in dir() else 1\nstop = time.monotonic() + 0.3\n"
              "while time.monotonic() < stop:\n    pass")
    body = f"""
    <bpmn:scriptTask id="s"><bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="gw" default="back" />""" + USER_TASK.format(loop="") + """
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="s" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="gw" />
    <bpmn:sequenceFlow id="out" sourceRef="gw" targetRef="task">
      <bpmn:conditionExpression>n &gt;= 12</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="back" sourceRef="gw" targetRef="s" />"""
    instance, incidents = _start_new(runtime, "slow_loop", body)
    assert instance.status == InstanceStatus.ERROR
    assert "累计运行超过 2.5 秒" in incidents[0]
