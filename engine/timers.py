"""BPMN timers kept in the database, so that a scheduler — not an in-memory sleep — fires them.

Whenever the engine persists an instance, :func:`sync_timers` makes the instance's unfired rows in
the ``timer`` table equal to the timer events (start, intermediate, boundary; durations, dates and
cycles) its workflow waits on. Timer expressions were already evaluated by the instance's restricted
script engine when SpiffWorkflow armed the event; here we only read the resulting instant.

A scheduler lists :func:`due_timer_ids` and asks the engine to fire each one
(``WorkflowEngine.fire_timer``), which claims the row with ``UPDATE … WHERE fired = false`` in the
transaction that advances the instance: however many schedulers race, one wins and the rest see
zero rows updated.
"""
from __future__ import annotations

import weakref
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import InstanceStatus, ProcessInstance, Timer

SCAN_LIMIT = 500


def timer_definition(event_definition: Any) -> TimerEventDefinition | None:
    """The timer of an event: its own definition, or the timer among the events of an event-based gateway
    (or of a multiple event), which SpiffWorkflow arms on the gateway's task."""
    if isinstance(event_definition, TimerEventDefinition):
        return event_definition
    if isinstance(event_definition, MultipleEventDefinition):
        return next((d for d in event_definition.event_definitions if isinstance(d, TimerEventDefinition)), None)
    return None


def timer_due_at(task) -> datetime | None:
    """The naive-UTC instant a waiting timer task fires at (None when SpiffWorkflow has not armed it)."""
    definition = timer_definition(task.task_spec.event_definition)
    value = definition.details(task).value if definition is not None else None
    if not isinstance(value, str):  # unarmed, or a cycle that has run all its repetitions
        return None
    return TimerEventDefinition.get_datetime(value).astimezone(UTC).replace(tzinfo=None)


def waiting_timer_tasks(workflow) -> list:
    """The workflow's timer event tasks (and event-based gateways waiting on a timer) in state WAITING,
    subprocesses included."""
    return [task for task in list(workflow.event_manager.tasks.values())
            if timer_definition(task.task_spec.event_definition) is not None and task.state == TaskState.WAITING]


_HAS_TIMERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # parsed process spec → bool


def has_timer_events(workflow) -> bool:
    """Whether the process (or a process it calls) has any timer event at all; looked up once per
    parsed spec, which every instance of a deployed version shares (``engine.specs``)."""
    known = _HAS_TIMERS.get(workflow.spec)
    if known is None:
        specs = [workflow.spec, *workflow.subprocess_specs.values()]
        known = _HAS_TIMERS[workflow.spec] = any(
            timer_definition(getattr(task_spec, "event_definition", None)) is not None
            for spec in specs for task_spec in spec.task_specs.values())
    return known


def sync_timers(session: Session, instance: ProcessInstance, workflow) -> None:
    """Make the instance's unfired timer rows equal to the timers its workflow waits on."""
    if not has_timer_events(workflow):
        return  # no timer can exist: spare every action of a timer-less process the query
    wanted: dict[str, tuple[str, datetime]] = {}
    if instance.status in (InstanceStatus.RUNNING, InstanceStatus.WAITING):
        for task in waiting_timer_tasks(workflow):
            due = timer_due_at(task)
            if due is not None:
                wanted[str(task.id)] = (task.task_spec.bpmn_id, due)
    elif instance.status == InstanceStatus.ERROR:
        return  # keep what is armed: a retry resumes the same timers
    pending = {row.task_id: row for row in session.scalars(
        select(Timer).where(Timer.instance_id == instance.id, Timer.fired.is_(False)))}
    row: Timer | None
    for task_id, row in pending.items():
        if task_id not in wanted:
            session.delete(row)  # the event was cancelled (task completed, instance ended…)
    for task_id, (name, due) in wanted.items():
        row = pending.get(task_id)
        if row is None:
            session.add(Timer(instance_id=instance.id, task_id=task_id, name=name, due_at=due))
        elif row.due_at != due:
            row.due_at = due


def due_timer_ids(session: Session, now: datetime, limit: int = SCAN_LIMIT) -> list[int]:
    """Unfired timers of live instances whose time has come, oldest first."""
    return list(session.scalars(
        select(Timer.id).join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
        .where(Timer.fired.is_(False), Timer.due_at <= now,
               ProcessInstance.status.in_((InstanceStatus.RUNNING, InstanceStatus.WAITING)))
        .order_by(Timer.due_at, Timer.id).limit(limit)))
