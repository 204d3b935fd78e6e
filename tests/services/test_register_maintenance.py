"""属地特殊工种管理 (seed 000, 5.1 and 5.2): direct additions to the register, audited."""
from __future__ import annotations

from datetime import date

import pytest

from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from services.platform import audit
from services.platform.demo_data import demo_id_number
from services.special_work import register
from tests.services.review_helpers import actor, in_register

NEW = register.PersonDetails("赵六", "male", "110101")


def history(start, end, work_type="MT001", enterprise="110101000001"):
    return register.HistoryInput(enterprise, work_type, start, end)


def test_unfiled_person_is_added_with_histories_and_audited(runtime):
    number = in_register(runtime, 1)
    with runtime.unit_of_work() as uow:
        person = register.get_person(uow.session, actor("clerk"), number)
        assert [(h.work_type_code, h.start_date) for h in register.histories_of(uow.session, person.id)] == [
            ("MT001", date(1995, 7, 1))]
        assert person.birth_date == date(1975, 3, 1)
        [entry] = audit.entries_for(uow.session, "person", number)
        assert (entry.action, entry.actor) == ("register.add_unfiled_person", "clerk")


def test_unfiled_person_refuses_one_who_exists(runtime):
    number = in_register(runtime, 2)
    with runtime.unit_of_work() as uow, pytest.raises(Conflict, match="已存在此人员"):
        register.add_unfiled_person(uow.session, actor("clerk"), number, NEW,
                                    [history(date(2011, 1, 1), date(2012, 1, 1))])


def test_unfiled_person_is_checked(runtime):
    with runtime.unit_of_work() as uow, pytest.raises(InvalidData) as refused:
        register.add_unfiled_person(uow.session, actor("clerk"), "110101197503010010",
                                    register.PersonDetails("", "female", "110101"),
                                    [history(date(2000, 1, 1), date(1999, 1, 1), work_type="YJ001")])
    fields = refused.value.fields
    assert fields["id_number"] == ["公民身份号码校验位错误"]
    assert fields["name"] == ["请填写姓名"]
    assert fields["work_histories[1]"] == ["工种不属于该单位所属行业（煤炭）", "结束日期早于开始日期"]


def test_more_histories_for_a_person_in_the_register(runtime):
    number = in_register(runtime, 3)
    with runtime.unit_of_work() as uow:
        with pytest.raises(InvalidData) as overlap:
            register.save_person_histories(uow.session, actor("clerk"), number,
                                           [history(date(2009, 1, 1), date(2012, 1, 1))])
        assert overlap.value.fields["work_histories[1]"] == ["与库中已有经历 1995-07-01～2010-06-30时间重叠"]
        register.save_person_histories(uow.session, actor("clerk"), number,
                                       [history(date(2011, 1, 1), date(2013, 12, 31), work_type="MT002")])
        uow.commit()
    with runtime.unit_of_work() as uow:
        person = register.find_person(uow.session, number)
        assert len(register.histories_of(uow.session, person.id)) == 2
        assert [e.action for e in audit.entries_for(uow.session, "person", number)] == [
            "register.add_unfiled_person", "register.add_work_histories"]


def test_person_management_creates_an_absent_person_only_with_details(runtime):
    number = demo_id_number("110101", date(1970, 1, 1), 21)
    with runtime.unit_of_work() as uow:
        with pytest.raises(InvalidData, match="系统中没有此人"):
            register.save_person_histories(uow.session, actor("clerk"), number,
                                           [history(date(1990, 1, 1), date(1999, 1, 1))])
        register.save_person_histories(uow.session, actor("clerk"), number,
                                       [history(date(1990, 1, 1), date(1999, 1, 1))], NEW)
        uow.commit()
    with runtime.unit_of_work() as uow:
        assert register.find_person(uow.session, number).name == "赵六"


def test_only_the_local_clerk_maintains_the_register(runtime):
    number = in_register(runtime, 4)
    with runtime.unit_of_work() as uow:
        with pytest.raises(Forbidden):
            register.save_person_histories(uow.session, actor("reviewer"), number,
                                           [history(date(2011, 1, 1), date(2012, 1, 1))])
        with pytest.raises(NotFound):
            register.get_person(uow.session, actor("tj_reviewer"), number)
