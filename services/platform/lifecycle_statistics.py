"""Lifecycle statistics for supervisors (办件统计): cases by 办件状态, 超期率, and handling time in
working days — per process, per region and per step — with their Excel export.

Definitions (the page and the API state the same):

- **Scope.** Only cases and steps of the regions where the actor holds a supervising role (属地, as in
  services.platform.supervision) or below; a region filter narrows that scope and never widens it, so a
  region outside it gives nothing. Anyone without a supervising role gets ``Forbidden``.
- **Filter.** ``date_from``/``date_to`` are China Standard Time days, both included: a case counts by the
  day it was started (``process_instance.started_at``), a step by the day it was received
  (``human_task.created_at``). ``process_key`` and ``region_code`` (that region and those below) as usual.
- **Cases by status.** Every case in the filter, whatever its state, counted by its 办件状态
  (``case_status``, the codes of engine.lifecycle).
- **超期率** = 超期件数 ÷ 计时件数. 计时件数: the cases in the filter whose clock has started
  (``clock_state`` set and a due date, i.e. their process declares a statutory or promised limit and the
  step that starts the clock is done). The due date is ``clock_due_at`` — the promised one where declared,
  else the statutory one, moved by the paused working days — and a clock is judged at the moment
  engine.case_clock judges it for its 逾期 level: a stopped clock (the case ended) at the case's end, a
  paused one at the moment it stopped, a running one now. 超期 when that moment is after the due date;
  split into 超期办结 (the case ended late) and 超期未结 (not ended: open past the due date, or paused
  after it). No clocked case: no rate (None).
- **Handling time** in working days of the statutory calendar (services.platform.calendar, with its
  make-up days), counted as the case clock counts them: the working days after the day (in China) work
  began up to and including the day it ended — done on the day it began is 0. A case: only cases that
  ended as completed (办结; a terminated case was stopped, not handled), from the day its clock started
  (the day it was started when it has no clock) to the day it ended, less its ``clock_paused_days`` (补正,
  特别程序 and 中止 do not count). A step: completed human tasks, from the day received to the day done.
  Average: the arithmetic mean, rounded to 0.01. P90: nearest rank — the ⌈0.9·n⌉-th smallest value, so
  always a duration that really occurred.
- **Row cap.** Counting (status, 超期率) is one GROUP BY in SQL over every row. Durations need the
  calendar, so they are computed in Python over streamed rows: at most ``MAX_ROWS`` of the newest
  completed cases and ``MAX_ROWS`` of the newest completed steps; ``HandlingTime.capped`` says when
  there were more.
"""
from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from itertools import islice
from typing import Any

from openpyxl import Workbook
from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from engine import case_clock, lifecycle
from engine.actors import Actor, region_condition
from engine.errors import Forbidden, InvalidData
from engine.models import HumanTask, InstanceStatus, ProcessDefinition, ProcessInstance, TaskStatus
from services.platform.calendar import working_days_between
from services.platform.identity import Region
from services.platform.ratings import CaseRating
from services.platform.spreadsheets import escape
from services.platform.supervision import supervised_regions
from services.platform.urges import TaskUrge

MAX_ROWS = 200_000
REVERSED_RANGE = "结束日期不能早于开始日期"
_STATUS_ORDER = {code: index for index, code in enumerate(lifecycle.CASE_STATUSES)}


@dataclass(frozen=True)
class StatisticsFilter:
    date_from: date | None = None  # China Standard Time days, both included
    date_to: date | None = None
    process_key: str | None = None
    region_code: str | None = None  # that region and those below, within the actor's scope


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


@dataclass(frozen=True)
class ProcessStatuses:
    process_key: str
    process_name: str
    total: int
    statuses: list[StatusCount]  # in the order of engine.lifecycle.CASE_STATUSES

    def count(self, status: str) -> int:
        return next((s.count for s in self.statuses if s.status == status), 0)


@dataclass(frozen=True)
class OverdueRate:
    key: str  # process key or region code ("" for the total)
    name: str
    clocked: int
    overdue_closed: int
    overdue_open: int

    @property
    def overdue(self) -> int:
        return self.overdue_closed + self.overdue_open

    @property
    def rate(self) -> float | None:
        """超期件数 ÷ 计时件数, rounded to 0.0001; None without a clocked case."""
        return round(self.overdue / self.clocked, 4) if self.clocked else None


@dataclass(frozen=True)
class OverdueRates:
    process: list[OverdueRate]
    region: list[OverdueRate]
    total: OverdueRate


@dataclass(frozen=True)
class Duration:
    key: str  # process key or region code
    name: str
    count: int
    average: float  # working days, rounded to 0.01
    p90: int  # nearest rank


@dataclass(frozen=True)
class StepDuration:
    process_key: str
    process_name: str
    step: str  # BPMN element id
    label: str  # the step's name on its newest task
    count: int
    average: float
    p90: int


@dataclass(frozen=True)
class HandlingTime:
    process: list[Duration]
    region: list[Duration]
    step: list[StepDuration]
    capped: bool  # more than row_limit completed cases or steps matched: only the newest were counted
    row_limit: int


@dataclass(frozen=True)
class UrgeCount:
    """催办 of the cases of one process (services.platform.urges)."""

    process_key: str
    process_name: str
    urges: int
    by_applicant: int
    cases: int  # cases urged at least once


@dataclass(frozen=True)
class RatingCount:
    """好差评 of the cases of one process (services.platform.ratings): ratings per grade (5 … 1)."""

    process_key: str
    process_name: str
    grades: dict[int, int]

    @property
    def total(self) -> int:
        return sum(self.grades.values())

    @property
    def poor_rate(self) -> float | None:
        """差评率: 不满意 and 非常不满意 ÷ all ratings, rounded to 0.0001; None without a rating."""
        return round(sum(n for grade, n in self.grades.items() if grade <= 2) / self.total, 4) if self.total else None


@dataclass(frozen=True)
class LifecycleStatistics:
    by_status: list[ProcessStatuses]
    overdue_rate: OverdueRates
    handling_time: HandlingTime
    status_codes: list[str]  # the statuses that occur, in lifecycle order (the page's columns)
    urges: list[UrgeCount] = field(default_factory=list)
    ratings: list[RatingCount] = field(default_factory=list)


def lifecycle_statistics(session: Session, actor: Actor, flt: StatisticsFilter, now: datetime) -> LifecycleStatistics:
    """The three views at ``now`` (naive UTC) for the actor's scope and the filter."""
    by_status = cases_by_status(session, actor, flt)
    codes = sorted({s.status for row in by_status for s in row.statuses}, key=_status_rank)
    return LifecycleStatistics(by_status=by_status, overdue_rate=overdue_rates(session, actor, flt, now),
                               handling_time=handling_times(session, actor, flt), status_codes=codes,
                               urges=urge_counts(session, actor, flt), ratings=rating_counts(session, actor, flt))


def rating_counts(session: Session, actor: Actor, flt: StatisticsFilter) -> list[RatingCount]:
    """好差评 per process and grade over the cases in the filter (by the day they started)."""
    grades: dict[str, dict[int, int]] = defaultdict(lambda: dict.fromkeys(range(5, 0, -1), 0))
    for key, grade, number in session.execute(
            select(ProcessInstance.process_key, CaseRating.grade, func.count())
            .join(ProcessInstance, ProcessInstance.id == CaseRating.instance_id)
            .where(*_case_conditions(actor, flt)).group_by(ProcessInstance.process_key, CaseRating.grade)):
        grades[key][int(grade)] = int(number)
    names = process_names(session) if grades else {}
    return [RatingCount(key, names.get(key, key), counts) for key, counts in sorted(grades.items())]


def urge_counts(session: Session, actor: Actor, flt: StatisticsFilter) -> list[UrgeCount]:
    """催办 per process over the cases in the filter (by the day they started): presses, those by
    applicants (the rest by supervisors), and the cases pressed."""
    rows = session.execute(
        select(ProcessInstance.process_key, func.count(TaskUrge.id),
               func.sum(case((TaskUrge.by_applicant.is_(True), 1), else_=0)),
               func.count(func.distinct(TaskUrge.instance_id)))
        .join(ProcessInstance, ProcessInstance.id == TaskUrge.instance_id)
        .where(*_case_conditions(actor, flt)).group_by(ProcessInstance.process_key))
    counted = sorted(rows)
    names = process_names(session) if counted else {}
    return [UrgeCount(key, names.get(key, key), int(total), int(applicant or 0), int(cases))
            for key, total, applicant, cases in counted]


# ---------------------------------------------------------------------- scope and names
def _scope(actor: Actor) -> list[str]:
    regions = supervised_regions(actor)
    if not regions:
        raise Forbidden("只有督办人员或系统管理员可以查看办件统计")
    return regions


def _conditions(actor: Actor, flt: StatisticsFilter, region: InstrumentedAttribute[str],
                received: InstrumentedAttribute[datetime],
                process: InstrumentedAttribute[str]) -> list[ColumnElement[bool]]:
    """The scope and the filter on the given columns (of process_instance or of human_task)."""
    if flt.date_from and flt.date_to and flt.date_to < flt.date_from:
        raise InvalidData(REVERSED_RANGE, fields={"to": [REVERSED_RANGE]})
    conditions = [region_condition(region, _scope(actor))]
    if flt.region_code:
        conditions.append(region_condition(region, [flt.region_code]))
    if flt.process_key:
        conditions.append(process == flt.process_key)
    if flt.date_from:
        conditions.append(received >= _day_start(flt.date_from))
    if flt.date_to:
        conditions.append(received < _day_start(flt.date_to + timedelta(days=1)))
    return conditions


def _day_start(day: date) -> datetime:
    """The naive UTC moment a China Standard Time day begins."""
    return datetime(day.year, day.month, day.day) - case_clock.CST


def _case_conditions(actor: Actor, flt: StatisticsFilter) -> list[ColumnElement[bool]]:
    return _conditions(actor, flt, ProcessInstance.region_code, ProcessInstance.started_at,
                       ProcessInstance.process_key)


def process_names(session: Session) -> dict[str, str]:
    """Process key → the name of its newest deployed version (the key when it has none), by key."""
    newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
              .group_by(ProcessDefinition.key).subquery())
    rows = session.execute(
        select(ProcessDefinition.key, ProcessDefinition.name)
        .join(newest, and_(ProcessDefinition.key == newest.c.key, ProcessDefinition.version == newest.c.version))
        .order_by(ProcessDefinition.key))
    return {key: name or key for key, name in rows}


def _region_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    wanted = set(codes)
    if not wanted:
        return {}
    rows = session.execute(select(Region.code, Region.name).where(Region.code.in_(wanted)))
    return {code: name for code, name in rows}


def _status_rank(code: str) -> tuple[int, str]:
    return _STATUS_ORDER.get(code, len(_STATUS_ORDER)), code


# ---------------------------------------------------------------------- counts (SQL)
def cases_by_status(session: Session, actor: Actor, flt: StatisticsFilter) -> list[ProcessStatuses]:
    """Cases per process and 办件状态, by process key."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for key, status, number in session.execute(
            select(ProcessInstance.process_key, ProcessInstance.case_status, func.count())
            .where(*_case_conditions(actor, flt))
            .group_by(ProcessInstance.process_key, ProcessInstance.case_status)):
        counts[key][status] = number
    names = process_names(session) if counts else {}
    return [ProcessStatuses(key, names.get(key, key), sum(by_status.values()),
                            [StatusCount(code, lifecycle.label(code), by_status[code])
                             for code in sorted(by_status, key=_status_rank)])
            for key, by_status in sorted(counts.items())]


def overdue_rates(session: Session, actor: Actor, flt: StatisticsFilter, now: datetime) -> OverdueRates:
    """超期率 per process, per region and in total (the module's docstring defines it): one GROUP BY
    process and region, folded here."""
    instance = ProcessInstance
    judged_at = case((instance.clock_state == case_clock.PAUSED, func.coalesce(instance.clock_paused_since, now)),
                     (instance.clock_state == case_clock.STOPPED, func.coalesce(instance.ended_at, now)),
                     else_=now)
    late = judged_at > instance.clock_due_at
    ended = instance.ended_at.is_not(None)
    rows = session.execute(
        select(instance.process_key, instance.region_code, func.count(),
               func.sum(case((and_(late, ended), 1), else_=0)), func.sum(case((and_(late, ~ended), 1), else_=0)))
        .where(*_case_conditions(actor, flt), instance.clock_state != "", instance.clock_due_at.is_not(None))
        .group_by(instance.process_key, instance.region_code))
    by_process: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    by_region: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    total = [0, 0, 0]
    for key, region, clocked, closed, still_open in rows:
        for sums in (by_process[key], by_region[region], total):
            sums[0] += clocked
            sums[1] += int(closed or 0)
            sums[2] += int(still_open or 0)
    names, regions = (process_names(session), _region_names(session, by_region)) if total[0] else ({}, {})
    return OverdueRates(
        process=[OverdueRate(key, names.get(key, key), *sums) for key, sums in sorted(by_process.items())],
        region=[OverdueRate(code, regions.get(code, code), *sums) for code, sums in sorted(by_region.items())],
        total=OverdueRate("", "合计", *total))


# ---------------------------------------------------------------------- durations (Python)
def _summary(values: list[int]) -> tuple[int, float, int]:
    """(count, average rounded to 0.01, nearest-rank P90: the ⌈0.9·n⌉-th smallest) of a non-empty list."""
    ordered = sorted(values)
    n = len(ordered)
    return n, round(sum(ordered) / n, 2), ordered[-(-9 * n // 10) - 1]


def handling_times(session: Session, actor: Actor, flt: StatisticsFilter) -> HandlingTime:
    """Handling time in working days per process and region (completed cases) and per step (completed
    tasks), over at most MAX_ROWS of the newest of each (the module's docstring defines it)."""
    days = cache(working_days_between)  # the same few (start day, end day) pairs recur across many rows
    by_process, by_region, cases_capped = _case_durations(session, actor, flt, days)
    steps, labels, steps_capped = _step_durations(session, actor, flt, days)
    names = process_names(session) if by_process or steps else {}
    regions = _region_names(session, by_region)
    return HandlingTime(
        process=[Duration(key, names.get(key, key), *_summary(v)) for key, v in sorted(by_process.items())],
        region=[Duration(code, regions.get(code, code), *_summary(v)) for code, v in sorted(by_region.items())],
        step=[StepDuration(key, names.get(key, key), step, labels[(key, step)], *_summary(v))
              for (key, step), v in sorted(steps.items())],
        capped=cases_capped or steps_capped, row_limit=MAX_ROWS)


def _case_durations(session: Session, actor: Actor, flt: StatisticsFilter, days: Callable[[date, date], int]
                    ) -> tuple[dict[str, list[int]], dict[str, list[int]], bool]:
    """Working days of the newest MAX_ROWS completed cases by process and by region, and whether
    there were more."""
    by_process: dict[str, list[int]] = defaultdict(list)
    by_region: dict[str, list[int]] = defaultdict(list)
    rows = session.execute(
        select(ProcessInstance.process_key, ProcessInstance.region_code, ProcessInstance.started_at,
               ProcessInstance.clock_started_at, ProcessInstance.ended_at, ProcessInstance.clock_paused_days)
        .where(*_case_conditions(actor, flt), ProcessInstance.status == InstanceStatus.COMPLETED,
               ProcessInstance.ended_at.is_not(None))
        .order_by(ProcessInstance.id.desc()).limit(MAX_ROWS + 1)
        .execution_options(yield_per=5000))
    for key, region, started_at, clock_started_at, ended_at, paused in islice(rows, MAX_ROWS):
        assert ended_at is not None  # the query's condition; narrows the type
        began = case_clock.local_day(clock_started_at or started_at)
        # max(): a pause lies inside the span it paused, so only inconsistent rows could go below 0
        worked = max(0, days(began, case_clock.local_day(ended_at)) - paused)
        by_process[key].append(worked)
        by_region[region].append(worked)
    return by_process, by_region, rows.first() is not None


def _step_durations(session: Session, actor: Actor, flt: StatisticsFilter, days: Callable[[date, date], int]
                    ) -> tuple[dict[tuple[str, str], list[int]], dict[tuple[str, str], str], bool]:
    """Working days of the newest MAX_ROWS completed tasks by (process, step), each step's newest
    label, and whether there were more."""
    steps: dict[tuple[str, str], list[int]] = defaultdict(list)
    labels: dict[tuple[str, str], str] = {}
    rows = session.execute(
        select(HumanTask.process_key, HumanTask.name, HumanTask.label, HumanTask.created_at, HumanTask.completed_at)
        .where(*_conditions(actor, flt, HumanTask.region_code, HumanTask.created_at, HumanTask.process_key),
               HumanTask.status == TaskStatus.COMPLETED, HumanTask.completed_at.is_not(None))
        .order_by(HumanTask.created_at.desc(), HumanTask.id.desc()).limit(MAX_ROWS + 1)
        .execution_options(yield_per=5000))
    for key, step, label, created_at, completed_at in islice(rows, MAX_ROWS):
        assert completed_at is not None  # the query's condition; narrows the type
        labels.setdefault((key, step), label)  # newest first: the step's current name
        steps[(key, step)].append(days(case_clock.local_day(created_at), case_clock.local_day(completed_at)))
    return steps, labels, rows.first() is not None


# ---------------------------------------------------------------------- export
STATUS_HEADERS = ["流程", "流程代码", "办件状态", "状态代码", "件数"]
OVERDUE_HEADERS = ["统计维度", "名称", "代码", "计时办件数", "超期办结", "超期未结", "超期件数", "超期率（%）"]
DURATION_HEADERS = ["统计维度", "名称", "代码", "件数", "平均工作日", "P90 工作日（最近秩）"]
URGE_HEADERS = ["流程", "流程代码", "催办次数", "申请人催办", "督办人员催办", "被催办件数"]
RATING_HEADERS = ["流程", "流程代码", "非常满意", "满意", "基本满意", "不满意", "非常不满意", "评价数", "差评率（%）"]


def workbook(stats: LifecycleStatistics) -> bytes:
    """One workbook, five sheets (办件状态, 超期率, 办理时长, 催办, 好差评), in Chinese; text that Excel would take
    for a formula is escaped (services.platform.spreadsheets)."""
    overdue, handling = stats.overdue_rate, stats.handling_time

    def rate_row(dimension: str, row: OverdueRate) -> list[Any]:
        percent = round(row.rate * 100, 2) if row.rate is not None else None
        return [dimension, row.name, row.key, row.clocked, row.overdue_closed, row.overdue_open, row.overdue, percent]

    durations: list[list[Any]] = [
        *(["流程", d.name, d.key, d.count, d.average, d.p90] for d in handling.process),
        *(["区划", d.name, d.key, d.count, d.average, d.p90] for d in handling.region),
        *(["环节", f"{s.process_name} / {s.label}", f"{s.process_key}/{s.step}", s.count, s.average, s.p90]
          for s in handling.step)]
    if handling.capped:
        durations.append([f"注：仅统计最新的 {handling.row_limit} 件办结办件和 {handling.row_limit} 个已办环节"])
    return sheets([
        ("办件状态", STATUS_HEADERS, [[row.process_name, row.process_key, s.label, s.status, s.count]
                                  for row in stats.by_status for s in row.statuses]),
        ("超期率", OVERDUE_HEADERS, [*(rate_row("流程", r) for r in overdue.process),
                                  *(rate_row("区划", r) for r in overdue.region), rate_row("合计", overdue.total)]),
        ("办理时长", DURATION_HEADERS, durations),
        ("催办", URGE_HEADERS, [[u.process_name, u.process_key, u.urges, u.by_applicant, u.urges - u.by_applicant,
                                u.cases] for u in stats.urges]),
        ("好差评", RATING_HEADERS, [[r.process_name, r.process_key, *(r.grades[g] for g in range(5, 0, -1)), r.total,
                                  round(r.poor_rate * 100, 2) if r.poor_rate is not None else None]
                                 for r in stats.ratings])])


def sheets(tables: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """A workbook of (title, headers, rows) sheets, each value escaped from being read as a formula."""
    book = Workbook(write_only=True)
    for title, headers, rows in tables:
        sheet = book.create_sheet(title)
        sheet.append(list(headers))
        for row in rows:
            sheet.append([escape(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
