"""Working days (工作日) with the Chinese statutory holiday calendar and make-up working days.

The holiday data comes from the ``chinese-calendar`` package; a new year's calendar is a
dependency update. For a year the package does not know yet, Monday–Friday is assumed.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar

# What designers may call in expressions and scripts (``engine.scripting``), by import path: the
# script sandbox's fork server imports them itself.
SCRIPT_FUNCTIONS = {name: f"services.platform.calendar:{name}"
                    for name in ("is_working_day", "add_working_days", "working_days_between")}


# The package's own is_workday checks the year against min()/max() of its whole table on every call
# (75 µs a day: a helper call over 20,000 days took 1.5 s); the same rule over the same data, read once.
_HOLIDAYS = frozenset(chinese_calendar.holidays)
_MAKE_UP_DAYS = frozenset(chinese_calendar.workdays)
_KNOWN_YEARS = range(min(_HOLIDAYS).year, max(_HOLIDAYS).year + 1)


def is_working_day(day: date) -> bool:
    """A working day under the statutory calendar; Monday–Friday in a year the package does not know."""
    if isinstance(day, datetime):
        day = day.date()
    if day.year not in _KNOWN_YEARS:
        return day.weekday() < 5
    return day in _MAKE_UP_DAYS or (day.weekday() < 5 and day not in _HOLIDAYS)


MAX_SPAN_DAYS = 40_000  # about 110 years: designers' expressions call these helpers with any numbers


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (start itself not counted)."""
    if days > MAX_SPAN_DAYS // 2:
        raise ValueError(f"工作日数不能超过 {MAX_SPAN_DAYS // 2}")
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative when end < start)."""
    if end < start:
        return -working_days_between(end, start)
    if (end - start).days > MAX_SPAN_DAYS:
        raise ValueError(f"日期跨度不能超过 {MAX_SPAN_DAYS} 天")
    return sum(1 for n in range(1, (end - start).days + 1) if is_working_day(start + timedelta(days=n)))


CST = timedelta(hours=8)  # times are naive UTC; working days are China's


def due_at(start: datetime, amount: int, unit: str) -> datetime:
    """The engine's due rule: working days end at the close of the last working day in China (as
    naive UTC: 15:59:59 on that day) — counted from the day ``start`` falls on in China, so that a task
    received on a Wednesday evening with two working days is due on Friday, never on a Saturday."""
    if unit == "hours":
        return start + timedelta(hours=amount)
    if unit == "days":
        return start + timedelta(days=amount)
    last = add_working_days((start + CST).date(), amount)
    return datetime.combine(last, datetime.max.time()).replace(microsecond=0) - CST
