"""The supervision dashboard (监控看板): how the office is doing, as figures the page draws as charts
and exports to Excel — cases opened and closed per day, open cases by 办件状态 and by clock level
(正常 / 预警 / 逾期 / 暂停), incidents per day, open steps per person (workload) and, per process
version, where cases wait (open steps per step and how long they have waited; the average time a
step took) for the heatmap on the diagram.

Scope as for every supervisor's page (services.platform.supervision): the regions where the actor
holds a supervising role, and below; a region filter narrows it. Days are China Standard Time days.
Each figure is one GROUP BY in SQL; nothing loads cases to count them in Python.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from engine import case_clock, lifecycle
from engine.actors import Actor, region_condition
from engine.errors import Forbidden, NotFound
from engine.models import HumanTask, Incident, InstanceStatus, ProcessDefinition, ProcessInstance, TaskStatus
from services.platform.calendar import due_at
from services.platform.identity import User
from services.platform.lifecycle_statistics import Duration, StatisticsFilter, handling_times, sheets
from services.platform.supervision import supervised_regions

DAYS = 30  # the default window of the daily series
LIVE = (InstanceStatus.RUNNING, InstanceStatus.WAITING, InstanceStatus.ERROR)
TOP_PEOPLE = 20


@dataclass(frozen=True)
class Daily:
    day: date
    opened: int
    closed: int
    incidents: int


@dataclass(frozen=True)
class Dashboard:
    days: list[Daily]
    by_status: list[tuple[str, str, int]]  # (办件状态 code, words, open cases)
    by_level: list[tuple[str, str, int]]  # (clock level, words, open cases)
    workload: list[tuple[str, str, int, int]]  # (username, name, open steps, of them overdue)
    first_day: date
    last_day: date
    # handling time of the cases completed in the window, per process, as 办件统计 defines it
    durations: list[Duration] = field(default_factory=list)


@dataclass(frozen=True)
class StepHeat:
    step: str  # BPMN element id
    label: str
    waiting: int  # open steps now
    waiting_hours: float  # how long those have waited, on average
    done: int  # completed steps
    done_hours: float  # how long a completed step took, on average


def _regions(actor: Actor, region_code: str | None) -> list[ColumnElement[bool]]:
    regions = supervised_regions(actor)
    if not regions:
        raise Forbidden("只有督办人员或系统管理员可以查看监控看板")
    conditions = [region_condition(ProcessInstance.region_code, regions)]
    if region_code:
        conditions.append(region_condition(ProcessInstance.region_code, [region_code]))
    return conditions


def _local_day(session: Session, column) -> ColumnElement[str]:
    """The China Standard Time day of a naive UTC timestamp column, as ``YYYY-MM-DD``."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column + timedelta(hours=8), "YYYY-MM-DD")
    return func.date(column, "+8 hours")


def _hours(session: Session, start, end) -> ColumnElement[Any]:
    """Hours from ``start`` to ``end`` (columns or a moment)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 3600
    return (func.julianday(end) - func.julianday(start)) * 24


def dashboard(session: Session, actor: Actor, now: datetime, *, region_code: str | None = None,
              process_key: str | None = None, days: int = DAYS) -> Dashboard:
    scope = _regions(actor, region_code)
    if process_key:
        scope.append(ProcessInstance.process_key == process_key)
    last = case_clock.local_day(now)
    first = last - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day) - case_clock.CST
    def per_day(column, *joined) -> dict[str, int]:
        day = _local_day(session, column)
        query = select(day, func.count()).select_from(column.class_)
        for target, on in joined:
            query = query.join(target, on)
        return {str(k): int(v) for k, v in session.execute(
            query.where(*scope, column >= since).group_by(day)).all()}

    opened = per_day(ProcessInstance.started_at)
    closed = per_day(ProcessInstance.ended_at)
    incidents = per_day(Incident.created_at, (ProcessInstance, ProcessInstance.id == Incident.instance_id))
    series = [Daily(day, opened.get(day.isoformat(), 0), closed.get(day.isoformat(), 0),
                    incidents.get(day.isoformat(), 0)) for day in (first + timedelta(days=n) for n in range(days))]
    live = [*scope, ProcessInstance.status.in_(LIVE)]
    statuses = dict(session.execute(select(ProcessInstance.case_status, func.count()).where(*live)
                                    .group_by(ProcessInstance.case_status)).all())
    by_status = [(code, words, statuses[code]) for code, words in lifecycle.CASE_STATUSES.items() if code in statuses]
    threshold = case_clock.warning_threshold(now, due_at)
    by_level = [(level, words, session.scalar(select(func.count()).select_from(ProcessInstance).where(
        *live, case_clock.level_condition(level, now, threshold))) or 0)
        for level, words in (*case_clock.LEVELS.items(), (case_clock.PAUSED, case_clock.STATES[case_clock.PAUSED]))]
    people = session.execute(
        select(HumanTask.assignee, func.count(), func.sum(case((HumanTask.due_at < now, 1), else_=0)))
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(*live, HumanTask.status == TaskStatus.OPEN, HumanTask.assignee.is_not(None))
        .group_by(HumanTask.assignee).order_by(func.count().desc(), HumanTask.assignee).limit(TOP_PEOPLE)).all()
    names = dict(session.execute(select(User.username, User.display_name).where(
        User.username.in_([p[0] for p in people]))).all()) if people else {}
    workload = [(name, names.get(name, name), count, int(late or 0)) for name, count, late in people]
    durations = handling_times(session, actor, StatisticsFilter(date_from=first, date_to=last, process_key=process_key,
                                                                region_code=region_code)).process
    return Dashboard(series, by_status, by_level, workload, first, last, durations)


def heatmap(session: Session, actor: Actor, definition_id: int, now: datetime,
            region_code: str | None = None) -> tuple[ProcessDefinition, list[StepHeat]]:
    """Where the cases of one process version wait: per user step, the open steps and their average
    wait so far, and the completed steps and their average duration (hours)."""
    definition = session.get(ProcessDefinition, definition_id)
    if definition is None or definition.filename.endswith(".dmn"):
        raise NotFound("流程版本不存在")
    scope = [*_regions(actor, region_code), ProcessInstance.definition_id == definition_id]
    hours = func.avg(_hours(session, HumanTask.created_at, now))
    waiting = {name: (label, count, float(avg or 0)) for name, label, count, avg in session.execute(
        select(HumanTask.name, func.min(HumanTask.label), func.count(), hours)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(*scope, HumanTask.status == TaskStatus.OPEN).group_by(HumanTask.name)).all()}
    took = func.avg(_hours(session, HumanTask.created_at, HumanTask.completed_at))
    done = {name: (label, count, float(avg or 0)) for name, label, count, avg in session.execute(
        select(HumanTask.name, func.min(HumanTask.label), func.count(), took)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(*scope, HumanTask.status == TaskStatus.COMPLETED).group_by(HumanTask.name)).all()}
    steps = sorted(set(waiting) | set(done))
    return definition, [StepHeat(step, (waiting.get(step) or done[step])[0], waiting.get(step, ("", 0, 0.0))[1],
                                 round(waiting.get(step, ("", 0, 0.0))[2], 1), done.get(step, ("", 0, 0.0))[1],
                                 round(done.get(step, ("", 0, 0.0))[2], 1)) for step in steps]


def workbook(board: Dashboard) -> bytes:
    """导出: the dashboard's figures, a sheet each."""
    return sheets([
        ("每日新增与办结", ("日期", "新增", "办结", "异常"),
         ((d.day.isoformat(), d.opened, d.closed, d.incidents) for d in board.days)),
        ("在办按办件状态", ("办件状态", "件数"), ((words, n) for _code, words, n in board.by_status)),
        ("在办按时限", ("时限", "件数"), ((words, n) for _level, words, n in board.by_level)),
        ("人员工作量", ("人员", "在办环节", "其中逾期"), ((f"{name}（{user}）", n, late)
                                                 for user, name, n, late in board.workload)),
        ("办理时长", ("流程", "流程代码", "办结件数", "平均工作日", "P90 工作日"),
         ((d.name, d.key, d.count, d.average, d.p90) for d in board.durations)),
    ])
