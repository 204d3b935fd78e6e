"""The case clock of a process that declares its limits: 受理 starts it, 补正 pauses it, the end stops
it — in working days of the statutory calendar, across the 2025 National Day holiday (1–8 October) with
its make-up working days (Sunday 28 September, Saturday 11 October)."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine import case_clock
from engine.models import HistoryEvent, HumanTask, ProcessInstance, TaskStatus
from tests.conftest import actor, cst


def user_task(element_id: str, name: str, extra: str = "") -> str:
    return (f'<bpmn:userTask id="{element_id}" name="{name}"><bpmn:extensionElements><spiffworkflow:properties>'
            f'<spiffworkflow:property name="formKey" value="early_retirement_approval" />{extra}'
            '</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>')


def lane(lane_id: str, role: str, *elements: str) -> str:
    refs = "".join(f"<bpmn:flowNodeRef>{e}</bpmn:flowNodeRef>" for e in elements)
    return f'<bpmn:lane id="{lane_id}" name="{role}">{refs}</bpmn:lane>'


PROCESS = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_timed" targetNamespace="http://test">
  <bpmn:process id="timed_licence" name="计时许可" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="statutoryLimit" value="20 working days" />
      <spiffworkflow:property name="promisedLimit" value="10 working days" />
      <spiffworkflow:property name="clockStartsAt" value="accept" />
    </spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:laneSet id="lanes">
      {lane("l1", "clerk", "start", "accept", "review", "reviewed")}
      {lane("l2", "enterprise", "correct")}
      {lane("l3", "approver", "decide", "end")}
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
    {user_task("accept", "受理")}
    {user_task("review", "审查")}
    <bpmn:exclusiveGateway id="reviewed" default="to_decide" />
    {user_task("correct", "补正", '<spiffworkflow:property name="clock" value="pause" />')}
    {user_task("decide", "决定")}
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="accept" />
    <bpmn:sequenceFlow id="f2" sourceRef="accept" targetRef="review" />
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="reviewed" />
    <bpmn:sequenceFlow id="to_correct" sourceRef="reviewed" targetRef="correct">
      <bpmn:conditionExpression>decision == 'reject'</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="correct" targetRef="review" />
    <bpmn:sequenceFlow id="to_decide" sourceRef="reviewed" targetRef="decide" />
    <bpmn:sequenceFlow id="f5" sourceRef="decide" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""
APPROVE = {"decision": "approve"}


def deploy_and_start(runtime) -> int:
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, [(PROCESS.encode(), "timed_licence.bpmn")], "test")
        instance = runtime.engine.start(uow, "timed_licence", business_key="T-1", region_code="110101", data={},
                                        actor=actor("enterprise"))
        uow.commit()
        return instance.id


def act(runtime, instance_id, who, data):
    with runtime.unit_of_work() as uow:
        task = uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                           HumanTask.status == TaskStatus.OPEN)).one()
        runtime.engine.complete_task(uow, task.id, actor(who), data)
        uow.commit()


def clock(runtime, instance_id, now: str):
    with runtime.unit_of_work() as uow:
        instance = uow.session.get(ProcessInstance, instance_id)
        return instance, case_clock.view(instance, cst(now), runtime.engine.working_days)


def test_the_clock_starts_at_acceptance_pauses_for_correction_and_stops_at_the_end(runtime, at):
    at("2025-09-25")
    instance_id = deploy_and_start(runtime)
    assert clock(runtime, instance_id, "2025-09-25")[1] is None  # not accepted yet: no clock

    at("2025-09-26")  # Friday: 受理
    act(runtime, instance_id, "clerk", APPROVE)
    instance, view = clock(runtime, instance_id, "2025-09-26")
    # the end, in China, of the 10th working day: 28 Sep (make-up Sunday), 29, 30 Sep, 9, 10,
    # 11 (make-up Saturday), 13–16 Oct
    assert instance.promised_due_at == datetime(2025, 10, 16, 15, 59, 59)
    assert instance.statutory_due_at == datetime(2025, 10, 30, 15, 59, 59)
    assert (view["state"], view["level"], view["working_days_left"]) == ("running", "normal", 10)

    at("2025-09-30")  # 审查 asks for 补正: the clock stands still over the holiday
    act(runtime, instance_id, "clerk", {"decision": "reject", "conclusion": "缺少营业执照副本"})
    assert clock(runtime, instance_id, "2025-10-08")[1]["state"] == "paused"
    assert clock(runtime, instance_id, "2025-10-08")[1]["working_days_left"] == 7  # as on 30 Sep, when it stopped

    at("2025-10-09")  # the applicant corrects after the holiday: one working day (9 Oct) was paused
    act(runtime, instance_id, "enterprise", APPROVE)
    instance, view = clock(runtime, instance_id, "2025-10-09")
    assert instance.clock_paused_days == 1
    assert instance.promised_due_at == datetime(2025, 10, 17, 15, 59, 59)
    assert instance.statutory_due_at == datetime(2025, 10, 31, 15, 59, 59)
    assert (view["working_days_left"], view["paused_days"]) == (7, 1)  # 10, 11 (Sat), 13–17 Oct
    assert clock(runtime, instance_id, "2025-10-15")[1]["level"] == "warning"  # 16 and 17 Oct left
    assert clock(runtime, instance_id, "2025-10-20")[1]["level"] == "overdue"

    at("2025-10-10")
    act(runtime, instance_id, "clerk", APPROVE)  # 审查 passes
    act(runtime, instance_id, "approver", APPROVE)  # 决定: the case ends, the clock stops
    instance, view = clock(runtime, instance_id, "2025-12-01")
    assert (view["state"], view["level"], view["working_days_left"]) == ("stopped", "normal", 6)  # as on 10 Oct
    with runtime.unit_of_work() as uow:
        kinds = [e.kind for e in uow.session.scalars(select(HistoryEvent).where(
            HistoryEvent.instance_id == instance_id, HistoryEvent.kind.like("clock_%")).order_by(HistoryEvent.id))]
    assert kinds == ["clock_started", "clock_paused", "clock_resumed"]


def test_the_api_gives_the_clock(runtime, client, login, at):
    at("2025-09-26")
    instance_id = deploy_and_start(runtime)
    act(runtime, instance_id, "clerk", APPROVE)
    lifecycle = client.get(f"/api/instances/{instance_id}", headers=login("supervisor")).json["lifecycle"]
    assert lifecycle["clock"]["state"] == "running"
    assert lifecycle["clock"]["due_at"] == "2025-10-16T15:59:59+00:00"  # 23:59:59 that day in China
    assert lifecycle["clock"]["statutory_due_at"] == "2025-10-30T15:59:59+00:00"
    assert lifecycle["clock"]["level"] == "overdue"  # read today, long after October 2025


def test_clock_properties_that_cannot_count_are_refused_at_deploy(runtime):
    from engine.definitions import DefinitionInvalid

    # a limit in calendar days beside one in working days, a start step that does not exist, a clock
    # value other than pause; then a limit in hours
    bad = PROCESS.replace("10 working days", "10 days").replace('value="accept"', 'value="nowhere"') \
        .replace('name="clock" value="pause"', 'name="clock" value="stop"')
    with runtime.unit_of_work() as uow, pytest.raises(DefinitionInvalid) as refused:
        runtime.deployer.deploy(uow.session, [(bad.encode(), "bad_clock.bpmn")], "test")
    messages = " ".join(p.message for p in refused.value.problems)
    assert "须使用同一计时单位" in messages and "没有环节 nowhere" in messages and "pause" in messages
    in_hours = PROCESS.replace("10 working days", "48 hours")
    with runtime.unit_of_work() as uow, pytest.raises(DefinitionInvalid) as refused:
        runtime.deployer.deploy(uow.session, [(in_hours.encode(), "hours_clock.bpmn")], "test")
    assert "须以工作日或日计" in " ".join(p.message for p in refused.value.problems)


def test_a_supervisor_stops_the_clock_by_hand_with_a_reason_and_resumes_it(runtime, at):
    from engine.errors import Conflict, Forbidden, InvalidData
    from services.platform import supervision

    at("2025-09-26")
    instance_id = deploy_and_start(runtime)
    act(runtime, instance_id, "clerk", APPROVE)  # 受理: the clock runs

    def pause(who, reason):
        with runtime.unit_of_work() as uow:
            supervision.pause_clock(uow, runtime.engine, actor(who), instance_id, reason)
            uow.commit()

    def resume(who):
        with runtime.unit_of_work() as uow:
            supervision.resume_clock(uow, runtime.engine, actor(who), instance_id)
            uow.commit()

    with pytest.raises(InvalidData):
        pause("supervisor", "  ")
    with pytest.raises(Forbidden):
        pause("reviewer", "专家评审")
    at("2025-09-29")
    pause("supervisor", "专家评审")
    with pytest.raises(Conflict):
        pause("supervisor", "又一次")
    at("2025-09-30")  # a step ending does not resume a clock stopped by hand
    act(runtime, instance_id, "clerk", {"decision": "reject", "conclusion": "缺少材料"})
    at("2025-10-09")
    act(runtime, instance_id, "enterprise", APPROVE)
    instance, view = clock(runtime, instance_id, "2025-10-09")
    assert (view["state"], instance.clock_pause_reason) == ("paused", "专家评审")
    at("2025-10-10")
    resume("supervisor")
    instance, view = clock(runtime, instance_id, "2025-10-10")
    # paused 29 Sep – 10 Oct: 30 Sep, 9 and 10 Oct are working days
    assert (view["state"], instance.clock_paused_days) == ("running", 3)
    assert instance.promised_due_at == datetime(2025, 10, 21, 15, 59, 59)
    with pytest.raises(Conflict):
        resume("supervisor")



def test_reminders_and_escalation_follow_the_case_clock_once(runtime, at):
    from services.platform import reminders, supervision
    from services.platform.notifications import Notification

    at("2025-09-26")
    overdue = deploy_and_start(runtime)
    act(runtime, overdue, "clerk", APPROVE)  # promised due 16 October
    at("2025-10-09")
    warning, paused = deploy_and_start(runtime), deploy_and_start(runtime)
    for instance_id in (warning, paused):
        act(runtime, instance_id, "clerk", APPROVE)  # promised due 22 October
    with runtime.unit_of_work() as uow:
        supervision.pause_clock(uow, runtime.engine, actor("supervisor"), paused, "听证")
        uow.commit()

    def scan():
        return reminders.scan_and_send(runtime.unit_of_work, runtime.notifier, 2, now=cst("2025-10-20"))

    result = scan()
    assert (result.clock_warning, result.clock_overdue) == (1, 1)
    with runtime.unit_of_work() as uow:
        sent = sorted((n.recipient, n.kind, n.instance_id) for n in uow.session.scalars(
            select(Notification).where(Notification.kind.like("reminder_clock%"))))
    assert sent == [("clerk", "reminder_clock_overdue", overdue), ("clerk", "reminder_clock_warning", warning),
                    ("supervisor", "reminder_clock_overdue", overdue)]
    with runtime.unit_of_work() as uow:
        subject = uow.session.scalars(select(Notification.subject).where(
            Notification.kind == "reminder_clock_warning")).one()
    assert "还剩 2 个工作日" in subject  # 21 and 22 October
    assert scan()[2:] == (0, 0)  # each case and kind once
