"""Inbox queries over the task table only (never a deserialised workflow)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from engine.actors import Actor, region_condition
from engine.models import HumanTask, ProcessInstance, TaskStatus

SORTABLE = {"created_at": HumanTask.created_at, "due_at": HumanTask.due_at,
            "business_key": HumanTask.business_key, "label": HumanTask.label}


@dataclass
class TaskFilter:
    scope: str = "all"  # mine | group | all (mine + group) | done
    process_key: str | None = None
    business_key: str | None = None
    business_keys: list[str] | None = None
    name: str | None = None
    submitter: str | None = None
    region_code: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    due_before: datetime | None = None
    overdue: bool = False
    sort: str = "created_at"
    descending: bool = False


def candidate_condition(actor: Actor):
    """Tasks of a role the actor holds, in a region the actor holds it for (or below)."""
    by_role: dict[str, list[str]] = {}
    for role, region in actor.grants:
        by_role.setdefault(role, []).append(region)
    clauses = [and_(HumanTask.lane == role, region_condition(HumanTask.region_code, regions))
               for role, regions in sorted(by_role.items())]
    return or_(*clauses) if clauses else HumanTask.id.is_(None)


def task_query(actor: Actor, flt: TaskFilter, now: datetime):
    query = select(HumanTask)
    if flt.scope == "done":
        query = query.where(HumanTask.completed_by == actor.username, HumanTask.status == TaskStatus.COMPLETED)
    else:
        query = query.where(HumanTask.status == TaskStatus.OPEN)
        mine = HumanTask.assignee == actor.username
        group = and_(HumanTask.assignee.is_(None), candidate_condition(actor))
        query = query.where({"mine": mine, "group": group}.get(flt.scope, or_(mine, group)))
    if flt.process_key:
        query = query.where(HumanTask.process_key == flt.process_key)
    if flt.business_key:
        query = query.where(HumanTask.business_key == flt.business_key)
    if flt.business_keys is not None:
        query = query.where(HumanTask.business_key.in_(flt.business_keys))
    if flt.name:
        query = query.where(HumanTask.name == flt.name)
    if flt.submitter:
        query = query.where(HumanTask.submitter.contains(flt.submitter))
    if flt.region_code:
        query = query.where(region_condition(HumanTask.region_code, [flt.region_code]))
    if flt.created_from:
        query = query.where(HumanTask.created_at >= flt.created_from)
    if flt.created_to:
        query = query.where(HumanTask.created_at < flt.created_to)
    if flt.due_before:
        query = query.where(HumanTask.due_at < flt.due_before)
    if flt.overdue:
        query = query.where(HumanTask.due_at < now)
    return query


def list_tasks(session: Session, actor: Actor, flt: TaskFilter, now: datetime, page: int = 1,
               per_page: int = 20) -> tuple[list[HumanTask], int]:
    query = task_query(actor, flt, now)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    column = SORTABLE.get(flt.sort, HumanTask.created_at)
    if flt.scope == "done":
        column = HumanTask.completed_at
    order = column.desc() if flt.descending or flt.scope == "done" else column.asc()
    rows = session.scalars(query.order_by(order, HumanTask.id).limit(per_page).offset((page - 1) * per_page))
    return list(rows), total or 0


def count_open_by_step(session: Session, actor: Actor, now: datetime) -> list[tuple[str, str, str, int, int]]:
    """(process key, task name, label, open count, overdue count) of the actor's open tasks."""
    base = task_query(actor, TaskFilter(scope="all"), now).subquery()
    overdue = func.sum(case((base.c.due_at < now, 1), else_=0))
    rows = session.execute(
        select(base.c.process_key, base.c.name, func.min(base.c.label), func.count(), overdue)
        .group_by(base.c.process_key, base.c.name).order_by(base.c.process_key, base.c.name))
    return [(r[0], r[1], r[2], r[3], int(r[4] or 0)) for r in rows]


def visible_instances(actor: Actor, applicant_roles: frozenset[str]):
    """Instances the actor started, or of a region where the actor holds a staff role."""
    staff_regions = [region for role, region in actor.grants if role not in applicant_roles]
    return or_(ProcessInstance.started_by == actor.username,
               region_condition(ProcessInstance.region_code, staff_regions))


def list_instances(session: Session, actor: Actor, applicant_roles: frozenset[str], *, status: str | None = None,
                   process_key: str | None = None, business_key: str | None = None, page: int = 1,
                   per_page: int = 20) -> tuple[list[ProcessInstance], int]:
    query = select(ProcessInstance).where(visible_instances(actor, applicant_roles))
    if status:
        query = query.where(ProcessInstance.status == status)
    if process_key:
        query = query.where(ProcessInstance.process_key == process_key)
    if business_key:
        query = query.where(ProcessInstance.business_key == business_key)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(ProcessInstance.id.desc()).limit(per_page).offset((page - 1) * per_page))
    return list(rows), total or 0
