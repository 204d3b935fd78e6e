"""Inbox queries over the task table only (never a deserialised workflow)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, false, func, or_, select, union_all
from sqlalchemy.orm import Session

from engine import case_clock
from engine.actors import Actor, region_condition
from engine.models import HumanTask, ProcessInstance, TaskStatus

SORTABLE = {"created_at": HumanTask.created_at, "due_at": HumanTask.due_at,
            "business_key": HumanTask.business_key, "label": HumanTask.label,
            # the case clock's due date (engine.case_clock), read per listed task from its case
            "clock_due_at": select(ProcessInstance.clock_due_at).where(
                ProcessInstance.id == HumanTask.instance_id).scalar_subquery()}


@dataclass
class TaskFilter:
    scope: str = "all"  # mine | group | all (mine + group) | done
    process_key: str | None = None
    business_key: str | None = None
    business_keys: list[str] | None = None
    # a search: the business key itself, part of the case's search text (ID numbers, names, title …)
    # or, with ``business_keys`` set, one of those (what a module's own search found for the text)
    text: str | None = None
    name: str | None = None
    submitter: str | None = None
    region_code: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    due_before: datetime | None = None
    overdue: bool = False
    clock_level: str | None = None  # the case clock's level: normal / warning / overdue / paused
    clock_warning_until: datetime | None = None  # engine.case_clock.warning_threshold of the moment
    sort: str = "created_at"
    descending: bool = False


def _parts(actor: Actor, scope: str) -> list:
    """The disjoint parts of a task list: mine (ix_task_assignee), one per role held (ix_task_open_group,
    a partial index of open tasks that covers the list's columns) or done (ix_task_completed_by).

    Queried as a UNION ALL, PostgreSQL reads each part with an index-only scan; one OR over them
    makes it visit every matching row (a bitmap heap scan), about 5× slower at 100,000 open tasks."""
    if scope == "done":
        return [and_(HumanTask.completed_by == actor.username, HumanTask.status == TaskStatus.COMPLETED)]
    mine = and_(HumanTask.status == TaskStatus.OPEN, HumanTask.assignee == actor.username)
    by_role: dict[str, list[str]] = {}
    for role, region in actor.grants:
        by_role.setdefault(role, []).append(region)
    groups = [and_(HumanTask.status == TaskStatus.OPEN, HumanTask.lane == role, HumanTask.assignee.is_(None),
                   region_condition(HumanTask.region_code, regions), HumanTask.organisation_id.is_(None))
              for role, regions in sorted(by_role.items())]  # one part per role: a region held twice counts once
    # a case at an organisation is its posts' (ix_task_open_post), never a region role's
    posts = [and_(HumanTask.status == TaskStatus.OPEN, HumanTask.organisation_id == organisation,
                  HumanTask.lane == post, HumanTask.assignee.is_(None))
             for post, organisation in sorted(actor.posts)]
    return {"mine": [mine], "group": [*groups, *posts]}.get(scope, [mine, *groups, *posts])


def _filters(flt: TaskFilter, now: datetime) -> list:
    conditions = []
    if flt.process_key:
        conditions.append(HumanTask.process_key == flt.process_key)
    if flt.business_key:
        conditions.append(HumanTask.business_key == flt.business_key)
    if flt.text:
        # ILIKE (not lower() LIKE): PostgreSQL answers it from the trigram index ix_instance_search_trgm
        pattern = "%" + flt.text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
        matching = select(ProcessInstance.id).where(ProcessInstance.search_text.ilike(pattern, escape="/"))
        found = [HumanTask.business_key == flt.text, HumanTask.instance_id.in_(matching)]
        if flt.business_keys:
            found.append(HumanTask.business_key.in_(flt.business_keys))
        conditions.append(or_(*found))
    elif flt.business_keys is not None:
        conditions.append(HumanTask.business_key.in_(flt.business_keys))
    if flt.name:
        conditions.append(HumanTask.name == flt.name)
    if flt.submitter:
        conditions.append(HumanTask.submitter.contains(flt.submitter))
    if flt.region_code:
        conditions.append(region_condition(HumanTask.region_code, [flt.region_code]))
    if flt.created_from:
        conditions.append(HumanTask.created_at >= flt.created_from)
    if flt.created_to:
        conditions.append(HumanTask.created_at < flt.created_to)
    if flt.due_before:
        conditions.append(HumanTask.due_at < flt.due_before)
    if flt.overdue:
        conditions.append(HumanTask.due_at < now)
    if flt.clock_level:
        threshold = flt.clock_warning_until or now
        cases = select(ProcessInstance.id).where(case_clock.level_condition(flt.clock_level, now, threshold))
        conditions.append(HumanTask.instance_id.in_(cases))
    return conditions


def task_query(actor: Actor, flt: TaskFilter, now: datetime, *columns):
    """SELECT the labelled ``columns`` of the tasks in the actor's list (see :func:`_parts`)."""
    conditions = _filters(flt, now)
    parts = [select(*columns).where(part, *conditions) for part in _parts(actor, flt.scope)]
    if not parts:
        return select(*columns).where(false())
    return parts[0] if len(parts) == 1 else union_all(*parts)


def list_tasks(session: Session, actor: Actor, flt: TaskFilter, now: datetime, page: int = 1,
               per_page: int = 20) -> tuple[list[HumanTask], int]:
    """One page of the list and its total: ids are sorted and cut from the index, then only the
    page's rows are read."""
    column = HumanTask.completed_at if flt.scope == "done" else SORTABLE.get(flt.sort, HumanTask.created_at)
    ids = task_query(actor, flt, now, HumanTask.id.label("id"), column.label("sort_key")).subquery()
    total = session.scalar(select(func.count()).select_from(ids))
    order = ids.c.sort_key.desc() if flt.descending or flt.scope == "done" else ids.c.sort_key.asc()
    if column is SORTABLE["clock_due_at"]:
        order = order.nulls_last()  # cases without a clock after the others, either way (only here: the
        # other sorts keep the plain order their indexes serve)
    page_ids = list(session.scalars(select(ids.c.id).order_by(order, ids.c.id).limit(per_page)
                                    .offset((page - 1) * per_page)))
    rows = {row.id: row for row in session.scalars(select(HumanTask).where(HumanTask.id.in_(page_ids)))}
    return [rows[task_id] for task_id in page_ids], total or 0


def case_facts(session: Session, instance_ids: list[int]) -> dict[int, Any]:
    """What a list shows of the cases of a page of tasks, by instance id: title, summary and the
    clock's columns (``engine.case_clock.view`` reads them)."""
    if not instance_ids:
        return {}
    rows = session.execute(select(
        ProcessInstance.id, ProcessInstance.title, ProcessInstance.summary, ProcessInstance.clock_state,
        ProcessInstance.clock_paused_since, ProcessInstance.clock_paused_days, ProcessInstance.statutory_due_at,
        ProcessInstance.promised_due_at, ProcessInstance.clock_due_at, ProcessInstance.ended_at,
    ).where(ProcessInstance.id.in_(set(instance_ids))))
    return {row.id: row for row in rows}


def count_open_by_step(session: Session, actor: Actor, now: datetime) -> list[tuple[str, str, str, int, int]]:
    """(process key, task name, label, open count, overdue count) of the actor's open tasks."""
    base = task_query(actor, TaskFilter(scope="all"), now, HumanTask.process_key.label("process_key"),
                      HumanTask.name.label("name"), HumanTask.label.label("label"),
                      HumanTask.due_at.label("due_at")).subquery()
    overdue = func.sum(case((base.c.due_at < now, 1), else_=0))
    rows = session.execute(
        select(base.c.process_key, base.c.name, func.min(base.c.label), func.count(), overdue)
        .group_by(base.c.process_key, base.c.name).order_by(base.c.process_key, base.c.name))
    return [(r[0], r[1], r[2], r[3], int(r[4] or 0)) for r in rows]


def visible_instances(actor: Actor, applicant_roles: frozenset[str]):
    """Instances the actor started, of a region where the actor holds a staff role, or at an
    organisation where the actor holds a post."""
    staff_regions = [region for role, region in actor.grants if role not in applicant_roles]
    visible = [ProcessInstance.started_by == actor.username,
               region_condition(ProcessInstance.region_code, staff_regions)]
    if actor.posts:
        visible.append(ProcessInstance.organisation_id.in_(sorted(actor.organisations)))
    return or_(*visible)


def list_instances(session: Session, actor: Actor, applicant_roles: frozenset[str], *, status: str | None = None,
                   process_key: str | None = None, business_key: str | None = None, page: int = 1,
                   per_page: int = 20, clock: tuple[str, datetime, datetime] | None = None,
                   case_status: str | None = None) -> tuple[list[ProcessInstance], int]:
    """The cases the actor may see, newest first; ``clock``: (level, now, warning threshold) keeps
    those whose case clock is at that level (engine.case_clock.level_condition)."""
    query = select(ProcessInstance).where(visible_instances(actor, applicant_roles))
    if clock is not None:
        query = query.where(case_clock.level_condition(*clock))
    if status:
        query = query.where(ProcessInstance.status == status)
    if case_status:
        query = query.where(ProcessInstance.case_status == case_status)
    if process_key:
        query = query.where(ProcessInstance.process_key == process_key)
    if business_key:
        query = query.where(ProcessInstance.business_key == business_key)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(ProcessInstance.id.desc()).limit(per_page).offset((page - 1) * per_page))
    return list(rows), total or 0
