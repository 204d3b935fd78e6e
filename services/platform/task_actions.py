"""Task actions that need more than the engine knows: finding the colleague a task is handed to, and
which actions a user may take on a task now (the buttons of the task page, ``GET /api/tasks/<id>/actions``).

Each action checks, in this order, that the task is in the actor's scope (``NotFound`` otherwise,
like a task that does not exist), that the actor may act on it, and only then its state and the
other things named in the request (the engine repeats the first checks under its lock).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import signers
from engine.actors import Actor
from engine.db import UnitOfWork
from engine.errors import InvalidData, NotFound
from engine.models import HumanTask, InstanceStatus, ProcessInstance, TaskStatus
from engine.runtime import WorkflowEngine
from services.platform.case_view import get_visible_task
from services.platform.identity import actor_for, get_user
from services.platform.supervision import may_supervise

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
        # the text of NOT_A_COLLEAGUE written out: the catalogue extracts literal patterns only
        raise InvalidData("不能转交给 %(to)s：该用户不存在、已停用，或不具备办理此任务的角色或区划权限" % dict(to=to),
                          fields={"to": [NOT_A_COLLEAGUE]}) from None


def add_signers(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, task_id: str, usernames: list[str],
                mode: str, note: str = "") -> list[HumanTask]:
    """加签 (engine.signers): the people named must be active staff holding a role for the case's region
    (or a region above it) — an added task shows the case, so 加签 must not reach outside its office;
    whether an account exists, is closed, is an applicant's or is elsewhere gets one answer, as for 转交."""
    row = get_visible_task(uow.session, actor, task_id)
    people = []
    for name in dict.fromkeys(n.strip() for n in usernames if n and n.strip()):
        try:
            person = actor_for(get_user(uow.session, name))
        except NotFound:
            person = Actor(name)
        if not engine.is_staff(person, row.region_code):
            raise InvalidData("不能加签 %(name)s：只能加签本办件所在区划的在职工作人员" % dict(name=name),
                              fields={"users": [name]})
        people.append(person)
    return engine.add_signers(uow, task_id, actor, people, mode, note)


@dataclass(frozen=True)
class Actions:
    names: list[str]  # what the caller may do with the task now
    return_targets: list[tuple[str, str]]  # (BPMN id, name) of the steps 退回 may send it to


def available_actions(session: Session, engine: WorkflowEngine, actor: Actor, task_id: str) -> Actions:
    """The actions ``actor`` may take on the task now: on an open task they may act on, complete /
    claim or unclaim / delegate / cc / return (where an earlier step may take it); on an open step of a
    case they applied for or supervise, urge; on a step they did themselves, withdraw while the next
    step is untouched. The engine and the services check each again when it is taken."""
    row = session.get(HumanTask, task_id)
    instance = session.get(ProcessInstance, row.instance_id) if row is not None else None
    if row is None or instance is None or not engine.can_view(actor, instance):
        raise NotFound("任务不存在或不在您的管辖范围内")
    names: list[str] = []
    targets: list[tuple[str, str]] = []
    if row.status == TaskStatus.OPEN:
        mine = row.assignee == actor.username
        if mine and row.lane in engine.applicant_roles:  # an applicant's own step: submit it, nothing else
            names.append("complete")
        elif mine or (row.assignee is None and row.lane not in engine.applicant_roles
                    and actor.takes(row.lane, row.region_code, row.organisation_id)):
            targets = engine.return_targets(session, row)
            names += ["complete", "unclaim" if mine else "claim", "delegate", "cc", *(["return"] if targets else [])]
            if signers.signer_of(session, row.id) is None:
                names.append("add_signers")
                if signers.added_tasks(session, row.id):
                    names.append("remove_signers")
        if not mine and (instance.started_by == actor.username or may_supervise(actor, instance.region_code)):
            names.append("urge")
    elif row.status == signers.HELD and row.completed_by == actor.username and signers.added_tasks(session, row.id):
        names.append("remove_signers")
    elif row.status == TaskStatus.COMPLETED and row.completed_by == actor.username and row.decision != "return" \
            and instance.status in (InstanceStatus.RUNNING, InstanceStatus.WAITING) \
            and _next_untouched(session, row):
        names.append("withdraw")
    return Actions(names, targets)


def _next_untouched(session: Session, row: HumanTask) -> bool:
    """Nothing of the case was done after ``row`` and its open steps are unclaimed (the engine decides
    exactly, following the flow)."""
    later = session.scalars(select(HumanTask.id).where(
        HumanTask.instance_id == row.instance_id, HumanTask.id != row.id,
        (HumanTask.completed_at > row.completed_at)
        | ((HumanTask.status == TaskStatus.OPEN) & HumanTask.assignee.is_not(None)))).first()
    return later is None
