"""Two direct actions on an item beside its steps (004 §6.2.5, 信访条例 §33):

- **收回** (从已办工作收回到待办): the office that 转送ed or 交办ed an item takes it back while the
  destination has not touched it (nobody opened, claimed or did its 收件). The destination's case ends
  as 已撤回; after a 转送 the item comes back as a new case of the office, straight to 办理; after a
  交办 the office's waiting case hears that it came back and returns to 办理. A 收回 of a step inside
  one case (送审 to a leader who has not acted) is the platform's 撤回 of that step.
- **延期**: a leader of the office extends the 自办 step's deadline, at most :data:`MAX_EXTENSION_DAYS`
  日 and once, with the reason, which the petitioner reads in the 办理过程.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import lifecycle
from engine.actors import SYSTEM, Actor
from engine.db import UnitOfWork
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.models import HistoryEvent, HumanTask, InstanceStatus, ProcessInstance, TaskStatus
from engine.runtime import WorkflowEngine
from services.petitions.handling import DEFAULT_DEADLINE_DAYS, HANDLING
from services.petitions.intake import search_text
from services.petitions.models import HandlingRecord, Petition
from services.platform import organisations
from services.platform.applicant_actions import staff_has_begun

MAX_EXTENSION_DAYS = 30  # 信访条例 §33: 延长期限不得超过30日
SELF_HANDLING = "self_handle"
TOUCHED = "对方已开始办理，不能收回"


def _onward(session: Session, petition: Petition) -> tuple[HandlingRecord, ProcessInstance] | None:
    """The item's last 转送/交办 and the destination's case it started, while that case runs."""
    record = session.scalar(select(HandlingRecord).where(
        HandlingRecord.petition_id == petition.id, HandlingRecord.mode.in_(("transfer", "assign")))
        .order_by(HandlingRecord.id.desc()).limit(1))
    if record is None or record.destination_id is None:
        return None
    child = session.scalar(select(ProcessInstance).where(
        ProcessInstance.business_key == petition.number, ProcessInstance.process_key == HANDLING,
        ProcessInstance.organisation_id == record.destination_id, ProcessInstance.started_at >= record.handled_at,
        ProcessInstance.status.in_((InstanceStatus.RUNNING, InstanceStatus.WAITING))).order_by(
        ProcessInstance.id.desc()).limit(1))
    return (record, child) if child is not None else None


def may_recall(session: Session, actor: Actor, petition: Petition) -> bool:
    found = _onward(session, petition)
    return found is not None and organisations.works_at(actor, found[0].organisation_id, ("xf_handler",)) \
        and not staff_has_begun(session, found[1])


def recall(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, petition_id: int, reason: str) -> Petition:
    """收回 (see the module docstring); Conflict once the destination has begun."""
    session = uow.session
    petition = session.get(Petition, petition_id)
    found = _onward(session, petition) if petition is not None else None
    if petition is None or found is None:
        raise NotFound("没有可以收回的转送或交办")
    record, child = found
    if not organisations.works_at(actor, record.organisation_id, ("xf_handler",)):
        raise Forbidden("只有转送、交办单位的信访件处理岗可以收回")

    def untouched(locked: ProcessInstance) -> None:
        if staff_has_begun(session, locked):
            raise Conflict(TOUCHED)

    engine.terminate(uow, child.id, actor, f"来件单位收回：{reason}".rstrip("：") if reason else "来件单位收回",
                     ending=lifecycle.WITHDRAWN, allowed=untouched)
    sender = organisations.get(session, record.organisation_id)
    session.add(HandlingRecord(petition_id=petition.id, instance_id=child.id, organisation_id=sender.id,
                               mode="recall", destination_id=record.destination_id, opinion=reason.strip()[:500],
                               handled_by=actor.username))
    petition.status, petition.responsible_org_id = "registered", sender.id
    if record.mode == "assign":
        engine.send_message(uow, record.instance_id, "xf_report", {
            "kind": "returned", "text": "已收回", "child_instance_id": child.id,
            "organisation": sender.name}, actor)
    else:
        engine.start(uow, HANDLING, business_key=petition.number, region_code=sender.region_code,
                     organisation_id=sender.id, actor=SYSTEM, submitter=petition.name,
                     search_text=search_text(petition),
                     data={"via": "recalled", "petition_id": petition.id, "title": petition.title,
                           "name": petition.name, "place_address": petition.place_address,
                           "sender_org_id": sender.id, "parent_instance_id": None,
                           "deadline_days": DEFAULT_DEADLINE_DAYS})
    return petition


def extend(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, task_id: str, days: int, reason: str) -> HumanTask:
    """延期 of an open 自办 step by a leader of its office (see the module docstring)."""
    session = uow.session
    row = session.get(HumanTask, task_id)
    if row is None or row.name != SELF_HANDLING or row.organisation_id is None:
        raise NotFound("任务不存在")
    if not organisations.works_at(actor, row.organisation_id, ("leader",)):
        raise Forbidden("只有本单位领导可以批准延期")
    if row.status != TaskStatus.OPEN:
        raise Conflict("任务已办理，不能延期")
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise InvalidData("延期不能超过 %(days)s 日" % dict(days=MAX_EXTENSION_DAYS),
                          fields={"days": [f"1 到 {MAX_EXTENSION_DAYS} 日"]})
    if session.scalar(select(HistoryEvent.id).where(HistoryEvent.instance_id == row.instance_id,
                                                    HistoryEvent.kind == "task_extended").limit(1)) is not None:
        raise Conflict("自办期限只能延期一次")
    if row.due_at is None:
        raise Conflict("该环节没有办理期限")
    extended = engine.extend_task(uow, task_id, actor, row.due_at + timedelta(days=days), reason)
    petition = session.scalar(select(Petition).where(Petition.number == row.business_key))
    if petition is not None:
        session.add(HandlingRecord(petition_id=petition.id, instance_id=row.instance_id,
                                   organisation_id=row.organisation_id, mode="extend",
                                   opinion=f"延期 {days} 日：{reason.strip()}", handled_by=actor.username))
    return extended
