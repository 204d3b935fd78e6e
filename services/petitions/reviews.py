"""复查 / 复核 (004 ch.7, requirements §B8; 信访条例 §34–35): a petitioner who does not accept an
office's 处理意见 asks the office above for a 复查 within the window the process declares
(``requestWindow`` of ``xf_review``), and one who does not accept the 复查意见 asks for a 复核; after a
复核 the same matter is no longer accepted (不再受理).

The request arrives as a new item, linked by 判重 to its matter; its handler chooses 提交复查 or
提交复核 (:func:`check_request` decides whether that may be), and the ``xf_review`` case starts at the
same office, the original office answering its 答辩通知 with a step of its own (the step's
``organisation`` property)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.db import UnitOfWork, utcnow
from engine.definitions import latest_definition, parse_due_rule
from engine.errors import Forbidden, InvalidData, NotFound
from engine.models import ProcessInstance
from engine.operators import OperatorContext, OperatorError
from engine.runtime import WorkflowEngine
from services.petitions.models import HandlingRecord, Petition, PetitionMatter
from services.platform import organisations

PROCESS = "xf_review"
LEVEL_OF_MODE = {"submit_recheck": "recheck", "submit_final": "final"}
DONE_STAGE = {"recheck": "recheck_done", "final": "final_done"}
NOT_LINKED = "请先判重关联相同信访事项：复查、复核针对已有处理意见的信访事项"
NO_ANSWER = "该信访事项尚无处理意见，不能提交复查"
NOT_RECHECKED = "该信访事项尚未复查办结，不能提交复核"
FINAL = "该信访事项已经复核终结，同一事实和理由的诉求不再受理"


def request_window_days(session: Session, engine: WorkflowEngine) -> int:
    definition = latest_definition(session, PROCESS)
    if definition is None:
        raise InvalidData("复查复核流程未部署")
    amount, _unit = parse_due_rule(engine.specs.get(session, definition.id).properties.get("requestWindow")
                                   or "30 days")
    return amount


def check_request(session: Session, engine: WorkflowEngine, petition: Petition, mode: str) -> dict[str, Any]:
    """Whether the item may go to 复查 (``submit_recheck``) or 复核 (``submit_final``), and the case's data:
    the level and the original office (the one that gave the answer asked against)."""
    level = LEVEL_OF_MODE[mode]
    matter = session.get(PetitionMatter, petition.matter_id) if petition.matter_id is not None else None
    if matter is None or petition.first:
        raise InvalidData(NOT_LINKED, fields={"mode": [NOT_LINKED]})
    if matter.stage == "final_done":
        raise InvalidData(FINAL, fields={"mode": [FINAL]})
    if level == "final" and matter.stage != "recheck_done":
        raise InvalidData(NOT_RECHECKED, fields={"mode": [NOT_RECHECKED]})
    answered = session.scalar(select(Petition).where(
        Petition.matter_id == matter.id, Petition.id != petition.id, Petition.status == "replied",
        Petition.replied_at.is_not(None)).order_by(Petition.replied_at.desc()).limit(1))
    if answered is None or answered.replied_at is None:
        raise InvalidData(NO_ANSWER, fields={"mode": [NO_ANSWER]})
    days = request_window_days(session, engine)
    if utcnow() - answered.replied_at > timedelta(days=days):
        late = f"已超过申请期限（收到{'处理' if level == 'recheck' else '复查'}意见之日起 {days} 日）"
        raise InvalidData(late, fields={"mode": [late]})
    return {"level": level, "original_org_id": answered.responsible_org_id}


def defence_notice(ctx: OperatorContext) -> dict[str, Any]:
    """答辩通知: recorded; the original office's 提交答辩 step follows (its handlers see it in their inbox)."""
    petition = _petition(ctx)
    instance_org = _organisation(ctx)
    original = int(ctx.data["original_org_id"])
    ctx.session.add(HandlingRecord(petition_id=petition.id, instance_id=ctx.instance_id, organisation_id=instance_org,
                                   mode="defence_notice", destination_id=original, opinion="", handled_by=ctx.actor))
    return {"original_org_id": original}


def served(ctx: OperatorContext) -> dict[str, Any]:
    """送达意见书 → 审核办结: the 意见书 is the item's answer; the matter has been 复查ed (or 复核ed: final)."""
    petition = _petition(ctx)
    level = str(ctx.data.get("level") or "recheck")
    petition.status, petition.reply, petition.replied_at = "replied", str(ctx.data.get("opinion") or ""), utcnow()
    if petition.matter_id is not None:
        matter = ctx.session.get(PetitionMatter, petition.matter_id)
        if matter is not None:
            matter.stage = DONE_STAGE.get(level, "recheck_done")
    ctx.session.add(HandlingRecord(petition_id=petition.id, instance_id=ctx.instance_id,
                                   organisation_id=_organisation(ctx), mode="review_served",
                                   opinion=str(ctx.data.get("opinion") or ""), handled_by=ctx.actor))
    return {"stage": DONE_STAGE.get(level, "recheck_done")}


def _petition(ctx: OperatorContext) -> Petition:
    petition = ctx.session.scalar(select(Petition).where(Petition.number == ctx.business_key))
    if petition is None:
        raise OperatorError("信访件不存在")
    return petition


def _organisation(ctx: OperatorContext) -> int:
    instance = ctx.session.get(ProcessInstance, ctx.instance_id)
    if instance is None or instance.organisation_id is None:
        raise OperatorError("办件不属于任何机构")
    return instance.organisation_id


# ---------------------------------------------------------------------- 发起中止, 中止重新发起, 发起终止 (7.37–7.39)
def _led_review(session: Session, engine: WorkflowEngine, actor: Actor, instance_id: int) -> ProcessInstance:
    instance = engine.get_instance(session, instance_id, actor)  # NotFound outside the actor's scope
    if instance.process_key != PROCESS or instance.organisation_id is None:
        raise NotFound("复查复核办件不存在")
    if not organisations.works_at(actor, instance.organisation_id, ("leader",)):
        raise Forbidden("只有复查（复核）机关的领导可以中止、恢复或终止")
    return instance


def suspend(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, instance_id: int, reason: str) -> ProcessInstance:
    """发起中止: the 30 日 stand still (a question another body must answer first) until 恢复."""
    _led_review(uow.session, engine, actor, instance_id)
    if not reason.strip():
        raise InvalidData("请填写中止原因", fields={"reason": ["请填写中止原因"]})
    return engine.pause_clock(uow, instance_id, actor, reason.strip()[:500])


def resume(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, instance_id: int) -> ProcessInstance:
    """中止重新发起: the clock runs again; the days it stood still move the due date."""
    _led_review(uow.session, engine, actor, instance_id)
    return engine.resume_clock(uow, instance_id, actor, "中止重新发起")


def terminate(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, instance_id: int, reason: str) -> ProcessInstance:
    """发起终止: the 复查/复核 ends without an opinion (withdrawn by the petitioner, the matter gone), with
    the reason; the item is answered by that reason."""
    instance = _led_review(uow.session, engine, actor, instance_id)
    if not reason.strip():
        raise InvalidData("请填写终止原因", fields={"reason": ["请填写终止原因"]})
    ended = engine.terminate(uow, instance_id, actor, f"发起终止：{reason.strip()[:480]}")
    petition = uow.session.scalar(select(Petition).where(Petition.number == instance.business_key))
    if petition is not None:
        petition.status, petition.reply, petition.replied_at = "replied", f"复查复核终止：{reason.strip()}", utcnow()
        uow.session.add(HandlingRecord(petition_id=petition.id, instance_id=instance_id,
                                       organisation_id=instance.organisation_id, mode="review_terminated",
                                       opinion=reason.strip()[:500], handled_by=actor.username))
    return ended
