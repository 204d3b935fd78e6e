"""Small BPMN documents for engine tests."""
from __future__ import annotations

from xml.sax.saxutils import quoteattr

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_{pid}" targetNamespace="http://test">
"""


def linear_process(pid: str, middle: str = "", *, lane: str = "reviewer", form: str = "declaration_review",
                   starters: str = "reviewer", label: str = "审核", extra_props: str = "") -> bytes:
    """start → {middle} → user task 'task' → end. ``middle`` is raw BPMN placed between start and the
    user task; it must contain elements with ids mid_in ... mid_out chained by the caller, or be empty."""
    first_target = "mid" if middle else "task"
    flows = f'<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{first_target}" />'
    if middle:
        flows += '<bpmn:sequenceFlow id="f2" sourceRef="mid" targetRef="task" />'
    xml = HEADER.format(pid=pid) + f"""
  <bpmn:process id="{pid}" name="{pid}" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="startableBy" value="{starters}" />
    </spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:laneSet id="ls"><bpmn:lane id="lane1" name="{lane}">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef>{'<bpmn:flowNodeRef>mid</bpmn:flowNodeRef>' if middle else ''}
      <bpmn:flowNodeRef>task</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start" />
    {middle}
    <bpmn:userTask id="task" name={quoteattr(label)}>
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="{form}" />{extra_props}
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="end" />
    {flows}
    <bpmn:sequenceFlow id="f3" sourceRef="task" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""
    return xml.encode()


def script_task(script: str) -> str:
    from xml.sax.saxutils import escape

    return f'<bpmn:scriptTask id="mid" name="脚本"><bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>'


def service_task(operator: str, result: str = "result") -> str:
    return (f'<bpmn:serviceTask id="mid" name="服务"><bpmn:extensionElements>'
            f'<spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="{result}">'
            f'<spiffworkflow:parameters /></spiffworkflow:serviceTaskOperator>'
            f'</bpmn:extensionElements></bpmn:serviceTask>')
