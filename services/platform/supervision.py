"""The supervisor's cockpit (监控 / 督办): the cases, incidents and overdue tasks of the regions a
supervisor or administrator answers for, and the repair actions on them (retry, terminate, supervise).

Every function takes the acting user. Lists are confined to the regions where the user holds a
supervising role (属地); an action on a case outside the user's scope raises ``NotFound`` (it must
look exactly like a case that does not exist), an action by someone who may see the case but does
not supervise it raises ``Forbidden``. Nothing here commits: the caller's unit of work does.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from engine.actors import Actor, region_condition
from engine.db import UnitOfWork
from engine.errors import Forbidden, InvalidData, NotFound
from engine.models import HistoryEvent, HumanTask, Incident, InstanceStatus, ProcessInstance, TaskStatus
from engine.regions import covers
from engine.runtime import WorkflowEngine
from services.platform.identity import Region, colleagues_for, list_regions
from services.platform.notifications import Notifier

SUPERVISING_ROLES = ("supervisor", "admin")
LIVE = (InstanceStatus.RUNNING, InstanceStatus.WAITING, InstanceStatus.ERROR)
MAX_NOTE = 500
CST = timedelta(hours=8)  # due dates in notifications are shown as China Standard Time days


def supervised_regions(actor: Actor) -> list[str]:
    return sorted({region for role, region in actor.grants if role in SUPERVISING_ROLES})


def may_supervise(actor: Actor, region_code: str) -> bool:
    return any(actor.holds(role, region_code) for role in SUPERVISING_ROLES)


def _cockpit_regions(actor: Actor) -> list[str]:
    regions = supervised_regions(actor)
    if not regions:
        raise Forbidden("只有督办人员或系统管理员可以使用监控台")
    return regions


def regions_in_scope(session: Session, actor: Actor) -> list[Region]:
    """The regions a cockpit filter may offer: those at or below the user's supervised regions."""
    regions = _cockpit_regions(actor)
    return [r for r in list_regions(session) if any(covers(code, r.code) for code in regions)]


# ---------------------------------------------------------------------- monitoring
@dataclass
class MonitorFilter:
    process_key: str | None = None
    status: str | None = None  # None: every case that has not ended (running, waiting, error)
    region_code: str | None = None
    overdue: bool = False  # only cases with an open task past its due date


@dataclass
class Monitor:
    cases: list[ProcessInstance]
    total: int
    counts: dict[str, dict[str, int]]  # process key → status → number of cases (scope and region filter)
    overdue_ids: set[int] = field(default_factory=set)  # cases of this page with an overdue open task


def _overdue_task(now: datetime):
    return exists().where(HumanTask.instance_id == ProcessInstance.id, HumanTask.status == TaskStatus.OPEN,
                          HumanTask.due_at < now)


def monitor(session: Session, actor: Actor, flt: MonitorFilter, now: datetime, page: int = 1,
            per_page: int = 20) -> Monitor:
    scope = [region_condition(ProcessInstance.region_code, _cockpit_regions(actor))]
    if flt.region_code:
        scope.append(region_condition(ProcessInstance.region_code, [flt.region_code]))
    conditions = list(scope)
    conditions.append(ProcessInstance.status == flt.status if flt.status else ProcessInstance.status.in_(LIVE))
    if flt.process_key:
        conditions.append(ProcessInstance.process_key == flt.process_key)
    if flt.overdue:
        conditions.append(_overdue_task(now))
    total = session.scalar(select(func.count(ProcessInstance.id)).where(*conditions)) or 0
    cases = list(session.scalars(select(ProcessInstance).where(*conditions).order_by(ProcessInstance.id.desc())
                                 .limit(per_page).offset((page - 1) * per_page)))
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for key, status, number in session.execute(
            select(ProcessInstance.process_key, ProcessInstance.status, func.count()).where(*scope)
            .group_by(ProcessInstance.process_key, ProcessInstance.status)):
        counts[key][status] = number
    overdue_ids = set(session.scalars(select(HumanTask.instance_id).where(
        HumanTask.instance_id.in_([c.id for c in cases]), HumanTask.status == TaskStatus.OPEN,
        HumanTask.due_at < now))) if cases else set()
    return Monitor(cases=cases, total=total, counts=dict(sorted(counts.items())), overdue_ids=overdue_ids)


def open_incidents(session: Session, actor: Actor, page: int = 1,
                   per_page: int = 50) -> tuple[list[tuple[Incident, ProcessInstance]], int]:
    """The unresolved incidents of the cases in ``error`` in the user's regions, newest first."""
    query = (select(Incident, ProcessInstance).join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
             .where(ProcessInstance.status == InstanceStatus.ERROR, Incident.resolved_at.is_(None),
                    region_condition(ProcessInstance.region_code, _cockpit_regions(actor))))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(Incident.created_at.desc(), Incident.id.desc())
                           .limit(per_page).offset((page - 1) * per_page))
    return [(incident, instance) for incident, instance in rows], total


@dataclass
class OverdueTasks:
    tasks: list[HumanTask]
    total: int
    last_supervised: dict[str, datetime]  # task id → when it was last supervised


def overdue_tasks(session: Session, actor: Actor, now: datetime, page: int = 1, per_page: int = 50,
                  region_code: str | None = None, assignee: str | None = None) -> OverdueTasks:
    """Open tasks past their due date in the user's regions (of one person, with ``assignee``), the
    longest overdue first."""
    conditions = [HumanTask.status == TaskStatus.OPEN, HumanTask.due_at < now,
                  region_condition(HumanTask.region_code, _cockpit_regions(actor))]
    if region_code:
        conditions.append(region_condition(HumanTask.region_code, [region_code]))
    if assignee:
        conditions.append(HumanTask.assignee == assignee)
    total = session.scalar(select(func.count(HumanTask.id)).where(*conditions)) or 0
    tasks = list(session.scalars(select(HumanTask).where(*conditions).order_by(HumanTask.due_at, HumanTask.id)
                                 .limit(per_page).offset((page - 1) * per_page)))
    last: dict[str, datetime] = {}
    if tasks:
        by_step: dict[tuple[int, str | None], str] = {(t.instance_id, t.name): t.id for t in tasks}
        rows = session.execute(
            select(HistoryEvent.instance_id, HistoryEvent.task_name, func.max(HistoryEvent.at))
            .where(HistoryEvent.kind == "supervised", HistoryEvent.instance_id.in_({t.instance_id for t in tasks}))
            .group_by(HistoryEvent.instance_id, HistoryEvent.task_name))
        last = {by_step[(i, n)]: at for i, n, at in rows if (i, n) in by_step}
    return OverdueTasks(tasks=tasks, total=total, last_supervised=last)


# ---------------------------------------------------------------------- actions
def _supervised_instance(session: Session, engine: WorkflowEngine, actor: Actor,
                         instance_id: int) -> ProcessInstance:
    instance = engine.get_instance(session, instance_id, actor)  # NotFound outside the user's scope
    if not may_supervise(actor, instance.region_code):
        raise Forbidden("只有督办人员或系统管理员可以处理此办件")
    return instance


# the check every repair action on one case makes first (services.platform.case_repair too)
supervised_instance = _supervised_instance


def retry_case(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, instance_id: int) -> ProcessInstance:
    """Run the failed step of a case in ``error`` again (its incidents are marked resolved)."""
    _supervised_instance(uow.session, engine, actor, instance_id)
    return engine.retry(uow, instance_id, actor)


def terminate_case(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, instance_id: int,
                   reason: str) -> ProcessInstance:
    """End a case for good; the reason is required and kept in its history."""
    _supervised_instance(uow.session, engine, actor, instance_id)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidData("请填写终止原因", fields={"reason": ["请填写终止原因"]})
    if len(reason) > MAX_NOTE:
        raise InvalidData(f"终止原因不能超过 {MAX_NOTE} 字", fields={"reason": [f"不能超过 {MAX_NOTE} 字"]})
    return engine.terminate(uow, instance_id, actor, reason)


def pause_clock(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, instance_id: int,
                reason: str) -> ProcessInstance:
    """中止: stop a case's clock by hand (a hearing, an expert review the process does not model);
    the reason is required and kept in its history."""
    _supervised_instance(uow.session, engine, actor, instance_id)
    return engine.pause_clock(uow, instance_id, actor, _required(reason, "中止原因"))


def resume_clock(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, instance_id: int,
                 note: str = "") -> ProcessInstance:
    """恢复 a clock stopped by hand; its paused working days move the due dates."""
    _supervised_instance(uow.session, engine, actor, instance_id)
    return engine.resume_clock(uow, instance_id, actor, (note or "").strip()[:MAX_NOTE])


def _required(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidData(f"请填写{what}", fields={"reason": [f"请填写{what}"]})
    if len(text) > MAX_NOTE:
        raise InvalidData(f"{what}不能超过 {MAX_NOTE} 字", fields={"reason": [f"不能超过 {MAX_NOTE} 字"]})
    return text


def supervise_task(uow: UnitOfWork, engine: WorkflowEngine, notifier: Notifier, actor: Actor, task_id: str,
                   note: str = "") -> HumanTask:
    """督办: record the chase on the case's history and notify the task's assignee (or, while nobody
    has claimed it, every holder of its role for its region)."""
    session = uow.session
    row = session.get(HumanTask, task_id)
    if row is None:
        raise NotFound("任务不存在或不在您的管辖范围内")
    _supervised_instance(session, engine, actor, row.instance_id)
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidData(f"督办意见不能超过 {MAX_NOTE} 字", fields={"note": [f"不能超过 {MAX_NOTE} 字"]})
    engine.supervise(uow, task_id, actor, note)
    recipients = [row.assignee] if row.assignee else [
        u.username for u in colleagues_for(session, row.lane, row.region_code, actor.username)]
    due_text = (row.due_at + CST).strftime("%Y-%m-%d") if row.due_at else "—"
    notifier.notify(uow, recipients, "supervised",
                    {"task": row, "due_text": due_text, "note": note, "supervisor": actor.username},
                    instance_id=row.instance_id, task_id=row.id)
    return row
