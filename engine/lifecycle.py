"""Case status codes (办件状态): one table for every process, set by BPMN.

A step, gateway or event that carries the extension property ``caseStatus`` sets the case's status
when it completes (an end event when the case reaches it); the status of the step completed last
wins, so a case sent back and decided again shows where it is now. A case starts 接件 (received);
终止 by a supervisor sets ``terminated``. Staff and applicants see the words; the API gives both
(``lifecycle.status`` / ``lifecycle.status_label`` of ``GET /api/instances/<id>``).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.task import TaskState

RECEIVED = "received"
TERMINATED = "terminated"
WITHDRAWN = "withdrawn"
CANCELLED = "cancelled"
CASE_STATUSES: dict[str, str] = {
    RECEIVED: "接件",
    "accepted": "已受理",
    "refused": "不予受理",
    "correction_started": "补正（开始）",
    "correction_ended": "补正（结束）",
    "special_started": "特别程序（开始）",
    "special_ended": "特别程序（结束）",
    "closed_approved": "办结（通过）",
    "closed_rejected": "办结（不通过）",
    "transferred": "已转办",  # the case went on as another office's case (转送, 交办 answered)
    "filed": "已存档",  # closed without further action (信访件 存)
    WITHDRAWN: "已撤回",
    CANCELLED: "已撤销",
    TERMINATED: "已终止",
}


# The decisions a step's form may record (its ``decision`` field), in words, the same for every process.
DECISION_LABELS: dict[str, str] = {"approve": "通过", "reject": "不通过", "return": "退回", "correct": "补正材料"}


def problems(code: str) -> list[str]:
    if code in CASE_STATUSES:
        return []
    return [f"caseStatus {code} 不是办件状态代码（可用：{'、'.join(CASE_STATUSES)}）"]


def label(code: str | None) -> str:
    return CASE_STATUSES.get(code or "", code or "")


def current_status(workflow: Any, status_steps: Mapping[str, str]) -> str | None:
    """The caseStatus of the step of ``workflow`` (and of the processes it called) completed last,
    None when no step that sets one has completed. ``status_steps``: ``"<process id>/<element id>"`` →
    code (``engine.definitions.step_properties``)."""
    if not status_steps:
        return None
    latest: tuple[float, str] | None = None
    for task in workflow.get_tasks_iterator():
        code = status_steps.get(f"{task.workflow.spec.name}/{task.task_spec.bpmn_id}")
        if code is not None and task.state == TaskState.COMPLETED \
                and (latest is None or task.last_state_change >= latest[0]):
            latest = (task.last_state_change, code)
    return latest[1] if latest else None
