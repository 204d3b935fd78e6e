"""委托 (standing delegation): a user hands their tasks of chosen processes to a colleague for a date range
(a holiday, a training course).

While a delegation runs (China Standard Time days, both included), every task that would be assigned
to the delegator — a 退回 to the person who did the step, a 加签, a 转交, the delegator's claimed tasks
when the delegation starts — goes to the delegate instead, and the history names both (``delegated_from``).
Tasks offered to a whole role are not assigned to anyone, so they stay in the group's inbox, where the
colleagues who hold the role take them as usual. The delegate must be active staff; a delegation can be
ended early; two delegations of one person may not overlap. The delegate must be a colleague of the
delegator's office (staff with a role for the delegator's region or one above it): a delegated task
shows its case, and a delegation must not carry that outside the office.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import JSON, Date, String, and_, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine import case_clock
from engine.actors import Actor
from engine.db import Base, UnitOfWork, utcnow
from engine.errors import Conflict, InvalidData, NotFound
from engine.models import HistoryEvent, HumanTask, ProcessInstance, TaskStatus
from engine.regions import parent_codes
from engine.runtime import WorkflowEngine
from services.platform.identity import APPLICANT_ROLES, RoleGrant, User

MAX_DAYS = 366


class StandingDelegation(Base):
    __tablename__ = "standing_delegation"

    id: Mapped[int] = mapped_column(primary_key=True)
    delegator: Mapped[str] = mapped_column(String(100), index=True)
    delegate: Mapped[str] = mapped_column(String(100))
    process_keys: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every process
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)  # ended early by the delegator


def today() -> date:
    return case_clock.local_day(utcnow())


def delegate_for(session: Session, username: str, process_key: str, on: date | None = None) -> str | None:
    """The colleague ``username``'s tasks of ``process_key`` go to on ``on`` (today), or None."""
    day = on or today()
    for delegation in session.scalars(select(StandingDelegation).where(
            StandingDelegation.delegator == username, StandingDelegation.ended_at.is_(None),
            StandingDelegation.starts_on <= day, StandingDelegation.ends_on >= day)):
        if not delegation.process_keys or process_key in delegation.process_keys:
            return delegation.delegate
    return None


def create(uow: UnitOfWork, actor: Actor, delegate: str, process_keys: list[str], starts_on: date,
           ends_on: date) -> StandingDelegation:
    """Set up a delegation of the actor's tasks; claimed tasks move at once when it starts today."""
    session = uow.session
    if delegate == actor.username:
        raise InvalidData("不能委托给自己", fields={"delegate": ["请选择其他同事"]})
    own_region = session.scalar(select(User.region_code).where(User.username == actor.username)) or ""
    # a colleague of the delegator's office: staff with a role for the delegator's region or one above it
    staff = session.scalar(select(User.username).join(RoleGrant).where(
        User.username == delegate, User.active.is_(True), RoleGrant.role.not_in(APPLICANT_ROLES),
        RoleGrant.region_code.in_(parent_codes(own_region))).limit(1))
    if staff is None:
        raise InvalidData("不能委托给 %(delegate)s：只能委托给本单位（本区划或上级区划）的在职工作人员"
                          % dict(delegate=delegate),
                          fields={"delegate": [delegate]})
    if ends_on < starts_on or starts_on < today() or (ends_on - starts_on) > timedelta(days=MAX_DAYS):
        raise InvalidData("委托期限应从今天或以后开始、结束不早于开始、不超过 %(days)s 天" % dict(days=MAX_DAYS),
                          fields={"ends_on": ["请检查委托期限"]})
    overlapping = session.scalar(select(StandingDelegation.id).where(
        StandingDelegation.delegator == actor.username, StandingDelegation.ended_at.is_(None),
        and_(StandingDelegation.starts_on <= ends_on, StandingDelegation.ends_on >= starts_on)).limit(1))
    if overlapping is not None:
        raise Conflict("该期限内已有委托，请先结束原委托")
    delegation = StandingDelegation(delegator=actor.username, delegate=delegate, process_keys=sorted(set(process_keys)),
                                    starts_on=starts_on, ends_on=ends_on)
    session.add(delegation)
    session.flush()
    if starts_on <= today():
        hand_over_claimed(session, delegation)
    return delegation


def hand_over_claimed(session: Session, delegation: StandingDelegation) -> int:
    """Move the delegator's claimed open tasks (of the delegation's processes) to the delegate."""
    query = select(HumanTask).where(HumanTask.assignee == delegation.delegator, HumanTask.status == TaskStatus.OPEN)
    if delegation.process_keys:
        query = query.where(HumanTask.process_key.in_(delegation.process_keys))
    moved = 0
    for task in session.scalars(query.with_for_update()):
        task.assignee = delegation.delegate
        session.add(HistoryEvent(instance_id=task.instance_id, at=utcnow(), kind="task_delegated",
                                 task_name=task.name, task_label=task.label, actor=delegation.delegator,
                                 details={"to": delegation.delegate, "standing": True,
                                          "delegated_from": delegation.delegator}))
        moved += 1
    return moved


def end(uow: UnitOfWork, actor: Actor, delegation_id: int) -> None:
    delegation = uow.session.get(StandingDelegation, delegation_id)
    if delegation is None or delegation.delegator != actor.username:
        raise NotFound("委托不存在")
    if delegation.ended_at is None:
        delegation.ended_at = utcnow()


def of(session: Session, actor: Actor) -> list[StandingDelegation]:
    """The actor's delegations, given and received, newest first."""
    return list(session.scalars(select(StandingDelegation).where(
        or_(StandingDelegation.delegator == actor.username, StandingDelegation.delegate == actor.username))
        .order_by(StandingDelegation.id.desc())))


def install(engine: WorkflowEngine) -> None:
    """Make the engine assign to the delegate whatever it would assign to a delegator (the composition
    root calls this)."""

    def redirect(session: Session, username: str, instance: ProcessInstance) -> str | None:
        return delegate_for(session, username, instance.process_key)

    engine.assignee_redirect = redirect
