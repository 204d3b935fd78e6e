"""好差评: the applicant rates the handling of their case after it ends, in the five grades of the national
government-service evaluation (非常满意 … 非常不满意), with a comment.

Who may rate is decided twice. The rater is the case's applicant — checked here, because it is
authorization. When and how often is the officials' rule and lives in the DMN table ``rating_rules``
(processes/platform/rating_rules.dmn): its inputs are the case's process and 办件状态, the working days
since it ended and the ratings it already has; its outputs ``allowed`` and ``message`` (why not). A
new version of that file changes the rule without a release.

A 差评 (不满意 or 非常不满意) starts the process ``rating_followup`` in the case's region: a supervisor
核实 → 整改 → 反馈; the applicant sees its state and, once answered, the 反馈 on the rated case.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine import case_clock
from engine.actors import SYSTEM, Actor
from engine.db import Base, UnitOfWork, utcnow
from engine.errors import Conflict, Forbidden, InvalidData
from engine.models import HistoryEvent, ProcessInstance
from engine.runtime import WorkflowEngine

RULES = "rating_rules"
FOLLOW_UP = "rating_followup"
GRADES = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
POOR = 2  # this grade and below are 差评
MAX_COMMENT = 500


class CaseRating(Base):
    __tablename__ = "case_rating"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    rated_by: Mapped[str] = mapped_column(String(100))
    grade: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(String(MAX_COMMENT), default="")
    rated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the 差评's 核实 → 整改 → 反馈 case (rating_followup), None for a good rating
    followup_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), default=None)


@dataclass(frozen=True)
class Eligibility:
    allowed: bool
    message: str  # why not, in the applicant's words (from the DMN table)


@dataclass(frozen=True)
class RatingView:
    grade: int
    grade_label: str
    comment: str
    rated_at: datetime
    followup_status: str | None  # the follow-up case's engine status, None without one
    feedback: str | None  # the supervisor's 反馈 once given


def eligibility(session: Session, engine: WorkflowEngine, actor: Actor, instance: ProcessInstance,
                now: datetime) -> Eligibility:
    """Whether ``actor`` may rate the case now (the applicant only; the rest is the DMN table's)."""
    if instance.started_by != actor.username:
        return Eligibility(False, "只有申请人可以评价")
    ended = instance.ended_at or now  # a running case: the table refuses it by its status
    given = session.scalar(select(func.count()).select_from(CaseRating).where(CaseRating.instance_id == instance.id))
    outcome = engine.decide(session, RULES, {
        "process_key": instance.process_key, "case_status": instance.case_status, "ratings_given": int(given or 0),
        "working_days_since_end": engine.working_days(case_clock.local_day(ended), case_clock.local_day(now))})
    return Eligibility(bool(outcome.get("allowed")), str(outcome.get("message") or "") or "目前不能评价")


def rate(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, instance_id: int, grade: int,
         comment: str) -> CaseRating:
    """Record the applicant's rating; a 差评 starts its follow-up case in the same transaction."""
    session = uow.session
    instance = engine.get_instance(session, instance_id, actor)  # NotFound outside the actor's scope
    if instance.started_by != actor.username:
        raise Forbidden("只有申请人可以评价")
    if grade not in GRADES:
        raise InvalidData("请选择评价等级", fields={"grade": ["请选择评价等级（1 到 5）"]})
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidData("评价内容不能超过 %(limit)s 字" % dict(limit=MAX_COMMENT),
                          fields={"comment": [f"不能超过 {MAX_COMMENT} 字"]})
    if grade <= POOR and not comment:
        raise InvalidData("不满意时请写明原因，以便核实整改", fields={"comment": ["请写明不满意的原因"]})
    # the case row's lock: a double click rates once, and the count the rule reads cannot change meanwhile
    session.scalars(select(ProcessInstance.id).where(ProcessInstance.id == instance.id).with_for_update()).all()
    now = utcnow()
    allowed = eligibility(session, engine, actor, instance, now)
    if not allowed.allowed:
        raise Conflict(allowed.message)
    rating = CaseRating(instance_id=instance.id, rated_by=actor.username, grade=grade, comment=comment, rated_at=now)
    if grade <= POOR:
        followup = engine.start(uow, FOLLOW_UP, business_key=f"HC-{instance.business_key}"[:100],
                                region_code=instance.region_code, actor=SYSTEM, data={
                                    "rated_instance_id": instance.id, "rated_business_key": instance.business_key,
                                    "grade": grade, "grade_label": GRADES[grade], "comment": comment})
        rating.followup_instance_id = followup.id
    session.add(rating)
    session.flush()
    return rating


def ratings_of(session: Session, instance_id: int) -> list[RatingView]:
    """A case's ratings, with the state and answer of each 差评's follow-up (for pages that checked access)."""
    views = []
    for rating in session.scalars(select(CaseRating).where(CaseRating.instance_id == instance_id)
                                  .order_by(CaseRating.id)):
        status = feedback = None
        if rating.followup_instance_id is not None:
            followup = session.get(ProcessInstance, rating.followup_instance_id)
            status = followup.status if followup is not None else None
            feedback = session.scalar(select(HistoryEvent.conclusion).where(
                HistoryEvent.instance_id == rating.followup_instance_id, HistoryEvent.task_name == "feedback",
                HistoryEvent.kind == "task_completed").order_by(HistoryEvent.id.desc()).limit(1))
        views.append(RatingView(rating.grade, GRADES[rating.grade], rating.comment, rating.rated_at, status, feedback))
    return views
