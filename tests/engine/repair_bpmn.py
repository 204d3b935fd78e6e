"""Versions of one small process for the case repair tests and the migration benchmark."""
from __future__ import annotations

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_{pid}" targetNamespace="http://test">
  <bpmn:process id="{pid}" name="{pid}" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="startableBy" value="reviewer" />
    </spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:laneSet id="ls"><bpmn:lane id="lane1" name="reviewer">{refs}</bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:endEvent id="end" />
"""


def process(pid: str, steps: list[tuple[str, str]], timer_on: str | None = None,
            scripts: dict[str, str] | None = None) -> bytes:
    """start → the manual steps (id, name) in order → end; ``timer_on``: an interrupting boundary
    timer of P30D on that step, leading to an end of its own; ``scripts``: steps that are script tasks
    instead (step id → script)."""
    ids = ["start", *[s for s, _ in steps], "end"]
    refs = "".join(f"<bpmn:flowNodeRef>{i}</bpmn:flowNodeRef>" for i in ids)
    body = HEADER.format(pid=pid, refs=refs)
    for step, name in steps:
        if step in (scripts or {}):
            body += (f'    <bpmn:scriptTask id="{step}" name="{name}" scriptFormat="python">'
                     f'<bpmn:script>{(scripts or {})[step]}</bpmn:script></bpmn:scriptTask>\n')
        else:
            body += f'    <bpmn:manualTask id="{step}" name="{name}" />\n'
    for n, (source, target) in enumerate(zip(ids, ids[1:], strict=False)):
        body += f'    <bpmn:sequenceFlow id="f{n}" sourceRef="{source}" targetRef="{target}" />\n'
    if timer_on:
        body += (f'    <bpmn:boundaryEvent id="late" name="超期" attachedToRef="{timer_on}">'
                 '<bpmn:timerEventDefinition><bpmn:timeDuration>"P30D"</bpmn:timeDuration>'
                 '</bpmn:timerEventDefinition></bpmn:boundaryEvent>\n'
                 '    <bpmn:endEvent id="late_end" />\n'
                 '    <bpmn:sequenceFlow id="late_flow" sourceRef="late" targetRef="late_end" />\n')
    body += "  </bpmn:process>\n</bpmn:definitions>\n"
    return body.encode()


V1 = [("accept", "受理"), ("review", "初审"), ("approve", "审批")]
V2_SAME = [("accept", "受理"), ("review", "初审"), ("recheck", "复核"), ("approve", "审批")]
V2_RENAMED = [("accept", "受理"), ("first_review", "初审"), ("approve", "审批")]
V2_WITHOUT_REVIEW = [("accept", "受理"), ("approve", "审批")]
