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
from services.platform.case_view import get_visible_task
from services.platform.identity import actor_for, get_user

NOT_A_COLLEAGUE = "该用户不存在、已停用，或不具备办理此任务的角色或区划权限"


def delegate(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, task_id: str, to: str,
             note: str = "") -> HumanTask:
    """转交: hand an open task to a colleague who holds its role for its region. Someone who is not
    such a colleague — whether the username exists (in any region, of any role) or not — gets one
    answer, after the same checks: delegation must not tell who has an account."""
    get_visible_task(uow.session, actor, task_id)
    try:
        colleague = actor_for(get_user(uow.session, to))
    except NotFound:
        colleague = Actor(to)  # holds nothing: refused below exactly like a real user without the role
    try:
        return engine.delegate(uow, task_id, actor, colleague, note)
    except InvalidData as refused:
        if refused.fields:
            raise
        raise InvalidData(f"不能转交给 {to}：{NOT_A_COLLEAGUE}", fields={"to": [NOT_A_COLLEAGUE]}) from None
