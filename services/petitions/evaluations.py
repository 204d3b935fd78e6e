"""满意度评价 by the petitioner (004 §2.8–2.9, requirements §B2.7–B2.8): of the 信访部门 and of the
责任单位, 满意 / 基本满意 / 不满意 (with a reason), for an item in scope once it is answered, at most
twice (the latest counts), within :data:`WINDOW_DAYS` of the answer. The petitioner comes with their
account, or — for a letter or a visit — with their name and the item's 查询码; a wrong name and a
wrong code get the same answer."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import query_code
from engine.actors import Actor
from engine.db import utcnow
from engine.errors import Conflict, InvalidData, NotFound
from engine.models import ProcessInstance
from services.petitions.duplicates import normalise_name
from services.petitions.labels import ANSWERED, LEVELS, REASONS
from services.petitions.models import Evaluation, Petition

MAX_EVALUATIONS = 2  # 004 L799: 最多只能两次
WINDOW_DAYS = 30  # [DEC] §B2.8: the seed gives no window
NOT_IN_SCOPE = "该信访件不在满意度评价范围内"
NOT_ANSWERED = "该信访件尚未办结，暂不能评价"
TOO_MANY = "最多只能评价两次"
TOO_LATE = f"办结已超过 {WINDOW_DAYS} 日，评价渠道已关闭"
WRONG_CODE = "姓名或查询码不正确"
MESSAGES = (NOT_IN_SCOPE, NOT_ANSWERED, TOO_MANY, TOO_LATE, WRONG_CODE)  # the portal shows them, translated


@dataclass(frozen=True)
class Eligibility:
    allowed: bool
    message: str


def given(session: Session, petition_id: int) -> list[Evaluation]:
    return list(session.scalars(select(Evaluation).where(Evaluation.petition_id == petition_id)
                                .order_by(Evaluation.seq)))


def eligibility(session: Session, petition: Petition, now: datetime | None = None) -> Eligibility:
    """Whether the 【评价】 button is blue, and why not when it is grey (L801)."""
    now = now or utcnow()
    if petition.status not in ANSWERED or petition.replied_at is None:  # the scope is decided at 登记
        return Eligibility(False, NOT_ANSWERED)
    if not petition.in_scope:
        return Eligibility(False, NOT_IN_SCOPE)
    if (session.scalar(select(func.count()).where(Evaluation.petition_id == petition.id)) or 0) >= MAX_EVALUATIONS:
        return Eligibility(False, TOO_MANY)
    if now - petition.replied_at > timedelta(days=WINDOW_DAYS):
        return Eligibility(False, TOO_LATE)
    return Eligibility(True, "")


def own_petition(session: Session, actor: Actor, petition_id: int) -> Petition:
    """One of the petitioner's own items (NotFound for anyone else's)."""
    petition = session.get(Petition, petition_id)
    if petition is None or petition.petitioner_username is None or petition.petitioner_username != actor.username:
        raise NotFound("信访件不存在")
    return petition


def by_query_code(session: Session, name: str, code: str) -> Petition:
    """The item whose intake case carries the 查询码, when the name is its petitioner's."""
    normalised = query_code.normalise(code or "")
    petition = session.scalar(select(Petition).join(ProcessInstance, ProcessInstance.id == Petition.intake_instance_id)
                              .where(ProcessInstance.query_code == normalised)) if normalised else None
    if petition is None or normalise_name(petition.name) != normalise_name(name) or not name.strip():
        raise NotFound(WRONG_CODE)
    return petition


def evaluate(session: Session, petition: Petition, bureau_level: str, unit_level: str, reason: str = "",
             message: str = "", now: datetime | None = None) -> Evaluation:
    """提交评价. The item's row is locked first: two submissions at once give one evaluation each in
    turn, and a third is refused, never a duplicate 序次."""
    now = now or utcnow()
    problems: dict[str, list[str]] = {}
    if bureau_level not in LEVELS:
        problems["bureau_level"] = ["请选择对信访部门的评价"]
    if unit_level not in LEVELS:
        problems["unit_level"] = ["请选择对责任单位的评价"]
    dissatisfied = "dissatisfied" in (bureau_level, unit_level)
    if dissatisfied and reason not in REASONS:
        problems["reason"] = ["请选择不满意原因"]
    if len(message) > 500:
        problems["message"] = ["留言不能超过 500 字"]
    if problems:
        raise InvalidData("评价填写有误", fields=problems)
    session.execute(select(Petition.id).where(Petition.id == petition.id).with_for_update())
    verdict = eligibility(session, petition, now)
    if not verdict.allowed:
        raise Conflict(verdict.message)
    seq = (session.scalar(select(func.max(Evaluation.seq)).where(Evaluation.petition_id == petition.id)) or 0) + 1
    row = Evaluation(petition_id=petition.id, seq=seq, bureau_level=bureau_level, unit_level=unit_level,
                     reason=reason if dissatisfied else "", message=message.strip(), evaluated_at=now)
    session.add(row)
    session.flush()
    return row
