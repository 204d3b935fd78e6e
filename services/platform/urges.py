"""催办 (urge): the applicant or a supervisor presses an open step, with a message.

Who may: the case's applicant — once per working day per case (a second press the same working day is
refused with the time of the first) — and supervisors and administrators of the case's region, without
limit. The message reaches whoever holds the step (its assignee, or everyone holding its role for the
region while nobody claimed it) through the notification channels (in-app, e-mail/SMS where set up),
is shown on the task page and counted per process in the lifecycle statistics.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine import case_clock
from engine.actors import Actor
from engine.db import Base, UnitOfWork, utcnow
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.models import HumanTask, ProcessInstance, TaskStatus
from engine.runtime import WorkflowEngine
from services.platform.identity import colleagues_for
from services.platform.notifications import Notifier
from services.platform.supervision import may_supervise

MAX_MESSAGE = 500
TEMPLATE = "urge"


class TaskUrge(Base):
    __tablename__ = "task_urge"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36), index=True)
    urged_by: Mapped[str] = mapped_column(String(100))
    by_applicant: Mapped[bool] = mapped_column(default=False)
    message: Mapped[str] = mapped_column(String(MAX_MESSAGE), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class UrgeView:
    urged_by: str
    by_applicant: bool
    message: str
    created_at: datetime


def urge(uow: UnitOfWork, engine: WorkflowEngine, notifier: Notifier, actor: Actor, task_id: str,
         message: str) -> TaskUrge:
    """催办 an open step of a case (see the module's docstring for who may and how often)."""
    session = uow.session
    row = session.get(HumanTask, task_id)
    instance = session.get(ProcessInstance, row.instance_id) if row is not None else None
    if row is None or instance is None or not engine.can_view(actor, instance):
        raise NotFound("任务不存在或不在您的管辖范围内")
    applicant = instance.started_by == actor.username
    if not applicant and not may_supervise(actor, instance.region_code):
        raise Forbidden("只有申请人或督办人员可以催办")
    if row.status != TaskStatus.OPEN:
        raise Conflict("该环节已办理，无需催办")
    message = (message or "").strip()
    if len(message) > MAX_MESSAGE:
        raise InvalidData("催办内容不能超过 %(limit)s 字" % dict(limit=MAX_MESSAGE),
                          fields={"message": [f"不能超过 {MAX_MESSAGE} 字"]})
    # the case's row lock: two presses at once count as two for the daily limit, not zero
    session.scalars(select(ProcessInstance.id).where(ProcessInstance.id == instance.id).with_for_update()).all()
    now = utcnow()
    if applicant:
        last = session.scalar(select(func.max(TaskUrge.created_at)).where(
            TaskUrge.instance_id == instance.id, TaskUrge.by_applicant.is_(True)))
        if last is not None and engine.working_days(case_clock.local_day(last), case_clock.local_day(now)) < 1:
            raise Conflict("每个工作日只能催办一次（已于 %(when)s 催办），请下一个工作日再试"
                           % dict(when=(last + case_clock.CST).strftime("%m-%d %H:%M")))
    pressed = TaskUrge(instance_id=instance.id, task_id=row.id, urged_by=actor.username, by_applicant=applicant,
                       message=message, created_at=now)
    session.add(pressed)
    session.flush()
    holders = [row.assignee] if row.assignee else \
        [user.username for user in colleagues_for(session, row.lane, row.region_code, exclude="")]
    notifier.notify(uow, holders, TEMPLATE, {"task": row, "message": message, "applicant": applicant},
                    instance_id=instance.id, task_id=row.id)
    return pressed


def urges_of(session: Session, task_id: str) -> list[UrgeView]:
    """The presses on a step, oldest first (for pages that checked the user may see the step)."""
    return [UrgeView(u.urged_by, u.by_applicant, u.message, u.created_at) for u in session.scalars(
        select(TaskUrge).where(TaskUrge.task_id == task_id).order_by(TaskUrge.id))]
