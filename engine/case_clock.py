"""The case clock (办件时限): the legal time limits of a case, counted in working days (行政许可法) or
in calendar days (信访条例: "日"), with pauses.

A process declares, as extension properties of its process element:

- ``statutoryLimit`` (法定时限) and/or ``promisedLimit`` (承诺时限), e.g. ``20 working days`` or
  ``60 days`` (both in the same unit);
- ``clockStartsAt``: the id of the step whose completion starts the clock (受理); without it the clock
  starts with the case;

and, on a user task, ``clock = pause``: while that step is open the clock stands still (补正: the
applicant corrects the material; 特别程序: a hearing, a test). Each day of a pause in the clock's
unit — the working days (or days) after the day it began, up to and including the day it ended, under
the statutory calendar with its make-up days — moves the due dates by one such day. A case that ends stops its
clock. The engine keeps the state in the instance row (``clock_*`` and the two due dates) and writes
``clock_started`` / ``clock_paused`` / ``clock_resumed`` to the history.

The level is read, never stored: 逾期 (overdue) past the due date (the promised one where declared),
预警 (warning) when at most ``WARNING_WORKING_DAYS`` working days are left, else 正常 (normal); a paused
clock is judged at the moment it stopped, a stopped one at the case's end.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

CST = timedelta(hours=8)  # working days are days in China; times are stored as naive UTC
WARNING_WORKING_DAYS = 2
RUNNING, PAUSED, STOPPED = "running", "paused", "stopped"
LEVELS = {"normal": "正常", "warning": "预警", "overdue": "逾期"}
STATES = {RUNNING: "计时中", PAUSED: "已暂停", STOPPED: "已停止"}

DueCalculator = Callable[[datetime, int, str], datetime]
WorkingDays = Callable[[date, date], int]  # working days after the first date up to the second


@dataclass(frozen=True)
class ClockRules:
    """What a process declares (see the module's docstring); ``pausing``: ``"<process>/<element>"``."""

    statutory: int | None = None  # in ``unit``
    promised: int | None = None
    starts_at: str | None = None  # element id
    pausing: frozenset[str] = frozenset()
    unit: str = "working_days"  # or "days" (calendar days)

    @property
    def declared(self) -> bool:
        return self.statutory is not None or self.promised is not None


def local_day(moment: datetime) -> date:
    return (moment + CST).date()


def rules_problems(properties: Mapping[str, str], parse_rule: Callable[[str], tuple[int, str]]) -> list[str]:
    """What is wrong with a process's clock properties (deploy-time check), in Chinese."""
    found = []
    units = set()
    for name in ("statutoryLimit", "promisedLimit"):
        if properties.get(name):
            try:
                amount, unit = parse_rule(properties[name])
            except ValueError as error:
                found.append(f"{name}：{error}")
                continue
            if unit not in ("working_days", "days"):
                found.append(f"{name} 须以工作日或日计（例如 “20 working days”、“60 days”）")
            units.add(unit)
    if len(units) > 1:
        found.append("statutoryLimit 与 promisedLimit 须使用同一计时单位")
    if properties.get("clockStartsAt") and not (properties.get("statutoryLimit") or properties.get("promisedLimit")):
        found.append("clockStartsAt 需要 statutoryLimit 或 promisedLimit")
    return found


def due_dates(rules: ClockRules, started_at: datetime, paused_days: int,
              due_calculator: DueCalculator) -> dict[str, datetime | None]:
    """The two due dates of a clock started at ``started_at`` that stood still ``paused_days``: the end
    of the limit's last working day in China (as naive UTC), counted from the day the clock started."""
    start_day = datetime.combine(local_day(started_at), time(12))

    def due(limit: int | None) -> datetime | None:
        if limit is None:
            return None
        last = due_calculator(start_day, limit + paused_days, rules.unit).date()
        return datetime.combine(last, time(23, 59, 59)) - CST

    statutory, promised = due(rules.statutory), due(rules.promised)
    return {"statutory_due_at": statutory, "promised_due_at": promised, "clock_due_at": promised or statutory}


def paused_between(rules: ClockRules, working_days: WorkingDays, since: datetime, until: datetime) -> int:
    """The days of a pause in the clock's unit: working days, or calendar days, after the day it began
    up to and including the day it ended."""
    if rules.unit == "days":
        return max((local_day(until) - local_day(since)).days, 0)
    return working_days(local_day(since), local_day(until))


def view(instance: Any, now: datetime, working_days: WorkingDays) -> dict[str, Any] | None:
    """The clock as the API gives it (``lifecycle.clock``), None for a case whose process declares none."""
    if not instance.clock_state:
        return None
    due = instance.clock_due_at
    at = {PAUSED: instance.clock_paused_since, STOPPED: instance.ended_at or now}.get(instance.clock_state, now)
    at = at or now
    left = working_days(local_day(at), local_day(due)) if due is not None else None
    level = "overdue" if due is not None and at > due else \
        "warning" if left is not None and left <= WARNING_WORKING_DAYS else "normal"
    paused = instance.clock_paused_days + (working_days(local_day(instance.clock_paused_since), local_day(now))
                                           if instance.clock_state == PAUSED and instance.clock_paused_since else 0)
    return {"state": instance.clock_state, "level": level, "due_at": due,
            "statutory_due_at": instance.statutory_due_at, "working_days_left": left, "paused_days": paused}


def warning_threshold(now: datetime, due_calculator: DueCalculator) -> datetime:
    """The end (in China) of the WARNING_WORKING_DAYS-th working day from today: a due date up to then is 预警."""
    last = due_calculator(datetime.combine(local_day(now), time(12)), WARNING_WORKING_DAYS, "working_days").date()
    return datetime.combine(last, time(23, 59, 59)) - CST


def level_condition(level: str, now: datetime, threshold: datetime) -> Any:
    """A SQL condition on ProcessInstance: cases whose clock is at ``level`` (normal / warning /
    overdue) at ``now``, or ``paused`` — what the lists filter by (index ``ix_instance_clock``)."""
    from sqlalchemy import and_

    from engine.models import ProcessInstance as Case

    if level == PAUSED:
        return Case.clock_state == PAUSED
    due = Case.clock_due_at
    running = Case.clock_state == RUNNING
    if level == "overdue":
        return and_(running, due < now)
    if level == "warning":
        return and_(running, due >= now, due <= threshold)
    return and_(running, due > threshold)
