"""批量通过 / 批量不通过 / 批量退回: one decision and conclusion applied to several tasks of one step.

Each task is completed through ``engine.complete_task`` in its own unit of work, so one task's
failure (a guard, a conflict, a missing permission) neither blocks nor undoes the others; the
caller gets one outcome per task to report which ones failed and why.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from marshmallow import ValidationError

from engine.actors import Actor
from engine.db import UnitOfWork
from engine.errors import EngineError, InvalidData, NotFound
from engine.forms import FormDefinition
from engine.runtime import WorkflowEngine
from services.platform.case_view import get_visible_task

MAX_BATCH = 200


@dataclass(frozen=True)
class Outcome:
    task_id: str
    business_key: str
    ok: bool
    message: str = ""


def message_of(error: EngineError) -> str:
    """A refused task's outcome message: the refusal and its fields' messages."""
    details = "；".join(m for messages in error.fields.values() for m in messages)
    return f"{error.message}（{details}）" if details else error.message


def decide_tasks(unit_of_work: Callable[[], UnitOfWork], engine: WorkflowEngine, actor: Actor,
                 task_ids: list[str], decision: str, conclusion: str) -> list[Outcome]:
    """Complete every task with ``{"decision", "conclusion"}``; refuse tasks of different steps."""
    task_ids = list(dict.fromkeys(task_ids))
    if not task_ids:
        raise InvalidData("请先勾选要办理的任务")
    if len(task_ids) > MAX_BATCH:
        raise InvalidData("一次最多批量办理 %(limit)s 件" % dict(limit=MAX_BATCH))
    data = {"decision": decision, "conclusion": conclusion or None}
    keys: dict[str, str] = {}
    steps: set[tuple[str, str]] = set()
    forms: dict[int, FormDefinition] = {}  # the distinct forms of the tasks' versions
    with unit_of_work() as uow:
        for task_id in task_ids:
            try:
                row = get_visible_task(uow.session, actor, task_id)
            except NotFound:
                continue  # reported below as that task's own failure
            keys[task_id] = row.business_key
            steps.add((row.process_key, row.name))
            form = engine.task_form(uow.session, row)
            if form is not None:
                forms[id(form)] = form
    if len(steps) > 1:
        raise InvalidData("批量办理只能选择同一流程、同一环节的任务")
    for form in forms.values():
        try:
            form.validate(data)
        except ValidationError as error:
            messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
            raise InvalidData("批量办理的结论或意见填写有误",
                              fields={k: [str(m) for m in v] for k, v in messages.items()}) from None
    return complete_each(unit_of_work, engine, actor, task_ids, keys, data)


def complete_each(unit_of_work: Callable[[], UnitOfWork], engine: WorkflowEngine, actor: Actor, task_ids: list[str],
                  keys: dict[str, str], data: dict) -> list[Outcome]:
    """Complete each task with ``data`` in its own unit of work; ``keys``: the business keys of the tasks
    the actor may see (the others fail as unknown). One outcome per task, in order."""
    outcomes = []
    for task_id in task_ids:
        if task_id not in keys:
            outcomes.append(Outcome(task_id, "", False, "任务不存在或不在您的管辖范围内"))
            continue
        with unit_of_work() as uow:
            try:
                engine.complete_task(uow, task_id, actor, data)
                uow.commit()
            except EngineError as error:
                outcomes.append(Outcome(task_id, keys[task_id], False, message_of(error)))
                continue
        outcomes.append(Outcome(task_id, keys[task_id], True))
    return outcomes


def return_tasks(unit_of_work: Callable[[], UnitOfWork], engine: WorkflowEngine, actor: Actor,
                 task_ids: list[str], reason: str) -> list[Outcome]:
    """批量退回: each task back to the step done last before it (engine.returns), with one reason."""
    task_ids = list(dict.fromkeys(task_ids))
    if not task_ids:
        raise InvalidData("请先勾选要退回的任务")
    if len(task_ids) > MAX_BATCH:
        raise InvalidData("一次最多批量退回 %(limit)s 件" % dict(limit=MAX_BATCH))
    if not (reason or "").strip():
        raise InvalidData("批量退回时必须填写退回原因", fields={"conclusion": ["请填写退回原因"]})
    outcomes = []
    for task_id in task_ids:
        with unit_of_work() as uow:
            try:
                row = get_visible_task(uow.session, actor, task_id)
                targets = engine.return_targets(uow.session, row)
                if not targets:
                    raise InvalidData("此环节之前没有可退回的环节")
                engine.return_task(uow, task_id, actor, targets[-1][0], reason)
                uow.commit()
            except EngineError as error:
                outcomes.append(Outcome(task_id, "", False, message_of(error)))
                continue
        outcomes.append(Outcome(task_id, row.business_key, True))
    return outcomes
