"""人员信息管理 for the local clerk: add work history (overlaps refused), add an unfiled person (an
existing one refused), register an early retirement — bad input changes nothing."""
from __future__ import annotations

from datetime import date

from services.platform.demo_data import demo_id_number
from services.special_work.models import EarlyRetirement, Person, WorkHistory
from tests.web.test_query_pages import add_persons

HISTORY = {"enterprise_code": "110101000001", "work_type_code": "MT002"}


def histories(runtime, id_number: str) -> int:
    with runtime.unit_of_work() as uow:
        return uow.session.query(WorkHistory).join(Person).filter(Person.id_number == id_number).count()


def test_add_work_history_refuses_an_overlap(runtime, browser):
    number = add_persons(runtime, "110101", 1, "经历")[0]  # MT001 1995-01-01 … 2005-01-01
    clerk = browser("clerk")
    page = clerk.get(f"/register?id_number={number}").get_data(as_text=True)
    assert "经历01" in page and 'action="/register/histories"' in page
    overlap = clerk.post("/register/histories", {**HISTORY, "id_number": number, "start_date": "2004-01-01",
                                                 "end_date": "2006-01-01"})
    assert overlap.status_code == 400 and "时间重叠" in overlap.get_data(as_text=True)
    assert histories(runtime, number) == 1
    bad_date = clerk.post("/register/histories", {**HISTORY, "id_number": number, "start_date": "2006-13-01",
                                                  "end_date": "2008-01-01"})
    assert bad_date.status_code == 400 and "日期格式应为 YYYY-MM-DD" in bad_date.get_data(as_text=True)
    added = clerk.post("/register/histories", {**HISTORY, "id_number": number, "start_date": "2006-01-01",
                                               "end_date": "2008-01-01"}, follow_redirects=True)
    assert "已新增从业经历" in added.get_data(as_text=True) and histories(runtime, number) == 2


def test_unfiled_person_is_added_once(runtime, browser):
    number = demo_id_number("110101", date(1980, 5, 5), 21)
    clerk = browser("clerk")
    unknown = clerk.get(f"/register?id_number={number}")
    assert unknown.status_code == 404 and 'action="/register/unfiled"' in unknown.get_data(as_text=True)
    form = {**HISTORY, "id_number": number, "name": "新人", "gender": "male", "region_code": "110101",
            "start_date": "2001-01-01", "end_date": "2003-01-01"}
    wrong_gender = clerk.post("/register/unfiled", {**form, "gender": "female"})
    assert wrong_gender.status_code == 400 and "性别与公民身份号码不一致" in wrong_gender.get_data(as_text=True)
    assert histories(runtime, number) == 0
    added = clerk.post("/register/unfiled", form, follow_redirects=True)
    assert "已新增未备案人员 新人" in added.get_data(as_text=True) and histories(runtime, number) == 1
    again = clerk.post("/register/unfiled", form)
    assert again.status_code == 409 and "系统中已存在此人员" in again.get_data(as_text=True)


def test_early_retirement_registration(runtime, browser):
    number = add_persons(runtime, "110101", 1, "退休")[0]  # born 1970, 10 years underground
    clerk = browser("clerk")
    missing = clerk.post("/register/early-retirements", {"id_number": number, "nature": "",
                                                         "retirement_date": "2025-01-01"})
    assert missing.status_code == 400 and "此项为必填项" in missing.get_data(as_text=True)
    done = clerk.post("/register/early-retirements", {"id_number": number, "nature": "underground",
                                                      "retirement_date": "2025-01-01"}, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "已登记提前退休" in page and "待审批" in page
    again = clerk.post("/register/early-retirements", {"id_number": number, "nature": "underground",
                                                       "retirement_date": "2025-01-01"})
    assert again.status_code == 409 and "该人员有尚未办结的提前退休登记" in again.get_data(as_text=True)
    with runtime.unit_of_work() as uow:
        assert uow.session.query(EarlyRetirement).count() == 1


def test_only_clerks_maintain_the_register(runtime, browser):
    number = add_persons(runtime, "110101", 1, "外人")[0]
    assert browser("reviewer").get(f"/register?id_number={number}").status_code == 403
    foreign = browser("tj_clerk")
    assert foreign.get(f"/register?id_number={number}").status_code == 404
    response = foreign.post("/register/histories", {**HISTORY, "id_number": number, "start_date": "2006-01-01",
                                                    "end_date": "2008-01-01"})
    assert response.status_code == 403 and histories(runtime, number) == 1
