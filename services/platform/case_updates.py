"""What happens around a case when an action changes it, for every process: the person who started
it is told of each outcome (a step decided, the case closed or terminated, with the conclusion or
reason), and the module that owns a terminated case brings its domain rows along.

Both are engine listeners (``WorkflowEngine.listeners``), registered by the composition root: they
run inside the action's transaction, so an outcome and its notification commit together; e-mail and
SMS go out after the commit (``Notifier``).
"""
from __future__ import annotations

from typing import Any

from engine import lifecycle
from engine.db import UnitOfWork
from engine.models import ProcessInstance
from engine.runtime import CaseListener as Listener
from services.platform.modules import ProcessModule
from services.platform.notifications import Notifier

OUTCOMES = ("task_completed", "completed", "terminated")
TEMPLATE = "case_update"



def notify_starter(notifier: Notifier) -> Listener:
    """The person who started a case learns of every outcome others bring about (not of their own)."""

    def listener(uow: UnitOfWork, instance: ProcessInstance, events: list[dict[str, Any]]) -> None:
        for event in events:
            if event["kind"] not in OUTCOMES or not instance.started_by or event["actor"] == instance.started_by:
                continue
            notifier.notify(uow, [instance.started_by], TEMPLATE, {
                "instance": instance, "kind": event["kind"], "step": event["task_label"] or "",
                "decision": lifecycle.DECISION_LABELS.get(event["decision"] or "", event["decision"] or ""),
                "conclusion": event["conclusion"] or ""}, instance_id=instance.id)

    return listener


def termination_hooks(modules: list[ProcessModule]) -> Listener:
    """A terminated case's module marks its domain rows (a batch, a registration) as ended, with the reason."""

    def listener(uow: UnitOfWork, instance: ProcessInstance, events: list[dict[str, Any]]) -> None:
        for event in events:
            if event["kind"] != "terminated":
                continue
            for module in modules:
                if module.on_terminate is not None and module.owns(instance):
                    module.on_terminate(uow.session, instance, event["conclusion"] or "")

    return listener
