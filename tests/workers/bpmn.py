"""BPMN documents with timer and message events for the background-work tests."""
from __future__ import annotations

from xml.sax.saxutils import escape

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_{pid}" targetNamespace="http://test">
"""


def _user_task(task_id: str, label: str, due_in: str = "") -> str:
    due = f'<spiffworkflow:property name="dueIn" value="{due_in}" />' if due_in else ""
    return (f'<bpmn:userTask id="{task_id}" name="{label}"><bpmn:extensionElements><spiffworkflow:properties>'
            f'<spiffworkflow:property name="formKey" value="declaration_review" />{due}'
            f'</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>')


def timer(kind: str, expression: str) -> str:
    """A timerEventDefinition; ``kind`` is timeDate, timeDuration or timeCycle."""
    return (f'<bpmn:timerEventDefinition><bpmn:{kind} xsi:type="bpmn:tFormalExpression">{escape(expression)}'
            f'</bpmn:{kind}></bpmn:timerEventDefinition>')


def _process(pid: str, nodes: str, flows: list[tuple[str, str]], lane_nodes: list[str]) -> bytes:
    refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in lane_nodes)
    flow_xml = "".join(f'<bpmn:sequenceFlow id="flow_{s}_{t}" sourceRef="{s}" targetRef="{t}" />' for s, t in flows)
    return (HEADER.format(pid=pid) + f"""
  <bpmn:process id="{pid}" name="{pid}" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="startableBy" value="reviewer" />
    </spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:laneSet id="ls"><bpmn:lane id="lane1" name="reviewer">{refs}</bpmn:lane></bpmn:laneSet>
    {nodes}
    {flow_xml}
  </bpmn:process>
</bpmn:definitions>""").encode()


def intermediate_timer(pid: str, expression: str, kind: str = "timeDate") -> bytes:
    """start → timer → user task 'after' → end."""
    nodes = (f'<bpmn:startEvent id="start" /><bpmn:intermediateCatchEvent id="wait" name="等待">'
             f'{timer(kind, expression)}</bpmn:intermediateCatchEvent>{_user_task("after", "计时后")}'
             f'<bpmn:endEvent id="end" />')
    return _process(pid, nodes, [("start", "wait"), ("wait", "after"), ("after", "end")],
                    ["start", "wait", "after", "end"])


def timer_start(pid: str, expression: str) -> bytes:
    """timer start event → user task 'after' → end."""
    nodes = (f'<bpmn:startEvent id="start" name="定时发起">{timer("timeDate", expression)}</bpmn:startEvent>'
             f'{_user_task("after", "计时后")}<bpmn:endEvent id="end" />')
    return _process(pid, nodes, [("start", "after"), ("after", "end")], ["start", "after", "end"])


def boundary_timer(pid: str, expression: str, *, interrupting: bool, kind: str = "timeDate") -> bytes:
    """start → user task 'work' (boundary timer 'deadline' → user task 'escalated') → end."""
    nodes = (f'<bpmn:startEvent id="start" />{_user_task("work", "办理")}'
             f'<bpmn:boundaryEvent id="deadline" name="期限" attachedToRef="work" '
             f'cancelActivity="{"true" if interrupting else "false"}">{timer(kind, expression)}'
             f'</bpmn:boundaryEvent>{_user_task("escalated", "督办处理")}'
             f'<bpmn:endEvent id="end" /><bpmn:endEvent id="end_escalated" />')
    return _process(pid, nodes, [("start", "work"), ("work", "end"), ("deadline", "escalated"),
                                 ("escalated", "end_escalated")],
                    ["start", "work", "deadline", "escalated", "end", "end_escalated"])


def message_wait(pid: str, message: str = "checked", variable: str = "outcome") -> bytes:
    """start → message catch event → user task 'after' → end; the payload lands in ``variable``."""
    nodes = (f'<bpmn:startEvent id="start" /><bpmn:intermediateCatchEvent id="wait" name="等待结果">'
             f'<bpmn:messageEventDefinition id="wait_def" messageRef="msg_{message}"><bpmn:extensionElements>'
             f'<spiffworkflow:messageVariable>{variable}</spiffworkflow:messageVariable></bpmn:extensionElements>'
             f'</bpmn:messageEventDefinition></bpmn:intermediateCatchEvent>{_user_task("after", "收到结果后")}'
             f'<bpmn:endEvent id="end" />')
    xml = _process(pid, nodes, [("start", "wait"), ("wait", "after"), ("after", "end")],
                   ["start", "wait", "after", "end"]).decode()
    return xml.replace("</bpmn:definitions>",
                       f'<bpmn:message id="msg_{message}" name="{message}" /></bpmn:definitions>').encode()


def single_task(pid: str, due_in: str = "2 working days") -> bytes:
    """start → user task 'work' (reviewer lane, with a due rule) → end."""
    nodes = f'<bpmn:startEvent id="start" />{_user_task("work", "初审", due_in)}<bpmn:endEvent id="end" />'
    return _process(pid, nodes, [("start", "work"), ("work", "end")], ["start", "work", "end"])
