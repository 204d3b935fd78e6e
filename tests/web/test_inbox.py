"""The inbox: lists, filters, search, claim / unclaim / delegate, batch decisions."""
from __future__ import annotations

import re
from html import unescape

from tests.conftest import person
from tests.web.conftest import ensure_user, invalid_person, open_task, submit


def keys_in(response) -> list[str]:
    return re.findall(r"(?:SC|ND)\d{14}\d{4}", response.get_data(as_text=True))


def test_inbox_lists_the_open_tasks_of_my_region_only(runtime, browser):
    case = submit(runtime)
    reviewer = browser("reviewer")
    page = reviewer.get("/inbox")
    assert page.status_code == 200
    assert case.batch_no in keys_in(page)
    assert "初审" in page.get_data(as_text=True)
    assert case.batch_no not in keys_in(browser("tj_reviewer").get("/inbox"))
    assert case.batch_no not in keys_in(browser("county_reviewer").get("/inbox"))  # 110105 ⊅ 110101


def test_search_by_business_key_and_by_person_id_number(runtime, browser):
    first = submit(runtime, [person(1)])
    second = submit(runtime, [person(2), person(3)])
    reviewer = browser("reviewer")
    assert set(keys_in(reviewer.get(f"/inbox?q={first.batch_no}"))) == {first.batch_no}
    id_number = person(3)["id_number"]
    assert set(keys_in(reviewer.get(f"/inbox?q={id_number}"))) == {second.batch_no}
    assert keys_in(reviewer.get("/inbox?q=110101199001011234")) == []


def test_filters_by_process_region_and_dates(runtime, browser):
    first = submit(runtime, kind="first")
    annual = submit(runtime, [person(2)], kind="annual")
    reviewer = browser("reviewer")
    assert set(keys_in(reviewer.get("/inbox?process_key=annual_declaration_review"))) == {annual.batch_no}
    assert set(keys_in(reviewer.get("/inbox?region_code=110101"))) == {first.batch_no, annual.batch_no}
    assert keys_in(reviewer.get("/inbox?region_code=110105")) == []
    assert keys_in(reviewer.get("/inbox?received_to=2000-01-01")) == []
    newest_first = keys_in(reviewer.get("/inbox?received_from=2000-01-01&sort=business_key&order=desc"))
    assert list(dict.fromkeys(newest_first)) == [first.batch_no, annual.batch_no]  # SC… sorts after ND…


def test_a_bad_filter_is_reported_not_fatal(runtime, browser):
    case = submit(runtime)
    page = browser("reviewer").get("/inbox?received_from=yesterday&region_code=11")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "日期格式应为 YYYY-MM-DD" in text and "区划代码应为 6 位数字" in text
    assert case.batch_no in keys_in(page)


def test_dates_are_shown_as_yyyy_mm_dd(runtime, browser):
    submit(runtime)
    text = browser("reviewer").get("/inbox").get_data(as_text=True)
    assert re.search(r'<td class="nowrap">\d{4}-\d{2}-\d{2}</td>', text)


def test_claim_unclaim_and_delegate_with_a_note(runtime, browser):
    case = submit(runtime)
    task = open_task(runtime, case.instance_id)
    reviewer = browser("reviewer")
    reviewer.get("/inbox")
    assert reviewer.post(f"/tasks/{task.id}/claim", {"back": "/inbox?scope=mine"}).headers["Location"] \
        == "/inbox?scope=mine"
    assert case.batch_no in keys_in(reviewer.get("/inbox?scope=mine"))
    other = browser("county_reviewer")
    assert other.post(f"/tasks/{task.id}/claim").status_code == 404  # 110105 does not see a 110101 case
    assert reviewer.post(f"/tasks/{task.id}/unclaim").status_code == 302
    assert open_task(runtime, case.instance_id).assignee is None
    response = reviewer.post(f"/tasks/{task.id}/delegate", {"to": "tj_reviewer", "note": "请协助"})
    assert response.status_code == 400  # tj_reviewer holds no role for 110101
    assert "不具备" in response.get_data(as_text=True)
    ensure_user(runtime, "colleague", "110101", ["reviewer"])
    response = reviewer.post(f"/tasks/{task.id}/delegate", {"to": "colleague", "note": "请协助审核"})
    assert response.status_code == 302
    assert open_task(runtime, case.instance_id).assignee == "colleague"
    mine = browser("colleague").get("/inbox?scope=mine")
    assert case.batch_no in keys_in(mine)
    case_page = reviewer.get(f"/cases/{case.instance_id}").get_data(as_text=True)
    assert "转交" in case_page and "请协助审核" in case_page


def test_batch_approval_completes_each_task_on_its_own(runtime, browser):
    cases = [submit(runtime, [person(n)]) for n in (1, 2, 3)]
    tasks = [open_task(runtime, c.instance_id).id for c in cases]
    reviewer = browser("reviewer")
    reviewer.get("/inbox")
    response = reviewer.client.post("/inbox/batch", data={"csrf_token": reviewer.token, "task_ids": tasks,
                                                          "decision": "approve", "conclusion": ""})
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "成功 3 件，失败 0 件" in text
    for c in cases:
        assert open_task(runtime, c.instance_id).name == "recheck"
    rechecker = browser("rechecker")
    assert {c.batch_no for c in cases} <= set(keys_in(rechecker.get("/inbox")))


def test_batch_partial_failure_reports_which_task_and_why(runtime, browser):
    good = submit(runtime, [person(1)])
    bad = submit(runtime, [invalid_person()])
    tasks = [open_task(runtime, c.instance_id).id for c in (good, bad)]
    reviewer = browser("reviewer")
    reviewer.get("/inbox")
    response = reviewer.client.post("/inbox/batch", data={"csrf_token": reviewer.token, "task_ids": tasks,
                                                          "decision": "approve"})
    text = response.get_data(as_text=True)
    assert "成功 1 件，失败 1 件" in text
    failed_row = re.search(r'<tr class="failed">(.*?)</tr>', text, re.S).group(1)
    assert bad.batch_no in failed_row and "校验未通过" in failed_row
    assert f'href="/tasks/{tasks[1]}"' in failed_row  # the failed task opens from the result
    assert open_task(runtime, good.instance_id).name == "recheck"
    assert open_task(runtime, bad.instance_id).name == "review"


def test_batch_rejection_needs_a_conclusion(runtime, browser):
    cases = [submit(runtime, [person(1)]), submit(runtime, [person(2)])]
    ids = [open_task(runtime, c.instance_id).id for c in cases]
    reviewer = browser("reviewer")
    reviewer.get("/inbox")
    response = reviewer.client.post("/inbox/batch", data={"csrf_token": reviewer.token, "task_ids": ids,
                                                          "back": "/inbox?scope=group", "decision": "reject",
                                                          "conclusion": ""})
    assert response.status_code == 302  # back to the list, the same tasks still ticked, the reason shown
    page = reviewer.get(response.headers["Location"]).get_data(as_text=True)
    assert "审核结论" in page and all(f'value="{task_id}" checked' in page for task_id in ids)
    assert [open_task(runtime, c.instance_id).name for c in cases] == ["review", "review"]  # nothing decided
    response = reviewer.client.post("/inbox/batch", data={"csrf_token": reviewer.token, "task_ids": ids,
                                                          "decision": "reject", "conclusion": "材料不全"})
    assert "成功 2 件，失败 0 件" in response.get_data(as_text=True)


def test_batch_refuses_tasks_of_different_steps(runtime, browser):
    ensure_user(runtime, "both_roles", "110000", ["reviewer", "rechecker"])
    first, second = submit(runtime, [person(1)]), submit(runtime, [person(2)])
    user = browser("both_roles")
    user.post(f"/tasks/{open_task(runtime, first.instance_id).id}", {"decision": "approve"})
    ids = [open_task(runtime, first.instance_id).id, open_task(runtime, second.instance_id).id]
    response = user.client.post("/inbox/batch", data={"csrf_token": user.token, "task_ids": ids,
                                                      "decision": "approve"})
    assert response.status_code == 302 and "同一环节" in user.get(response.headers["Location"]).get_data(as_text=True)
    assert open_task(runtime, second.instance_id).name == "review"


def test_batch_reports_a_task_outside_my_region(runtime, browser):
    mine, foreign = submit(runtime, [person(1)]), submit(runtime, [person(2)])
    ids = [open_task(runtime, c.instance_id).id for c in (mine, foreign)]
    county = browser("county_reviewer")  # 110105: neither task is visible
    county.get("/inbox")
    response = county.client.post("/inbox/batch", data={"csrf_token": county.token, "task_ids": ids[:1],
                                                        "decision": "approve"})
    text = response.get_data(as_text=True)
    assert "成功 0 件，失败 1 件" in text and "不在您的管辖范围内" in text
    assert mine.batch_no not in text  # not even the business key leaks
    assert open_task(runtime, mine.instance_id).name == "review"


def test_pagination_keeps_the_filters(runtime, browser):
    cases = [submit(runtime, [person(n)]) for n in range(1, 22)]
    reviewer = browser("reviewer")
    first = reviewer.get("/inbox?sort=business_key&region_code=110101")
    text = first.get_data(as_text=True)
    assert "共 21 件" in text and "第 1 / 2 页" in text
    next_link = unescape(re.search(r'href="([^"]+)" rel="next"', text).group(1))
    assert "page=2" in next_link and "region_code=110101" in next_link and "sort=business_key" in next_link
    second = reviewer.get("/inbox?sort=business_key&region_code=110101&page=2")
    assert list(dict.fromkeys(keys_in(second))) == [max(c.batch_no for c in cases)]


def test_the_region_filter_offers_only_the_users_regions(runtime, browser):
    page = browser("reviewer").get("/inbox").get_data(as_text=True)  # a 北京 reviewer
    assert 'value="110101"' in page and 'value="120101"' not in page and 'value="120000"' not in page
