"""What an applicant may do with a running case of their own, besides its steps (补正 is a step in the
applicant's lane, assigned to the case's applicant by the engine).

撤销 (cancel): once the office has begun, the applicant may still call the application off — with a
reason, while the case runs (no decision has ended it) — and it ends as 已撤销; the office sees the
reason in the history. Both end every open step and timer and run the module's termination hook.

撤回 (withdraw): the applicant takes the application back while no member of staff has opened it yet —
the rule of the petition manual, applied to every process: once staff opened the case page or a task
of it (``ProcessInstance.staff_opened_at``) or took or did one of its steps, the office is working on it
and only the office may end it (终止). The check runs on the locked row inside the ending transaction,
and opening bumps the row's version, so a withdrawal racing the first opening either wins or is refused
— never both.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import lifecycle
from engine.actors import Actor
from engine.db import UnitOfWork
from engine.errors import Conflict, Forbidden, InvalidData
from engine.models import HumanTask, InstanceStatus, ProcessInstance
from engine.runtime import WorkflowEngine

MAX_REASON = 500
OPENED = "工作人员已开始办理，不能撤回；如需终止办理，请联系办理机关"


def staff_has_begun(session: Session, instance: ProcessInstance) -> bool:
    """Whether staff opened the case or took or did one of its steps (someone other than its applicant)."""
    if instance.staff_opened_at is not None:
        return True
    touched = select(HumanTask.id).where(
        HumanTask.instance_id == instance.id,
        ((HumanTask.assignee.is_not(None)) & (HumanTask.assignee != instance.started_by))
        | ((HumanTask.completed_by.is_not(None)) & (HumanTask.completed_by != instance.started_by))).limit(1)
    return session.scalar(touched) is not None


def may_withdraw(session: Session, actor: Actor, instance: ProcessInstance) -> bool:
    return (instance.started_by == actor.username
            and instance.status in (InstanceStatus.RUNNING, InstanceStatus.WAITING)
            and not staff_has_begun(session, instance))


def withdraw(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, instance_id: int, reason: str) -> ProcessInstance:
    """撤回 by the applicant (see the module docstring); every open step and timer ends, the module's
    termination hook runs, the 办件状态 becomes 已撤回."""
    instance = engine.get_instance(uow.session, instance_id, actor)  # NotFound outside the actor's scope
    if instance.started_by != actor.username:
        raise Forbidden("只有申请人本人可以撤回申请")
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise InvalidData("撤回原因不能超过 %(limit)s 字" % dict(limit=MAX_REASON),
                          fields={"reason": [f"不能超过 {MAX_REASON} 字"]})

    def not_yet_opened(locked: ProcessInstance) -> None:
        if staff_has_begun(uow.session, locked):
            raise Conflict(OPENED)

    return engine.terminate(uow, instance_id, actor, f"申请人撤回：{reason}" if reason else "申请人撤回",
                            ending=lifecycle.WITHDRAWN, allowed=not_yet_opened)


def may_cancel(session: Session, actor: Actor, instance: ProcessInstance) -> bool:
    """撤销 is offered once 撤回 no longer is, while the case runs."""
    return (instance.started_by == actor.username
            and instance.status in (InstanceStatus.RUNNING, InstanceStatus.WAITING)
            and staff_has_begun(session, instance))


def cancel(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, instance_id: int, reason: str) -> ProcessInstance:
    """撤销 by the applicant: a running case ends as 已撤销, with the reason required."""
    instance = engine.get_instance(uow.session, instance_id, actor)
    if instance.started_by != actor.username:
        raise Forbidden("只有申请人本人可以撤销申请")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidData("请填写撤销原因", fields={"reason": ["请填写撤销原因"]})
    if len(reason) > MAX_REASON:
        raise InvalidData("撤销原因不能超过 %(limit)s 字" % dict(limit=MAX_REASON),
                          fields={"reason": [f"不能超过 {MAX_REASON} 字"]})
    return engine.terminate(uow, instance_id, actor, f"申请人撤销：{reason}", ending=lifecycle.CANCELLED)


def note_staff_opened(engine: WorkflowEngine, unit_of_work: UnitOfWork, actor: Actor,
                      instance: ProcessInstance) -> None:
    """Record, in a transaction of its own, that staff of the case first opened it: of its region, or
    — for a case at an organisation — holding a post there (an upper office reading the case does not
    take it out of its sender's hands: 收回 stays possible)."""
    handling = instance.organisation_id in actor.organisations if instance.organisation_id is not None \
        else engine.is_staff(actor, instance.region_code)
    if instance.staff_opened_at is None and handling:
        with unit_of_work as work:
            engine.mark_opened(work, instance.id)
            work.commit()
