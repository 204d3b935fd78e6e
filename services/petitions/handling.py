"""信访件办理 (004 §6.1–6.2, requirements §B6): what an organisation does with an item, as the steps of
``xf_handling`` — one case per organisation the item reaches (§B17.2: a chain, linked by the
信访件编号 and, for a 交办, the parent case).

The 办理 step's choice is checked here before it is taken (``check_handling``): 转送 and 交办 only to
a lower or directly subordinate organisation (the children in the routing tree), 告知 only by the
责任单位, 自办 only after one's own 受理告知书, 报告 only on an item 交办ed here, 送审 only to a leader
of the office. The service tasks then record the 办理记录 and move the item: a 转送 or 交办 starts the
destination's case, a 报告 messages the 交办 office's waiting case, 汇报审阅 answers the child — each in
the same transaction as the step that caused it (``UnitOfWork.before_commit``), so an item is never
sent without its record nor recorded without being sent.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actors import SYSTEM, Actor
from engine.db import UnitOfWork, utcnow
from engine.errors import InvalidData
from engine.models import HumanTask, ProcessInstance
from engine.operators import OperatorContext, OperatorError, OperatorRegistry
from engine.runtime import WorkflowEngine
from services.petitions import reviews
from services.petitions.intake import (
    INTAKES,
    REGISTER_STEP,
    by_number,
    check_registration,
    save_registration,
    search_text,
)
from services.petitions.labels import MODES
from services.petitions.models import HandlingRecord, Petition
from services.platform import organisations
from services.platform.organisations import Organisation

HANDLING = "xf_handling"
HANDLE_STEP = "handle"
DEFAULT_DEADLINE_DAYS = 60  # 信访条例 §33; the 交办 office may set its own
ONWARD = ("transfer", "assign")
NOTICES = {"notice_accept": "accepted", "notice_refuse": "not_accepted", "notice_no_more": "not_reaccepted"}
NOT_SUBORDINATE = "去向机构只能选择下级或直属单位"
NOT_RESPONSIBLE = "只有责任单位为本单位的信访件才能出具告知书"
NOT_ACCEPTED = "请先出具受理告知书"
NOT_ASSIGNED = "只有交办来的信访件才能报告办理结果"
NO_LEADER = "请选择本单位的领导送审"


def destinations(session: Session, organisation_id: int) -> list[Organisation]:
    return organisations.children(session, organisation_id)


def default_destination(session: Session, organisation_id: int, place_region: str) -> Organisation | None:
    """去向 by the 问题属地: the child whose region is the place's, or contains it (L1060)."""
    children = destinations(session, organisation_id)
    for candidate in (place_region, place_region[:4] + "00"):
        found = next((o for o in children if o.region_code == candidate), None)
        if found is not None:
            return found
    return None


def accepted_here(session: Session, petition: Petition, organisation_id: int) -> bool:
    return session.scalar(select(HandlingRecord.id).where(
        HandlingRecord.petition_id == petition.id, HandlingRecord.organisation_id == organisation_id,
        HandlingRecord.mode == "notice_accept").limit(1)) is not None


def check_handling(session: Session, engine: WorkflowEngine, instance: ProcessInstance,
                   step_data: Callable[[], dict[str, Any]], cleaned: dict[str, Any]) -> dict[str, Any]:
    """The rules of one 办理 choice at the case's organisation (see the module docstring)."""
    organisation_id = instance.organisation_id
    if organisation_id is None:
        raise InvalidData("办件不属于任何机构，不能办理")
    petition = by_number(session, instance.business_key)
    mode = str(cleaned.get("mode") or "")
    if mode not in MODES:
        raise InvalidData("请选择办理方式", fields={"mode": ["请选择办理方式"]})
    added: dict[str, Any] = {"leader_username": None}
    if mode in ONWARD:
        destination = str(cleaned.get("destination") or "")
        if not destination:
            raise InvalidData("请选择去向机构", fields={"destination": ["请选择去向机构"]})
        if destination not in {str(o.id) for o in destinations(session, organisation_id)}:
            raise InvalidData(NOT_SUBORDINATE, fields={"destination": [NOT_SUBORDINATE]})
        added["deadline_days"] = int(cleaned.get("deadline_days") or DEFAULT_DEADLINE_DAYS)
    if mode in NOTICES and petition.responsible_org_id != organisation_id:
        raise InvalidData(NOT_RESPONSIBLE, fields={"mode": [NOT_RESPONSIBLE]})
    if mode == "self" and not accepted_here(session, petition, organisation_id):
        raise InvalidData(NOT_ACCEPTED, fields={"mode": [NOT_ACCEPTED]})
    # the step's data (how the case came) is read only for 报告: loading it costs a workflow load
    if mode == "report" and step_data().get("via") != "assign":
        raise InvalidData(NOT_ASSIGNED, fields={"mode": [NOT_ASSIGNED]})
    if mode == "submit_review":
        leader = str(cleaned.get("leader_username") or "")
        if leader not in {name for name, _ in organisations.holders(session, organisation_id, "leader")}:
            raise InvalidData(NO_LEADER, fields={"leader_username": [NO_LEADER]})
        added["leader_username"] = leader
    if mode == "reply" and not str(cleaned.get("reply") or "").strip():
        raise InvalidData("请填写答复内容", fields={"reply": ["请填写答复内容"]})
    if mode in reviews.LEVEL_OF_MODE:
        added.update(reviews.check_request(session, engine, petition, mode))
    return added


def check_people(session: Session, instance: ProcessInstance, row: HumanTask, cleaned: dict[str, Any]) -> None:
    """Whom a 复查/复核 step names must hold the post at the office: the 办理人 a leader assigns, the
    leader the 意见书 goes to for 签发."""
    here = instance.organisation_id
    named = {"assign_handler": ("review_handler", "xf_handler", "请选择本单位的信访件处理岗人员"),
             "draft": ("leader_username", "leader", NO_LEADER)}.get(row.name)
    if named is None or here is None:
        return
    key, post, message = named
    if str(cleaned.get(key) or "") not in {name for name, _ in organisations.holders(session, here, post)}:
        raise InvalidData(message, fields={key: [message]})


class Handling:
    """The operators of ``xf_handling`` and the intake steps, bound to the engine and the notifier
    (a step's effect on another case runs through the engine, in the same transaction)."""

    def __init__(self, engine: WorkflowEngine, notifier: Any) -> None:
        self.engine = engine
        self.notifier = notifier

    def register(self, registry: OperatorRegistry) -> None:
        registry.register("xf.register", self.registered, example={"status": "registered", "matter_id": 1})
        registry.register("xf.handle", self.handle, example={"mode": "file", "record_id": 1})
        registry.register("xf.return_item", self.return_item, example={"returned_to": 1})
        registry.register("xf.reply", self.reply, example={"status": "replied"})
        registry.register("xf.review_report", self.review_report, example={"accepted": True})
        registry.register("xf.urge", self.urge, example={"notified": 1})
        registry.register("xf.interviewed", self.interviewed, example={"record_id": 1})
        registry.register("xf.defence_notice", reviews.defence_notice, example={"original_org_id": 1})
        registry.register("xf.review_served", reviews.served, example={"stage": "recheck_done"})

    # ------------------------------------------------------------------ operators
    def registered(self, ctx: OperatorContext) -> dict[str, Any]:
        petition = save_registration(ctx.session, ctx.business_key, ctx.data, utcnow())
        return {"status": petition.status, "matter_id": petition.matter_id}

    def interviewed(self, ctx: OperatorContext) -> dict[str, Any]:
        """来访接谈 设为已办: the 接谈 notes are the item's first 办理记录; a corrected 投诉内容 replaces it."""
        session, data = ctx.session, ctx.data
        instance = _instance(session, ctx.instance_id)
        petition = by_number(session, ctx.business_key)
        if str(data.get("content") or "").strip():
            petition.content = str(data["content"]).strip()
        assert instance.organisation_id is not None
        record = HandlingRecord(petition_id=petition.id, instance_id=instance.id,
                                organisation_id=instance.organisation_id, mode="interview",
                                opinion=str(data.get("interview_notes") or ""), handled_by=ctx.actor)
        session.add(record)
        session.flush()
        return {"record_id": record.id}

    def handle(self, ctx: OperatorContext) -> dict[str, Any]:
        """记录办理: the 办理记录 of the step just completed, and what it does to the item."""
        session, data = ctx.session, ctx.data
        instance = _instance(session, ctx.instance_id)
        petition = by_number(session, ctx.business_key)
        mode = str(data.get("mode"))
        here = instance.organisation_id
        assert here is not None  # check_handling refused a case without one
        destination = session.get(Organisation, int(data["destination"])) if mode in ONWARD else None
        record = HandlingRecord(petition_id=petition.id, instance_id=instance.id, organisation_id=here, mode=mode,
                                destination_id=destination.id if destination else None,
                                opinion=str(data.get("opinion") or data.get("reply") or ""),
                                handled_by=ctx.actor)
        session.add(record)
        session.flush()
        if destination is not None:
            petition.status = "transferred" if mode == "transfer" else "assigned"
            petition.responsible_org_id = destination.id
            ctx.before_commit(self._start_at(destination, petition, via=mode, sender_id=here,
                                             parent_id=instance.id if mode == "assign" else None,
                                             deadline_days=int(data.get("deadline_days") or DEFAULT_DEADLINE_DAYS)))
        elif mode in NOTICES:
            petition.status = NOTICES[mode]
            if mode != "notice_accept":
                petition.reply, petition.replied_at = record.opinion, utcnow()
        elif mode == "self":
            petition.status = "handling"
        elif mode == "file":
            petition.status = "filed"
        elif mode == "reply":
            petition.status, petition.reply, petition.replied_at = "replied", str(data["reply"]), utcnow()
        elif mode in reviews.LEVEL_OF_MODE:
            petition.status = "in_review"
            review = {"via": "review", "petition_id": petition.id, "title": petition.title, "name": petition.name,
                      "place_address": petition.place_address, "level": data.get("level"),
                      "original_org_id": data.get("original_org_id")}
            office = session.get(Organisation, here)
            assert office is not None
            ctx.before_commit(lambda uow: self.engine.start(
                uow, reviews.PROCESS, business_key=petition.number, region_code=office.region_code,
                organisation_id=office.id, data=review, actor=SYSTEM, submitter=petition.name,
                search_text=search_text(petition)))
        elif mode == "report":
            petition.status = "reported"
            parent_id = int(data["parent_instance_id"])
            payload = {"kind": "report", "text": record.opinion, "child_instance_id": instance.id,
                       "organisation": _name(session, here)}
            ctx.before_commit(lambda uow: self.engine.send_message(uow, parent_id, "xf_report", payload))
        return {"mode": mode, "record_id": record.id}

    def return_item(self, ctx: OperatorContext) -> dict[str, Any]:
        """收件 退回: a mis-routed item goes back to its sender with the reason."""
        session, data = ctx.session, ctx.data
        instance = _instance(session, ctx.instance_id)
        petition = by_number(session, ctx.business_key)
        sender = session.get(Organisation, int(data.get("sender_org_id") or 0))
        if sender is None:  # the office that sent it has left the register: the supervisor must decide
            raise OperatorError("来件单位不存在（可能已撤并），无法退回，请由督办人员处理")
        sender_id = sender.id
        reason = str(data.get("conclusion") or "")
        assert instance.organisation_id is not None
        session.add(HandlingRecord(petition_id=petition.id, instance_id=instance.id,
                                   organisation_id=instance.organisation_id, mode="return", destination_id=sender_id,
                                   opinion=reason, handled_by=ctx.actor))
        petition.status, petition.responsible_org_id = "returned", sender_id
        if data.get("via") == "assign":
            parent_id = int(data["parent_instance_id"])
            payload = {"kind": "returned", "text": reason, "child_instance_id": instance.id,
                       "organisation": _name(session, instance.organisation_id)}
            ctx.before_commit(lambda uow: self.engine.send_message(uow, parent_id, "xf_report", payload))
        else:
            ctx.before_commit(self._start_at(sender, petition, via="returned", sender_id=instance.organisation_id,
                                             parent_id=None, deadline_days=DEFAULT_DEADLINE_DAYS))
        return {"returned_to": sender_id}

    def reply(self, ctx: OperatorContext) -> dict[str, Any]:
        """自办's 处理意见: the answer the petitioner reads; the item is 办结."""
        petition = by_number(ctx.session, ctx.business_key)
        petition.status, petition.reply, petition.replied_at = "replied", str(ctx.data.get("reply") or ""), utcnow()
        return {"status": petition.status}

    def review_report(self, ctx: OperatorContext) -> dict[str, Any]:
        """汇报审阅: accepted, the report is the item's answer and both cases end; returned, the child
        handles it again and this case waits for its next report."""
        session, data = ctx.session, ctx.data
        instance = _instance(session, ctx.instance_id)
        petition = by_number(session, ctx.business_key)
        report = data.get("report") or {}
        accepted = data.get("decision") != "return"
        assert instance.organisation_id is not None
        session.add(HandlingRecord(petition_id=petition.id, instance_id=instance.id,
                                   organisation_id=instance.organisation_id,
                                   mode="accept_report" if accepted else "return_report",
                                   opinion=str(data.get("conclusion") or ""), handled_by=ctx.actor))
        if accepted:
            petition.status, petition.reply, petition.replied_at = "replied", str(report.get("text") or ""), utcnow()
            petition.responsible_org_id = instance.organisation_id
        else:
            petition.status = "assigned"
        child_id = int(report["child_instance_id"])
        answer = {"accepted": accepted, "reason": str(data.get("conclusion") or "")}
        ctx.before_commit(lambda uow: self.engine.send_message(uow, child_id, "xf_report_reviewed", answer))
        return {"accepted": accepted}

    def urge(self, ctx: OperatorContext) -> dict[str, Any]:
        """督办提醒 at the 交办 deadline: the handlers of the destination and of this office are told."""
        session = ctx.session
        petition = by_number(session, ctx.business_key)
        instance = _instance(session, ctx.instance_id)
        people = [name for org in {petition.responsible_org_id, instance.organisation_id} if org is not None
                  for name, _ in organisations.holders(session, org, "xf_handler")]
        task = {"business_key": petition.number, "label": "交办办理（已到期）"}
        if self.notifier is not None and people:
            message = f"交办的信访件“{petition.title}”已到办理期限，请尽快报告办理结果"
            ctx.before_commit(lambda uow: self.notifier.notify(
                uow, people, "urge", {"task": task, "applicant": False, "message": message}, instance_id=instance.id))
        return {"notified": len(people)}

    # ------------------------------------------------------------------ the destination's case
    def _start_at(self, destination: Organisation, petition: Petition, *, via: str, sender_id: int,
                  parent_id: int | None, deadline_days: int) -> Callable[[UnitOfWork], None]:
        data = {"via": via, "petition_id": petition.id, "title": petition.title, "name": petition.name,
                "place_address": petition.place_address, "sender_org_id": sender_id,
                "parent_instance_id": parent_id, "deadline_days": deadline_days}

        def start(uow: UnitOfWork) -> None:
            self.engine.start(uow, HANDLING, business_key=petition.number, region_code=destination.region_code,
                              organisation_id=destination.id, data=data, actor=SYSTEM,
                              submitter=_name(uow.session, sender_id), search_text=search_text(petition))
        return start


def _instance(session: Session, instance_id: int) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise OperatorError("办件不存在")
    return instance


def _name(session: Session, organisation_id: int | None) -> str:
    organisation = session.get(Organisation, organisation_id) if organisation_id is not None else None
    return organisation.name if organisation is not None else ""


def records(session: Session, petition_id: int) -> list[tuple[HandlingRecord, str, str]]:
    """The item's 办理记录 in order, with the organisation's and the destination's names."""
    rows = session.execute(select(HandlingRecord).where(HandlingRecord.petition_id == petition_id)
                           .order_by(HandlingRecord.handled_at, HandlingRecord.id)).scalars().all()
    names = {o.id: o.name for o in session.scalars(select(Organisation).where(Organisation.id.in_(
        {r.organisation_id for r in rows} | {r.destination_id for r in rows if r.destination_id})))}
    return [(r, names.get(r.organisation_id, ""), names.get(r.destination_id or 0, "")) for r in rows]


def task_rules(engine: WorkflowEngine) -> Callable[[Session, ProcessInstance, HumanTask, Actor, dict[str, Any]],
                                                   dict[str, Any]]:
    """The engine's task check for the petition steps (``WorkflowEngine.task_checks``)."""

    def check(session: Session, instance: ProcessInstance, row: HumanTask, actor: Actor,
              cleaned: dict[str, Any]) -> dict[str, Any]:
        if row.process_key in INTAKES and row.name == REGISTER_STEP:
            return check_registration(session, engine, instance, row, actor, cleaned)
        if row.name == HANDLE_STEP and row.form_key == "xf_handling":
            return check_handling(session, engine, instance, lambda: engine.task_data(session, row.id), cleaned)
        if row.process_key == reviews.PROCESS:
            check_people(session, instance, row, cleaned)
        return {}
    return check
