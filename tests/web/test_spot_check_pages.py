"""抽查 screen: a provincial spot checker marks a work-history entry invalid (reason required) — it
then shows as 疑点数据 — and passes or fails an early-retirement registration."""
from __future__ import annotations

from datetime import date

import pytest

from services.special_work.models import EarlyRetirement, SpotCheck, WorkHistory
from tests.web.test_query_pages import add_persons


@pytest.fixture
def checked_person(runtime) -> tuple[str, int]:
    """(ID number, work-history id) of a person of 110101 in the register."""
    number = add_persons(runtime, "110101", 1, "抽查员")[0]
    with runtime.unit_of_work() as uow:
        return number, uow.session.query(WorkHistory.id).scalar()


def history(runtime, history_id: int) -> WorkHistory:
    with runtime.unit_of_work() as uow:
        return uow.session.get(WorkHistory, history_id)


def test_marking_an_entry_invalid_makes_it_suspicious(runtime, browser, checked_person):
    number, history_id = checked_person
    checker = browser("spot_checker")
    page = checker.get(f"/spot-checks?id_number={number}").get_data(as_text=True)
    assert "抽查员01" in page and f'action="/spot-checks/work-histories/{history_id}"' in page

    response = checker.post(f"/spot-checks/work-histories/{history_id}",
                            {"result": "fail", "note": "单位无此岗位", "id_number": number})
    assert response.status_code == 302
    page = checker.get(response.headers["Location"]).get_data(as_text=True)
    assert "已保存抽查结果：抽查不通过" in page and "疑点数据（无效）" in page and "单位无此岗位" in page
    row = history(runtime, history_id)
    assert row.suspicious and not row.valid
    suspicious = checker.get("/queries/suspicious-data").get_data(as_text=True)
    assert number in suspicious and "企业申报抽查无效的从业经历" in suspicious


def test_invalid_without_a_reason_is_refused_and_changes_nothing(runtime, browser, checked_person):
    number, history_id = checked_person
    response = browser("spot_checker").post(f"/spot-checks/work-histories/{history_id}",
                                            {"result": "fail", "note": " ", "id_number": number})
    assert response.status_code == 400
    assert "抽查不通过时请填写原因" in response.get_data(as_text=True)
    row = history(runtime, history_id)
    assert row.valid and not row.suspicious
    with runtime.unit_of_work() as uow:
        assert uow.session.query(SpotCheck).count() == 0


def test_unknown_person_is_reported_on_the_search_field(browser):
    response = browser("spot_checker").get("/spot-checks?id_number=110101197001010000")
    assert response.status_code == 404 and "库中没有此人员" in response.get_data(as_text=True)


def test_only_provincial_spot_checkers_use_the_screen(browser, checked_person):
    number, history_id = checked_person
    # the county checker does not even see a person of another county; the reviewer sees but may not check
    for user, status in (("county_spot_checker", 404), ("reviewer", 403)):
        b = browser(user)
        assert b.get(f"/spot-checks?id_number={number}").status_code == 403
        assert b.post(f"/spot-checks/work-histories/{history_id}",
                      {"result": "pass", "id_number": number}).status_code == status
    assert 'href="/spot-checks"' not in browser("reviewer").get("/").get_data(as_text=True)
    assert 'href="/spot-checks"' in browser("spot_checker").get("/").get_data(as_text=True)


def test_early_retirement_registration_spot_check(runtime, browser, checked_person):
    number, _history_id = checked_person
    with runtime.unit_of_work() as uow:
        person_id = uow.session.query(WorkHistory.person_id).scalar()
        registration = EarlyRetirement(person_id=person_id, id_number=number, name="抽查员01", region_code="110101",
                                       nature="underground", retirement_date=date(2025, 1, 1), status="approved",
                                       registered_by="clerk")
        uow.session.add(registration)
        uow.commit()
        registration_id = registration.id
    checker = browser("spot_checker")
    page = checker.get(f"/spot-checks?id_number={number}").get_data(as_text=True)
    assert f'action="/spot-checks/early-retirements/{registration_id}"' in page and "未抽查" in page
    refused = checker.post(f"/spot-checks/early-retirements/{registration_id}", {"result": "fail", "id_number": number})
    assert refused.status_code == 400 and "抽查不通过时请填写原因" in refused.get_data(as_text=True)
    done = checker.post(f"/spot-checks/early-retirements/{registration_id}",
                        {"result": "fail", "note": "年限材料不实", "id_number": number}, follow_redirects=True)
    assert "已保存抽查结果：抽查不通过" in done.get_data(as_text=True)
    with runtime.unit_of_work() as uow:
        row = uow.session.get(EarlyRetirement, registration_id)
        assert row.spot_check_result == "fail" and row.suspicious
