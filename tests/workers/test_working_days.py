"""Due dates in working days over real statutory holidays and their make-up working days."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from services.platform.calendar import add_working_days, is_working_day, working_days_between
from services.platform.reminders import due_soon_limit


@pytest.mark.parametrize(("start", "days", "due"), [
    # 2025 Spring Festival: 28 Jan – 4 Feb off; Sunday 26 Jan and Saturday 8 Feb are working days
    (date(2025, 1, 24), 1, date(2025, 1, 26)),
    (date(2025, 1, 27), 1, date(2025, 2, 5)),
    (date(2025, 1, 27), 5, date(2025, 2, 10)),
    # 2025 National Day + Mid-Autumn: 1–8 Oct off; Sunday 28 Sep and Saturday 11 Oct are working days
    (date(2025, 9, 26), 1, date(2025, 9, 28)),
    (date(2025, 9, 30), 1, date(2025, 10, 9)),
    (date(2025, 9, 30), 3, date(2025, 10, 11)),
    # 2026 Spring Festival: 15–23 Feb off; Saturdays 14 and 28 Feb are working days
    (date(2026, 2, 13), 1, date(2026, 2, 14)),
    (date(2026, 2, 13), 2, date(2026, 2, 24)),
    (date(2026, 2, 24), 4, date(2026, 2, 28)),
    # 2026 National Day: 1–7 Oct off; Sunday 20 Sep and Saturday 10 Oct are working days
    (date(2026, 9, 19), 1, date(2026, 9, 20)),
    (date(2026, 9, 30), 3, date(2026, 10, 10)),
])
def test_working_days_skip_holidays_and_count_make_up_days(start, days, due):
    assert add_working_days(start, days) == due


def test_twenty_working_days_over_the_2026_spring_festival():
    # 初审's statutory 20 working days, received the Monday before the holiday
    assert add_working_days(date(2026, 2, 9), 20) == date(2026, 3, 13)
    assert working_days_between(date(2026, 2, 9), date(2026, 3, 13)) == 20


def test_engine_due_date_is_the_end_of_the_last_working_day_in_china(runtime):
    due = runtime.engine.due_calculator(datetime(2025, 9, 30, 10, 0), 1, "working_days")  # 18:00 in China
    assert due == datetime(2025, 10, 9, 15, 59, 59)  # 23:59:59 China Standard Time
    assert not is_working_day(date(2025, 10, 8)) and is_working_day(date(2025, 10, 11))
    # received on a Wednesday evening in China (already Thursday there): two working days end on Monday
    late = runtime.engine.due_calculator(datetime(2026, 12, 2, 17, 0), 2, "working_days")
    assert late == datetime(2026, 12, 7, 15, 59, 59)


def test_due_soon_window_counts_working_days_not_calendar_days():
    # Friday before the 2025 Spring Festival: two working days ahead are Sunday 26 and Monday 27 Jan
    assert due_soon_limit(datetime(2025, 1, 24, 9, 0), 2) == datetime(2025, 1, 27, 23, 59, 59)
    # on the last day of the holiday the window reaches Thursday 6 Feb
    assert due_soon_limit(datetime(2025, 2, 4, 9, 0), 2) == datetime(2025, 2, 6, 23, 59, 59)
