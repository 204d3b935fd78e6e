"""校验 rules (seed 000, 4.1 step 5): each rule on its own, on real ID numbers."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from services.platform.demo_data import demo_id_number
from services.special_work import declarations
from services.special_work.models import WorkType

WORK_TYPES = {
    "MT001": WorkType(code="MT001", name="井下采煤工", industry="煤炭", nature="underground", active=True),
    "MT003": WorkType(code="MT003", name="瓦斯检查工", industry="煤炭", nature="toxic_hazardous", active=True),
    "MT009": WorkType(code="MT009", name="停用工种", industry="煤炭", nature="underground", active=False),
    "YJ001": WorkType(code="YJ001", name="炼钢工", industry="冶金", nature="high_temperature", active=True),
}


def declared(gender="male", birth=date(1975, 3, 1), histories=(("MT001", "1995-07-01", "2010-06-30"),), **overrides):
    serial = 11 if gender == "male" else 12
    body = {"id_number": demo_id_number("110101", birth, serial), "name": "张三", "gender": gender,
            "birth_date": birth,
            "work_histories": [{"work_type_code": c, "start_date": s, "end_date": e} for c, s, e in histories]}
    body.update(overrides)
    return SimpleNamespace(**body)


def problems(person, industry="煤炭"):
    return declarations.person_problems(person, WORK_TYPES, industry)


def test_a_plausible_person_has_no_problem():
    assert problems(declared()) == []
    assert problems(declared(gender="female", histories=(("MT003", "1995-07-01", "2010-06-30"),))) == []


def test_id_number_check_digit():
    assert problems(declared(id_number="110101197503010010")) == [("id_number", "公民身份号码校验位错误")]


def test_birth_date_and_gender_must_match_the_id_number():
    male_number = demo_id_number("110101", date(1975, 3, 1), 11)
    found = problems(declared(id_number=male_number, birth_date=date(1975, 3, 2), gender="female",
                              histories=(("MT003", "1995-07-01", "2010-06-30"),)))
    assert ("birth_date", "出生日期与公民身份号码不一致") in found
    assert ("gender", "性别与公民身份号码不一致") in found


def test_women_in_underground_work_are_implausible():
    assert problems(declared(gender="female")) == [
        ("work_histories[1].work_type_code", "第 1 段经历为井下工种，女职工不得从事矿山井下作业")]


def test_work_before_16_and_after_retirement_age_are_implausible():
    young = problems(declared(histories=(("MT001", "1990-01-01", "1995-01-01"),)))
    assert young == [("work_histories[1].start_date", "第 1 段经历开始时未满 16 周岁")]
    old = problems(declared(birth=date(1950, 1, 1), histories=(("MT001", "2005-01-01", "2011-01-01"),)))
    assert old == [("work_histories[1].end_date", "第 1 段经历结束时已超过法定退休年龄（60 周岁）")]
    woman = problems(declared(gender="female", birth=date(1950, 1, 1),
                              histories=(("MT003", "2000-01-01", "2006-01-01"),)))
    assert woman == [("work_histories[1].end_date", "第 1 段经历结束时已超过法定退休年龄（55 周岁）")]


def test_work_type_must_be_active_in_the_catalogue_of_the_enterprise_industry():
    assert problems(declared(histories=(("NOPE", "1995-07-01", "2000-01-01"),)))[0][1] == \
        "第 1 段经历的工种 NOPE 不在特殊工种名录中"
    assert problems(declared(histories=(("MT009", "1995-07-01", "2000-01-01"),)))[0][1] == \
        "第 1 段经历的工种 MT009 不在特殊工种名录中"
    assert problems(declared(histories=(("YJ001", "1995-07-01", "2000-01-01"),)))[0][1] == \
        "第 1 段经历的工种不属于本单位所属行业（煤炭）"


def test_periods_must_be_ordered_past_and_not_overlapping():
    reversed_period = problems(declared(histories=(("MT001", "2000-01-01", "1999-01-01"),)))
    assert ("work_histories[1].end_date", "第 1 段经历的结束日期早于开始日期") in reversed_period
    future = problems(declared(histories=(("MT001", "2000-01-01", "2999-01-01"),)))
    assert ("work_histories[1].end_date", "第 1 段经历的结束日期晚于今天") in future
    overlapping = problems(declared(histories=(("MT001", "1995-01-01", "2000-01-01"),
                                               ("MT003", "1999-06-01", "2003-01-01"))))
    assert overlapping == [("work_histories[2].start_date", "第 1 段与第 2 段经历时间重叠")]


def test_a_person_needs_a_history_and_a_name():
    found = problems(declared(name="", work_histories=[]))
    assert ("name", "姓名不能为空") in found and ("work_histories", "至少需要一段从业经历") in found


@pytest.mark.parametrize("birth", [date(1980, 2, 29)])
def test_leap_day_birthdays_are_handled(birth):
    assert problems(declared(birth=birth, histories=(("MT001", "1996-03-01", "2000-01-01"),))) == []
