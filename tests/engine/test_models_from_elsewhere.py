"""What the engine accepts, it runs — models as other modelers write them (issue 18, engine part):
bare ISO 8601 timers are literals, sequence flows without an id are refused (SpiffWorkflow drops
them silently), and a process that calls itself, directly or through others, is refused at deploy
(it would unfold without end)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.actors import Actor
from engine.definitions import DefinitionInvalid
from engine.models import HumanTask, Timer
from tests.bpmn_factory import HEADER

STARTER = Actor("reviewer", frozenset({("reviewer", "110000")}))
TASK = ('<bpmn:userTask id="task" name="审核"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="formKey" value="declaration_review" /></spiffworkflow:properties>'
        '</bpmn:extensionElements></bpmn:userTask>')


def process(pid: str, body: str, nodes: tuple[str, ...] = ("start", "task", "wait", "end")) -> bytes:
    refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in nodes)
    return (HEADER.format(pid=pid) + f'<bpmn:process id="{pid}" name="{pid}" isExecutable="true">'
            f'<bpmn:laneSet id="ls_{pid}"><bpmn:lane id="lane_{pid}" name="reviewer">{refs}</bpmn:lane>'
            f'</bpmn:laneSet>{body}</bpmn:process></bpmn:definitions>').encode()


def refused(runtime, files: list[tuple[bytes, str]]) -> str:
    with runtime.unit_of_work() as uow, pytest.raises(DefinitionInvalid) as invalid:
        runtime.deployer.deploy(uow.session, files, "designer")
    return " ".join(p.message for p in invalid.value.problems)


def deploy(runtime, files: list[tuple[bytes, str]]) -> None:
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, files, "designer")
        uow.commit()


@pytest.mark.parametrize(("kind", "text"), [("timeDuration", "PT5M"), ("timeCycle", "R3/PT1H"),
                                            ("timeDate", "2030-12-01T09:00:00+08:00")])
def test_a_bare_iso_timer_after_a_user_task_validates_and_waits(runtime, kind, text):
    pid = f"iso_{kind.lower()}"
    deploy(runtime, [(process(pid, '<bpmn:startEvent id="start" />' + TASK +
                              f'<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:{kind}>'
                              f'{text}</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
                              '<bpmn:endEvent id="end" />'
                              '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />'
                              '<bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="wait" />'
                              '<bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="end" />'), f"{pid}.bpmn")])
    with runtime.unit_of_work() as uow:
        case = runtime.engine.start(uow, pid, business_key=f"ISO-{kind}", region_code="110000", data={},
                                    actor=STARTER)
        uow.commit()
    with runtime.unit_of_work() as uow:
        row = uow.session.scalar(select(HumanTask).where(HumanTask.instance_id == case.id))
        done = runtime.engine.complete_task(uow, row.id, STARTER, {"decision": "approve", "conclusion": "同意"})
        uow.commit()
        assert done.status == "waiting"  # the review is done, the case waits on the timer
        [timer] = uow.session.scalars(select(Timer).where(Timer.instance_id == case.id))
        if kind == "timeDuration":
            assert timedelta(minutes=4) < timer.due_at - timer.created_at <= timedelta(minutes=5, seconds=5)


def test_sequence_flows_without_an_id_are_refused(runtime):
    body = ('<bpmn:startEvent id="start" />' + TASK + '<bpmn:endEvent id="end" />'
            '<bpmn:sequenceFlow sourceRef="start" targetRef="task" />'
            '<bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="end" />')
    message = refused(runtime, [(process("no_flow_ids", body, ("start", "task", "end")), "no_flow_ids.bpmn")])
    assert "顺序流缺少 id" in message


def caller(pid: str, callee: str) -> bytes:
    return process(pid, '<bpmn:startEvent id="start" />'
                        f'<bpmn:callActivity id="task" name="调用" calledElement="{callee}" />'
                        '<bpmn:endEvent id="end" /><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />'
                        '<bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="end" />', ("start", "task", "end"))


def test_a_process_calling_itself_directly_or_through_others_is_refused(runtime):
    assert "recur_a → recur_a" in refused(runtime, [(caller("recur_a", "recur_a"), "recur_a.bpmn")])
    both = refused(runtime, [(caller("recur_b", "recur_c"), "recur_b.bpmn"),
                             (caller("recur_c", "recur_b"), "recur_c.bpmn")])
    assert "recur_b → recur_c → recur_b" in both
    # through a process already deployed: d calls e (deployed with a plain task); e redeployed to call d
    plain = process("recur_e", '<bpmn:startEvent id="start" />' + TASK + '<bpmn:endEvent id="end" />'
                               '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />'
                               '<bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="end" />',
                    ("start", "task", "end"))
    deploy(runtime, [(plain, "recur_e.bpmn")])
    deploy(runtime, [(caller("recur_d", "recur_e"), "recur_d.bpmn")])
    assert "recur_e → recur_d → recur_e" in refused(runtime, [(caller("recur_e", "recur_d"), "recur_e.bpmn")])


@pytest.mark.parametrize("tag", ["manualTask", "task"])
def test_manual_and_untyped_tasks_are_done_by_their_lane_with_an_optional_note(runtime, tag):
    pid = f"offline_{tag.lower()}"
    body = (f'<bpmn:startEvent id="start" /><bpmn:{tag} id="task" name="线下核验" /><bpmn:endEvent id="end" />'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />'
            '<bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="end" />')
    outside = HEADER.format(pid=pid) + (f'<bpmn:process id="{pid}" isExecutable="true">{body}</bpmn:process>'
                                        '</bpmn:definitions>')
    assert "人工任务必须位于某个角色泳道中" in refused(runtime, [(outside.encode(), f"{pid}.bpmn")])
    deploy(runtime, [(process(pid, body, ("start", "task", "end")), f"{pid}.bpmn")])
    with runtime.unit_of_work() as uow:
        case = runtime.engine.start(uow, pid, business_key=f"OFF-{tag}", region_code="110000", data={}, actor=STARTER)
        uow.commit()
    with runtime.unit_of_work() as uow:
        row = uow.session.scalar(select(HumanTask).where(HumanTask.instance_id == case.id))
        done = runtime.engine.complete_task(uow, row.id, STARTER, {"conclusion": "已现场核验"})
        uow.commit()
    assert done.status == "completed"


def test_a_message_whose_correlation_fails_becomes_an_incident_not_an_error(runtime):
    from engine.models import Incident

    pid = "paid_order"
    xml = (HEADER.format(pid=pid)
           + '<bpmn:collaboration id="c"><bpmn:participant id="p" processRef="paid_order" />'
             '<bpmn:correlationKey name="order"><bpmn:correlationPropertyRef>order_id</bpmn:correlationPropertyRef>'
             '</bpmn:correlationKey></bpmn:collaboration>'
             '<bpmn:correlationProperty id="order_id" name="order_id">'
             '<bpmn:correlationPropertyRetrievalExpression messageRef="paid">'
             '<bpmn:formalExpression>order_id</bpmn:formalExpression></bpmn:correlationPropertyRetrievalExpression>'
             '</bpmn:correlationProperty><bpmn:message id="paid" name="paid" />'
           + f'<bpmn:process id="{pid}" name="{pid}" isExecutable="true">'
             '<bpmn:laneSet id="ls"><bpmn:lane id="l" name="reviewer"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>'
             '<bpmn:flowNodeRef>wait</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>'
             '</bpmn:laneSet><bpmn:startEvent id="start" />'
             '<bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition id="m" messageRef="paid" />'
             '</bpmn:intermediateCatchEvent><bpmn:endEvent id="end" />'
             '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />'
             '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" /></bpmn:process></bpmn:definitions>')
    deploy(runtime, [(xml.encode(), f"{pid}.bpmn")])
    with runtime.unit_of_work() as uow:
        case = runtime.engine.start(uow, pid, business_key="PAID-1", region_code="110000",
                                    data={"order_id": "A1"}, actor=STARTER)
        uow.commit()
    with runtime.unit_of_work() as uow:  # the payload names no order_id: the correlation cannot be read
        answered = runtime.engine.send_message(uow, case.id, "paid", {"amount": 10})
        uow.commit()
    assert answered.status == "error"
    with runtime.unit_of_work() as uow:
        assert uow.session.scalar(select(Incident).where(Incident.instance_id == case.id)) is not None
