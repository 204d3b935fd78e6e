"""抄送 (carbon copy): a case sent to someone to read — a 待阅 item in their inbox, apart from 待办.

Sent by a step's property (``cc = supervisor``: when the step is completed, every holder of those roles
for the case's region gets an item) or by a reviewer's choice on an open step they may act on (named
colleagues: staff, of any region). The recipient marks it 已阅, and may open the case read-only even
outside their usual scope: the access follows the item, not the region (the data-permission clash of
yudao's users) — and only the case page, never its tasks.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.actors import Actor
from engine.db import Base, UnitOfWork, utcnow
from engine.errors import Forbidden, InvalidData, NotFound
from engine.models import HumanTask, ProcessInstance, TaskStatus
from engine.regions import parent_codes
from engine.runtime import APPLICANT_STEP, WorkflowEngine
from services.platform.identity import APPLICANT_ROLES, RoleGrant, User
from services.platform.notifications import Notifier

MAX_NOTE = 500
MAX_RECIPIENTS = 50
TEMPLATE = "carbon_copy"


class CarbonCopy(Base):
    __tablename__ = "carbon_copy"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(100), index=True)
    step: Mapped[str] = mapped_column(String(200), default="")  # the step's name it was sent from
    sent_by: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(String(MAX_NOTE), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(default=None)


@dataclass(frozen=True)
class CopyItem:
    id: int
    instance_id: int
    business_key: str
    title: str
    step: str
    sent_by: str
    note: str
    created_at: datetime
    read_at: datetime | None


def send(uow: UnitOfWork, engine: WorkflowEngine, notifier: Notifier, actor: Actor, task_id: str,
         recipients: Iterable[str], note: str) -> list[CarbonCopy]:
    """抄送 by a reviewer from an open step they may act on, to named staff (see the module's docstring)."""
    session = uow.session
    row = session.get(HumanTask, task_id)
    instance = session.get(ProcessInstance, row.instance_id) if row is not None else None
    if row is None or instance is None or not engine.can_view(actor, instance):
        raise NotFound("任务不存在或不在您的管辖范围内")
    if row.assignee != actor.username and not (row.assignee is None
                                                 and actor.takes(row.lane, row.region_code, row.organisation_id)):
        raise Forbidden("只有办理此环节的人员可以抄送")
    if row.lane in engine.applicant_roles:
        raise Forbidden(APPLICANT_STEP)
    if row.status != TaskStatus.OPEN:
        raise InvalidData("该环节已办理，不能再从这里抄送")
    names = list(dict.fromkeys(name.strip() for name in recipients if name and name.strip()))
    if not names or len(names) > MAX_RECIPIENTS:
        raise InvalidData("请选择 1 到 %(limit)s 位抄送人" % dict(limit=MAX_RECIPIENTS),
                          fields={"to": ["请选择抄送人"]})
    staff = set(session.scalars(select(User.username).join(RoleGrant).where(
        User.username.in_(names), User.active.is_(True), RoleGrant.role.not_in(APPLICANT_ROLES))))
    unknown = [name for name in names if name not in staff]
    if unknown:  # one answer whether the account is missing, closed or an applicant's
        raise InvalidData("不能抄送给 %(names)s：只能抄送给在职的工作人员" % dict(names="、".join(unknown)),
                          fields={"to": unknown})
    if len((note or "").strip()) > MAX_NOTE:
        raise InvalidData("说明不能超过 %(limit)s 字" % dict(limit=MAX_NOTE),
                          fields={"note": [f"不能超过 {MAX_NOTE} 字"]})
    return _add(uow, notifier, instance, names, row.label, actor.username, (note or "").strip())


def _add(uow: UnitOfWork, notifier: Notifier, instance: ProcessInstance, recipients: list[str], step: str,
         sent_by: str, note: str) -> list[CarbonCopy]:
    copies = [CarbonCopy(instance_id=instance.id, recipient=name, step=step, sent_by=sent_by, note=note)
              for name in recipients]
    uow.session.add_all(copies)
    uow.session.flush()
    notifier.notify(uow, recipients, TEMPLATE, {"instance": instance, "step": step, "note": note, "sent_by": sent_by},
                    instance_id=instance.id)
    return copies


def step_copies(notifier: Notifier, engine: WorkflowEngine) -> Any:
    """An engine listener: a completed step with the property ``cc`` (roles, comma separated) sends the
    case to every holder of those roles for the case's region."""

    def listener(uow: UnitOfWork, instance: ProcessInstance, events: list[dict[str, Any]]) -> None:
        for event in events:
            if event["kind"] != "task_completed":
                continue
            roles = engine.step_property(uow.session, instance, event["task_name"] or "", "cc")
            if not roles:
                continue
            wanted = [role.strip() for role in roles.split(",") if role.strip()]
            holders = list(uow.session.scalars(
                select(User.username).join(RoleGrant).where(
                    RoleGrant.role.in_(wanted), RoleGrant.region_code.in_(parent_codes(instance.region_code)),
                    User.active.is_(True)).distinct().order_by(User.username)))
            if holders:
                _add(uow, notifier, instance, holders, event["task_label"] or "", event["actor"] or "system", "")

    return listener


def may_read(session: Session, actor: Actor, instance_id: int) -> bool:
    """Whether a 抄送 item gives ``actor`` read access to the case."""
    return session.scalar(select(CarbonCopy.id).where(CarbonCopy.instance_id == instance_id,
                                                      CarbonCopy.recipient == actor.username).limit(1)) is not None


def inbox(session: Session, actor: Actor, unread_only: bool = False, limit: int = 200) -> list[CopyItem]:
    """The actor's 待阅 (unread) and 已阅 items, newest first."""
    query = (select(CarbonCopy, ProcessInstance.business_key, ProcessInstance.title)
             .join(ProcessInstance, ProcessInstance.id == CarbonCopy.instance_id)
             .where(CarbonCopy.recipient == actor.username).order_by(CarbonCopy.id.desc()).limit(limit))
    if unread_only:
        query = query.where(CarbonCopy.read_at.is_(None))
    return [CopyItem(c.id, c.instance_id, key, title, c.step, c.sent_by, c.note, c.created_at, c.read_at)
            for c, key, title in session.execute(query)]


def unread_count(session: Session, actor: Actor) -> int:
    return int(session.scalar(select(func.count()).select_from(CarbonCopy).where(
        CarbonCopy.recipient == actor.username, CarbonCopy.read_at.is_(None))) or 0)


def mark_read(uow: UnitOfWork, actor: Actor, copy_id: int) -> int:
    """已阅: only the recipient's own item (someone else's is NotFound, like a missing one); the case's id."""
    item = uow.session.get(CarbonCopy, copy_id, with_for_update=True)
    if item is None or item.recipient != actor.username:
        raise NotFound("抄送事项不存在")
    if item.read_at is None:
        item.read_at = utcnow()
    return item.instance_id
