"""退回 and 撤回: moving a case's token(s) back to an earlier user task, over SpiffWorkflow's task tree.

SpiffWorkflow's ``reset_from_task_id`` makes the target READY again and drops its descendants in the
tree — but a step after a parallel join hangs under the branch that arrived last, so a return into
the other branch would leave it open: the ghost task the users of other platforms report. ``rewind``
therefore also cancels every unfinished task whose step lies after the target in the process's flow
(reachable from it) and that is not one of the target's own new descendants; a branch that runs in
parallel with the target (not reachable from it) stays as it is. Joins then wait for the right tokens:
the re-done branch arrives again and meets the other branches' completed ones. Timers follow the
workflow (``engine.timers.sync_timers``): a removed step's boundary timer goes (also from the workflow's
event manager, which SpiffWorkflow's reset forgets), the step's is armed again when it is reached again.

Targets are completed user tasks of the same (sub)process as the current step that can reach it —
"earlier steps" — or, where the step's ``returnTargets`` property lists BPMN ids, only those.
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.task import TaskState

UNFINISHED = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.FUTURE | TaskState.LIKELY \
    | TaskState.MAYBE


def reaches(source_spec: Any, target_spec: Any) -> bool:
    """Whether the flow leads from ``source_spec`` to ``target_spec`` (following outgoing sequence flows)."""
    seen: set[str] = set()
    todo = list(source_spec.outputs)
    while todo:
        spec = todo.pop()
        if spec.name == target_spec.name:
            return True
        if spec.name not in seen:
            seen.add(spec.name)
            todo.extend(spec.outputs)
    return False


def earlier_steps(workflow: Any, current: Any, allowed: list[str] | None = None) -> dict[str, Any]:
    """BPMN id → the last completed task of each user step before ``current`` in its (sub)process,
    in the order they were done; ``allowed``: only these ids (the step's ``returnTargets``)."""
    found: dict[str, Any] = {}
    for done in sorted(current.workflow.get_tasks(state=TaskState.COMPLETED, manual=True),
                       key=lambda t: t.last_state_change):
        # one vote of a 会签 (multi-instance) step stands for the step: a return asks every signer again
        task = done.parent if isinstance(done.parent.task_spec, MultiInstanceTask) else done
        spec = task.task_spec
        if spec.bpmn_id == current.task_spec.bpmn_id or (allowed is not None and spec.bpmn_id not in allowed):
            continue
        if reaches(spec, current.task_spec):
            found.pop(spec.bpmn_id, None)
            found[spec.bpmn_id] = task
    return found


def rewind(workflow: Any, target: Any) -> None:
    """Make ``target`` (a completed task) READY again and void what its return makes void (see the
    module's docstring)."""
    workflow.reset_from_task_id(target.id)
    for task in list(target.workflow.get_tasks(state=UNFINISHED)):
        if task.id != target.id and not _under(task, target) and reaches(target.task_spec, task.task_spec) \
                and not task.has_state(TaskState.FINISHED_MASK):
            task.cancel()
    # SpiffWorkflow's reset drops tasks from the tree but not from the workflow's event manager: a
    # boundary timer of a removed step would still be refreshed (and fail) at the next engine step
    manager = workflow.event_manager
    for task_id, task in list(manager.tasks.items()):
        if task.workflow.tasks.get(task_id) is not task or task.has_state(TaskState.FINISHED_MASK):
            manager.remove_task(task)


def _under(task: Any, ancestor: Any) -> bool:
    while task is not None:
        if task.id == ancestor.id:
            return True
        task = task.parent
    return False
