"""The supervision dashboard (监控看板): how the office is doing, as figures the page draws as charts
and exports to Excel — cases opened and closed per day, open cases by 办件状态 and by clock level
(正常 / 预警 / 逾期 / 暂停), incidents per day, open steps per person (workload), handling time and
超期率 per process, step, region and reviewer, and, per process version, where cases wait (open steps
per step and how long they have waited; the average time a step took) for the heatmap on the diagram.

Scope as for every supervisor's page (services.platform.supervision): the regions where the actor
holds a supervising role, and below; a region filter narrows it. Days are China Standard Time days.
Each count is one GROUP BY in SQL; nothing loads cases to count them in Python.

Handling time and 超期率 (``Figures``) take the definitions of 办件统计
(services.platform.lifecycle_statistics) over what was done in the window:

- per process and per region (the case's ``region_code``): the cases closed (办结: ended as completed)
  in the window; handling time in working days from the day the clock started (the day the case
  started when it has none) to the day it ended, less ``clock_paused_days``; 超期率 = the clocked ones
  (a due date) judged late — their clock judged, as engine.case_clock judges it, after
  ``clock_due_at`` — ÷ the clocked ones;
- per step (process × BPMN element id) and per reviewer (``completed_by``): the human tasks completed
  in the window; working days from the day received to the day done; 超期率 = those done after their
  ``due_at`` ÷ those with a ``due_at``.

P50 and P90 are nearest ranks (the ⌈0.5·n⌉-th and ⌈0.9·n⌉-th smallest: durations that really
occurred). Working days need the statutory calendar, so the durations are counted in Python over the
rows of the window — one query for the cases, one for the tasks, each bounded by the window and
capped at ``MAX_ROWS`` newest rows (``Dashboard.capped``) — on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from itertools import islice
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, select
from sqlalchemy.orm import Session

from engine import case_clock, lifecycle
from engine.actors import Actor, region_condition
from engine.errors import Forbidden, NotFound
from engine.models import HumanTask, Incident, InstanceStatus, ProcessDefinition, ProcessInstance, TaskStatus
from services.platform.calendar import due_at, working_days_between
from services.platform.identity import Region, User
from services.platform.lifecycle_statistics import MAX_ROWS, process_names, sheets
from services.platform.supervision import supervised_regions

DAYS = 30  # the default window of the daily series
LIVE = (InstanceStatus.RUNNING, InstanceStatus.WAITING, InstanceStatus.ERROR)
TOP_PEOPLE = 20
Done = tuple[int, bool | None]  # a closed case or a done step: (working days, late; None without a due date)
ByKey = dict[str, list[Done]]
WorkingDays = Callable[[date, date], int]


@dataclass(frozen=True)
class Daily:
    day: date
    opened: int
    closed: int
    incidents: int


@dataclass(frozen=True)
class Figures:
    """Handling time and 超期率 of one process, step, region or reviewer over the window (the module's
    docstring defines them)."""

    key: str  # process key, region code or username; for a step "<process key>/<element id>"
    name: str  # the process's, step's (its newest label), region's or person's name
    count: int  # cases closed / steps done in the window
    average: float  # working days, rounded to 0.01
    p50: int  # nearest rank
    p90: int
    timed: int  # of them with a due date (计时)
    late: int  # of them done after it (超期)
    process_key: str = ""  # a step's process
    process_name: str = ""
    step: str = ""  # a step's BPMN element id

    @property
    def rate(self) -> float | None:
        """超期率: late ÷ timed, rounded to 0.0001; None when none had a due date."""
        return round(self.late / self.timed, 4) if self.timed else None

    @property
    def percent(self) -> float | None:
        return round(self.rate * 100, 2) if self.rate is not None else None


@dataclass(frozen=True)
class Dashboard:
    days: list[Daily]
    by_status: list[tuple[str, str, int]]  # (办件状态 code, words, open cases)
    by_level: list[tuple[str, str, int]]  # (clock level, words, open cases)
    workload: list[tuple[str, str, int, int]]  # (username, name, open steps, of them overdue)
    first_day: date
    last_day: date
    # handling time and 超期率 of the cases closed and the steps done in the window (module docstring)
    durations: list[Figures] = field(default_factory=list)  # per process
    regions: list[Figures] = field(default_factory=list)
    steps: list[Figures] = field(default_factory=list)
    reviewers: list[Figures] = field(default_factory=list)
    capped: bool = False  # more than MAX_ROWS cases or steps in the window: only the newest were counted


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


def _day_start(day: date) -> datetime:
    """The naive UTC moment a China Standard Time day begins."""
    return datetime(day.year, day.month, day.day) - case_clock.CST


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
    since = _day_start(first)
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
    window = (since, _day_start(last + timedelta(days=1)))
    working_days = cache(working_days_between)  # the same few (start, end) day pairs recur across rows
    by_process, by_region, cases_capped = _closed_cases(session, scope, window, now, working_days)
    by_step, by_reviewer, steps_capped = _done_steps(session, scope, window, working_days)
    processes = process_names(session) if by_process or by_step else {}
    regions = dict(session.execute(select(Region.code, Region.name).where(Region.code.in_(by_region))).all()) \
        if by_region else {}
    people_names = dict(session.execute(select(User.username, User.display_name).where(
        User.username.in_(by_reviewer))).all()) if by_reviewer else {}
    return Dashboard(
        series, by_status, by_level, workload, first, last,
        durations=[_figures(key, processes.get(key, key), rows) for key, rows in sorted(by_process.items())],
        regions=[_figures(code, regions.get(code, code), rows) for code, rows in sorted(by_region.items())],
        steps=[_figures(f"{key}/{step}", label, rows, process_key=key, process_name=processes.get(key, key), step=step)
               for (key, step), (label, rows) in sorted(by_step.items())],
        reviewers=sorted((_figures(user, people_names.get(user) or user, rows) for user, rows in by_reviewer.items()),
                         key=lambda f: (-f.count, f.key)),
        capped=cases_capped or steps_capped)


def _figures(key: str, name: str, rows: list[Done], **step: str) -> Figures:
    """Count, average, nearest-rank P50 / P90 and the late ones of a non-empty list."""
    ordered = sorted(days for days, _late in rows)
    n = len(ordered)
    timed = [late for _days, late in rows if late is not None]
    return Figures(key, name, n, round(sum(ordered) / n, 2), ordered[-(-n // 2) - 1], ordered[-(-9 * n // 10) - 1],
                   len(timed), sum(timed), **step)


def _judged_at(state: str, paused_since: datetime | None, ended_at: datetime | None, now: datetime) -> datetime:
    """The moment a clock is judged (engine.case_clock.view, 办件统计's 超期率): a paused one when it
    stopped, a stopped one at the case's end, a running one now."""
    if state == case_clock.PAUSED:
        return paused_since or now
    if state == case_clock.STOPPED:
        return ended_at or now
    return now


def _late_case(now: datetime) -> ColumnElement[bool]:
    """SQL: a clocked case judged after its due date (as _judged_at)."""
    judged_at = case((ProcessInstance.clock_state == case_clock.PAUSED,
                      func.coalesce(ProcessInstance.clock_paused_since, now)),
                     (ProcessInstance.clock_state == case_clock.STOPPED, func.coalesce(ProcessInstance.ended_at, now)),
                     else_=now)
    return and_(ProcessInstance.clock_state != "", ProcessInstance.clock_due_at.is_not(None),
                judged_at > ProcessInstance.clock_due_at)


def _closed_cases(session: Session, scope: list[ColumnElement[bool]], window: tuple[datetime, datetime],
                  now: datetime, working_days: WorkingDays) -> tuple[ByKey, ByKey, bool]:
    """The cases closed in the window, by process and by region: (working days, late), one query."""
    by_process: dict[str, list[Done]] = defaultdict(list)
    by_region: dict[str, list[Done]] = defaultdict(list)
    instance = ProcessInstance
    rows = session.execute(
        select(instance.process_key, instance.region_code, instance.started_at, instance.clock_started_at,
               instance.ended_at, instance.clock_paused_days, instance.clock_state, instance.clock_paused_since,
               instance.clock_due_at)
        .where(*scope, instance.status == InstanceStatus.COMPLETED, instance.ended_at >= window[0],
               instance.ended_at < window[1])
        .order_by(instance.ended_at.desc(), instance.id.desc()).limit(MAX_ROWS + 1).execution_options(yield_per=5000))
    for key, region, started, clock_started, ended, paused, state, paused_since, due in islice(rows, MAX_ROWS):
        assert ended is not None  # the query's condition; narrows the type
        began = case_clock.local_day(clock_started or started)
        worked = max(0, working_days(began, case_clock.local_day(ended)) - (paused or 0))
        late = _judged_at(state, paused_since, ended, now) > due if state and due is not None else None
        by_process[key].append((worked, late))
        by_region[region].append((worked, late))
    return by_process, by_region, rows.first() is not None


def _done_steps(session: Session, scope: list[ColumnElement[bool]], window: tuple[datetime, datetime],
                working_days: WorkingDays) -> tuple[dict[tuple[str, str], tuple[str, list[Done]]], ByKey, bool]:
    """The human tasks completed in the window, by (process, step) with the step's newest label and
    by reviewer: (working days, late), one query."""
    by_step: dict[tuple[str, str], tuple[str, list[Done]]] = {}
    by_reviewer: dict[str, list[Done]] = defaultdict(list)
    rows = session.execute(
        select(HumanTask.process_key, HumanTask.name, HumanTask.label, HumanTask.completed_by, HumanTask.created_at,
               HumanTask.completed_at, HumanTask.due_at)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(*scope, HumanTask.status == TaskStatus.COMPLETED, HumanTask.completed_at >= window[0],
               HumanTask.completed_at < window[1])
        .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc()).limit(MAX_ROWS + 1)
        .execution_options(yield_per=5000))
    for key, step, label, user, created, completed, due in islice(rows, MAX_ROWS):
        assert completed is not None  # the query's condition; narrows the type
        done: Done = (max(0, working_days(case_clock.local_day(created), case_clock.local_day(completed))),
                      completed > due if due is not None else None)
        by_step.setdefault((key, step), (label, []))[1].append(done)  # newest first: the step's current label
        if user:
            by_reviewer[user].append(done)
    return by_step, by_reviewer, rows.first() is not None


@dataclass(frozen=True)
class CaseFilter:
    """The cases behind a figure of the dashboard, for the case list it links to (/cases): closed in a
    window (late ones only), or with a step done in a window — of a step, by a reviewer, late ones only."""

    process_key: str | None = None
    region_code: str | None = None
    closed_from: date | None = None  # China Standard Time days, both included
    closed_to: date | None = None
    closed_late: bool = False
    step: str | None = None  # BPMN element id (with process_key)
    done_by: str | None = None
    done_from: date | None = None
    done_to: date | None = None
    done_late: bool = False

    @property
    def active(self) -> bool:
        """Whether the list is one of the dashboard's (process and region alone are not)."""
        return bool(self.closed_from or self.closed_to or self.closed_late or self.step or self.done_by
                    or self.done_from or self.done_to or self.done_late)

    @property
    def by_task(self) -> bool:
        return bool(self.step or self.done_by or self.done_from or self.done_to or self.done_late)


def case_conditions(actor: Actor, flt: CaseFilter, now: datetime) -> list[ColumnElement[bool]]:
    """SQL conditions on ProcessInstance: the actor's regions as the dashboard's (Forbidden to anyone
    without a supervising role) and the figure's filter."""
    conditions = _regions(actor, flt.region_code)
    if flt.process_key:
        conditions.append(ProcessInstance.process_key == flt.process_key)
    if flt.closed_from or flt.closed_to or flt.closed_late:
        conditions.append(ProcessInstance.status == InstanceStatus.COMPLETED)
    if flt.closed_from:
        conditions.append(ProcessInstance.ended_at >= _day_start(flt.closed_from))
    if flt.closed_to:
        conditions.append(ProcessInstance.ended_at < _day_start(flt.closed_to + timedelta(days=1)))
    if flt.closed_late:
        conditions.append(_late_case(now))
    if flt.by_task:
        task = [HumanTask.instance_id == ProcessInstance.id, HumanTask.status == TaskStatus.COMPLETED]
        if flt.step:
            task.append(HumanTask.name == flt.step)
        if flt.done_by:
            task.append(HumanTask.completed_by == flt.done_by)
        if flt.done_from:
            task.append(HumanTask.completed_at >= _day_start(flt.done_from))
        if flt.done_to:
            task.append(HumanTask.completed_at < _day_start(flt.done_to + timedelta(days=1)))
        if flt.done_late:
            task.append(and_(HumanTask.due_at.is_not(None), HumanTask.completed_at > HumanTask.due_at))
        conditions.append(exists().where(*task))
    return conditions


def cases(session: Session, actor: Actor, flt: CaseFilter, now: datetime, page: int = 1, per_page: int = 20,
          also: Iterable[ColumnElement[bool]] = ()) -> tuple[list[ProcessInstance], int]:
    """The cases behind a figure (and ``also``: the case list's own filters), newest first, and how many."""
    conditions = [*case_conditions(actor, flt, now), *also]
    total = session.scalar(select(func.count()).select_from(ProcessInstance).where(*conditions)) or 0
    rows = session.scalars(select(ProcessInstance).where(*conditions).order_by(ProcessInstance.id.desc())
                           .limit(per_page).offset((page - 1) * per_page))
    return list(rows), total


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
        ("办理时长", ("流程", "流程代码", *FIGURE_HEADERS), ((d.name, d.key, *_row(d)) for d in board.durations)),
        ("环节办理时长", ("流程", "流程代码", "环节", "环节代码", *FIGURE_HEADERS),
         ((s.process_name, s.process_key, s.name, s.step, *_row(s)) for s in board.steps)),
        ("区划办理时长", ("区划", "区划代码", *FIGURE_HEADERS), ((r.name, r.key, *_row(r)) for r in board.regions)),
        ("审核人员办理时长", ("人员", "用户名", *FIGURE_HEADERS), ((r.name, r.key, *_row(r)) for r in board.reviewers)),
        *([("说明", ("说明",), [(f"仅统计窗口内最新的 {MAX_ROWS} 件办结办件和 {MAX_ROWS} 个已办环节",)])]
          if board.capped else []),
    ])


FIGURE_HEADERS = ("件数", "平均工作日", "P50 工作日", "P90 工作日", "有时限件数", "超期件数", "超期率（%）")


def _row(figures: Figures) -> tuple[Any, ...]:
    return (figures.count, figures.average, figures.p50, figures.p90, figures.timed, figures.late, figures.percent)
