"""Task actions that need more than the engine knows: finding the colleague a task is handed to.

Each action checks, in this order, that the task is in the actor's scope (``NotFound`` otherwise,
like a task that does not exist), that the actor may act on it, and only then its state and the
other things named in the request (the engine repeats the first checks under its lock).
"""
from __future__ import annotations

from engine.actors import Actor
from engine.db import UnitOfWork
from engine.errors import InvalidData, NotFound
from engine.models import HumanTask
from engine.runtime import WorkflowEngine
from services.case_view import get_visible_task
from services.identity import actor_for, get_user


def delegate(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, task_id: str, to: str,
             note: str = "") -> HumanTask:
    """转交: hand an open task to a colleague who holds its role for its region."""
    get_visible_task(uow.session, actor, task_id)
    try:
        colleague = get_user(uow.session, to)
    except NotFound:
        raise InvalidData(f"用户 {to} 不存在或已停用", fields={"to": ["用户不存在或已停用"]}) from None
    return engine.delegate(uow, task_id, actor, actor_for(colleague), note)
