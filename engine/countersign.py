"""会签 / 或签 / 依次审批 / 按比例: how the votes of a multi-instance user task decide the step.

A multi-instance user task gives one task per signer (parallel, or one after another when the BPMN says
``isSequential`` — 依次审批). Its property ``signMode`` says when the step is decided:

* ``all`` (会签, the default): when everyone has voted — 通过 if nobody voted otherwise; with
  ``rejectEnds = true`` the first 不通过 decides at once and the others' tasks are withdrawn;
* ``any`` (或签): the first vote decides;
* ``ratio`` (按比例): ``signRatio`` (e.g. ``0.6``) of all signers voting 通过 decides 通过; as soon as that
  share can no longer be reached, 不通过.

The outcome is written into the case data for the gateways after the step: ``sign_result``
(``approve`` / ``reject``) and ``sign_votes`` (``{"approve": n, "reject": n, "total": n}``). A step
decided early cancels the remaining votes' tasks and completes the multi-instance activity.
"""
from __future__ import annotations

import math
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.task import TaskState

MODES = ("all", "any", "ratio")


def problems(properties: dict[str, str]) -> list[str]:
    """Deploy-time check of a user task's signMode / signRatio."""
    mode = properties.get("signMode")
    if mode is None:
        return []
    if mode not in MODES:
        return [f"signMode 应为 {'、'.join(MODES)}（会签、或签、按比例），不能是 {mode}"]
    if mode == "ratio":
        try:
            ratio = float(properties.get("signRatio", ""))
        except ValueError:
            return ["signMode = ratio 时须写 signRatio（0 到 1 之间的比例，如 0.6）"]
        if not 0 < ratio <= 1:
            return ["signRatio 应在 0 到 1 之间（如 0.6）"]
    return []


def decide(task: Any, properties: dict[str, str], decision: str | None) -> str | None:
    """Before the vote ``task`` (a signer's task) completes with ``decision``: the step's outcome if this
    vote decides it (``approve`` / ``reject``), else None. Writes ``sign_result`` / ``sign_votes`` into the
    vote's data when decided (the data the step hands on)."""
    parent = task.parent
    if parent is None or not isinstance(parent.task_spec, MultiInstanceTask):
        return None
    votes = [child for child in parent.children if child.task_spec is task.task_spec]
    approve = sum(1 for v in votes if v.state == TaskState.COMPLETED and v.data.get("decision") == "approve")
    reject = sum(1 for v in votes if v.state == TaskState.COMPLETED and v.data.get("decision") != "approve")
    approve, reject = (approve + 1, reject) if decision == "approve" else (approve, reject + 1)
    total = max(len(votes), _cardinality(parent))
    left = total - approve - reject
    mode = properties.get("signMode", "all")
    outcome: str | None = None
    if mode == "any":
        outcome = "approve" if decision == "approve" else "reject"
    elif mode == "ratio":
        needed = math.ceil(float(properties["signRatio"]) * total - 1e-9)
        outcome = "approve" if approve >= needed else "reject" if approve + left < needed else None
    elif properties.get("rejectEnds") == "true" and decision != "approve":
        outcome = "reject"
    elif left == 0:
        outcome = "approve" if reject == 0 else "reject"
    if outcome is not None:
        task.data["sign_result"] = outcome
        task.data["sign_votes"] = {"approve": approve, "reject": reject, "total": total}
    return outcome


def finish_early(task: Any) -> None:
    """After a deciding vote completed: withdraw the other votes and complete the activity, so that the
    case moves on with the deciding vote's data."""
    parent = task.parent
    if parent.state == TaskState.COMPLETED:
        return
    for other in parent.children:
        if other.task_spec is task.task_spec and not other.has_state(TaskState.FINISHED_MASK):
            other.cancel()
    parent.data.update({key: task.data[key] for key in ("sign_result", "sign_votes")})
    parent.complete()


def _cardinality(parent: Any) -> int:
    """The number of signers a multi-instance activity was started with (its children so far in a
    sequential one), as SpiffWorkflow recorded it."""
    return int(parent.internal_data.get("cardinality", 0) or 0) if hasattr(parent, "internal_data") else 0
