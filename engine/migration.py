"""Case repair over SpiffWorkflow's task tree: where a running case stands (its *positions*), and
moving it to steps of a process version — another one (迁移) or its own (调整环节).

**Positions.** The steps a case waits at, by BPMN element id: its READY user tasks, and what it waits
for (timer and message catch events, receive tasks) — and, in a case in ``error``, the engine step that
failed (a script, a service task, a gateway with no way out): migrated to a version that fixes it, it
runs again there. That is how a case broken by its definition is repaired. A 会签 (multi-instance) step
counts once, by the activity's own id; an event-based gateway's waiting events count as the gateway;
boundary events come along with the task they are attached to (they are re-armed with it).

**Grafting.** SpiffWorkflow's ``reset_from_task_id`` makes a task that exists in the tree READY again —
what 退回 does (``engine.returns``). A fresh workflow of the target version has no such task: it only
predicts some paths, and a predicted task's ancestors (start event, service tasks) would run again.
So :func:`graft` starts from the fresh workflow's start, marks it done, hangs one FUTURE task per
position under it (the target step, or the ``BoundaryEventSplit`` in front of it when the target
has boundary events) and then resets each with ``reset_from_task_id`` — the same SpiffWorkflow path
退回 takes — which predicts what follows and makes it READY (a user task) or WAITING (a catch event,
registered with the event manager). The case data is carried over: the workflow's data, the data of
the task completed last (what the case page shows) and each position's own task data. A timer that was
already armed keeps its due time (its ``event_value``), so a migration does not restart deadlines.

**What is not kept.** The grafted tree has no completed steps of the old version: 退回 after a
migration or a forward move can go back only to steps done after it, and a step's ``caseStatus``
(the 办件状态) stays what it was until the next step that sets one completes.

**Refused** (with a message in words, the caller shows it):

- a case inside a call activity or subprocess (its position is in a child workflow; moving the child's
  tokens between versions of two files at once is not supported);
- a parallel branch that has arrived at a join and waits there for the others (the grafted tree would
  have no token on that branch, and the join would wait for ever);
- a step that does not exist in the target version and is not mapped, or is mapped to a step of
  another kind (a user task to a timer event).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.task import TaskState

from engine.errors import Conflict

LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


class Refused(Conflict):
    """A case that cannot be moved as asked; the message names the reason in words."""


@dataclass(frozen=True)
class Position:
    """One step a case waits at: its BPMN id and name, and the task standing for it."""

    step: str
    label: str
    task: Any = field(compare=False, repr=False)


def step_label(spec: Any) -> str:
    return str(getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name)


def positions(workflow: BpmnWorkflow) -> list[Position]:
    """Where the case stands, in the tree's order (see the module's docstring); Refused when it
    stands where a case cannot be moved from."""
    found: dict[str, Position] = {}
    for task in workflow.get_tasks(state=LIVE):
        spec = task.task_spec
        if task.workflow is not workflow or task.id in workflow.subprocesses:
            owner = task if task.workflow is workflow else workflow.get_task_from_id(task.workflow.parent_task_id)
            while owner.workflow is not workflow:
                owner = workflow.get_task_from_id(owner.workflow.parent_task_id)
            raise Refused(f"办件正在子流程“{step_label(owner.task_spec)}”中办理，暂不支持迁移或调整环节")
        if isinstance(spec, MultiInstanceTask):
            continue  # its instances stand for it
        parent = task.parent.task_spec if task.parent is not None else None
        if isinstance(parent, MultiInstanceTask):
            task, spec = task.parent, parent
        elif isinstance(parent, BoundaryEventSplit) and not spec.manual and task.state == TaskState.WAITING:
            continue  # a boundary event: re-armed with its task
        elif type(parent).__name__ == "EventBasedGateway":
            task, spec = task.parent, parent
        if task.state == TaskState.WAITING and _is_join(spec):
            raise Refused(f"办件有并行分支已到达“{step_label(spec)}”等待其他分支，暂不支持迁移或调整环节")
        if task.state == TaskState.STARTED and not isinstance(spec, MultiInstanceTask):
            continue
        if task.state == TaskState.READY and not spec.manual and not isinstance(spec, MultiInstanceTask):
            continue  # an engine step about to run (only in a case that failed): not a place to wait
        step = getattr(spec, "bpmn_id", None) or spec.name
        found.setdefault(step, Position(step, step_label(spec), task))
    return list(found.values())


def _is_join(spec: Any) -> bool:
    return hasattr(spec, "_check_threshold_unstructured") and not hasattr(spec, "event_definition")


def find_step(spec: Any, step: str) -> Any:
    """The task spec of the top-level process with BPMN id ``step``, or None."""
    return next((s for s in spec.task_specs.values() if getattr(s, "bpmn_id", None) == step
                 and not isinstance(s, BoundaryEventSplit)), None)


def user_steps(spec: Any) -> list[tuple[str, str]]:
    """(BPMN id, name) of the user steps of a process (not of what it calls), in the flow's order."""
    seen: dict[str, str] = {}
    todo = [spec.start]
    visited: set[str] = set()
    while todo:
        current = todo.pop(0)
        if current.name in visited:
            continue
        visited.add(current.name)
        inner = spec.task_specs.get(current.task_spec) if isinstance(current, MultiInstanceTask) else None
        if getattr(current, "bpmn_id", None) and (current.manual or (inner is not None and inner.manual)):
            seen.setdefault(current.bpmn_id, step_label(current))
        todo.extend(current.outputs)
    return list(seen.items())


def same_kind(old: Any, new: Any) -> bool:
    """A user step maps to a user step, a wait to a wait (a timer to a timer, a message to a message)."""
    if bool(old.manual) != bool(new.manual):
        return False
    old_event, new_event = getattr(old, "event_definition", None), getattr(new, "event_definition", None)
    return type(old_event) is type(new_event)


def graft(spec: Any, subprocess_specs: dict[str, Any], old: BpmnWorkflow, targets: list[tuple[Any, Any]],
          script_engine: Any = None) -> BpmnWorkflow:
    """A fresh workflow of ``spec`` standing at the given steps: ``targets`` are (target task spec,
    the old task whose data and timer it takes over). See the module's docstring."""
    fresh = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)
    fresh.data.update(copy.deepcopy(old.data))
    start = fresh.task_tree
    start._drop_children(force=True)
    start.data = copy.deepcopy(dict(old.last_task.data)) if old.last_task is not None else {}
    start._set_state(TaskState.COMPLETED)
    for target, old_task in targets:
        split = next((s for s in target.inputs if isinstance(s, BoundaryEventSplit)), None)
        child = start._add_child(split or target, TaskState.FUTURE)
        fresh.reset_from_task_id(child.id, data=copy.deepcopy(dict(old_task.data)))
        _keep_timers(old_task, child)
    return fresh


def _keep_timers(old_task: Any, grafted: Any) -> None:
    """Armed timers of the old step (its own, or its boundary events') keep their due times."""
    armed: dict[str, Any] = {}
    for task in [old_task, *(old_task.parent.children if old_task.parent is not None else [])]:
        value = task._get_internal_data("event_value")
        if value is not None and task.state == TaskState.WAITING:
            armed[getattr(task.task_spec, "bpmn_id", task.task_spec.name)] = (type(task.task_spec.event_definition),
                                                                             copy.deepcopy(value))
    for task in grafted:
        kept = armed.get(getattr(task.task_spec, "bpmn_id", None) or "")
        if kept is not None and type(getattr(task.task_spec, "event_definition", None)) is kept[0]:
            # a predicted event (behind a boundary split not yet run) arms with it when it is reached
            task._set_internal_data(event_value=kept[1])


@dataclass
class MigrationPlan:
    """What migrating one case does (a dry run's answer) or did: for each position, the step it
    stands at and the step of the target version it goes to; or why the case is refused."""

    instance_id: int
    business_key: str
    from_version: int
    to_version: int
    moves: list[tuple[str, str, str, str]] = field(default_factory=list)  # (step, name, target step, name)
    refusal: str | None = None
    done: bool = False

    @property
    def refused(self) -> bool:
        return self.refusal is not None

    def lines(self) -> list[str]:
        """Each move in words: "初审 → 初审 (v2)"."""
        return [f"{label} → {target_label} (v{self.to_version})" for _s, label, _t, target_label in self.moves]

    def describe(self) -> str:
        return self.refusal if self.refusal is not None else "；".join(self.lines())

    def as_dict(self) -> dict[str, Any]:
        return {"instance_id": self.instance_id, "business_key": self.business_key,
                "from_version": self.from_version, "to_version": self.to_version,
                "moves": [list(move) for move in self.moves], "refusal": self.refusal, "done": self.done}


def targets_for(workflow: BpmnWorkflow, spec: Any, mapping: dict[str, str]) -> list[tuple[Position, Any]]:
    """Each position of the case with the task spec of ``spec`` it goes to (``mapping``: old BPMN id →
    new one; an id not mapped keeps its id). Refused, naming the step in words, when one has none."""
    found = []
    for position in positions(workflow):
        wanted = mapping.get(position.step, position.step)
        target = find_step(spec, wanted)
        if target is None:
            if position.step in mapping:
                raise Refused(f"环节“{position.label}”对应的“{wanted}”在目标版本中不存在")
            raise Refused(f"办件所在的环节“{position.label}”在目标版本中已不存在，请指定它在新版本中对应的环节")
        if not same_kind(position.task.task_spec, target):
            raise Refused(f"环节“{position.label}”与目标版本的“{step_label(target)}”类型不同，不能对应")
        found.append((position, target))
    if not found:
        raise Refused("办件当前没有停留的环节，不能迁移")
    return found
